"""A UconDB stand-in per test on an ephemeral loopback port, and a client configured for it."""

from collections.abc import Iterator

import httpx
import pytest

from app.stores.ucondb import UconDBClient
from app.ucondb_server import RunningServer, make_state, serve_in_background

USER = "archiver"
PASSWORD = "pw-Zq9-never-shown"
MAX_BODY = 4 * 1024 * 1024


@pytest.fixture
def ucon() -> Iterator[RunningServer]:
    """Folders run_records and other_folder in namespace ucon_test; one `*` user."""
    state = make_state(
        folders=("run_records", "other_folder"),
        users={USER: PASSWORD},
        max_body_bytes=MAX_BODY,
        seed=7,
    )
    with serve_in_background(state) as server:
        yield server
    state.store.close()


@pytest.fixture
def client(ucon: RunningServer) -> Iterator[UconDBClient]:
    """Short timeouts and backoff so fault tests stay fast."""
    with UconDBClient(
        ucon.base_url,
        "run_records",
        user=USER,
        password=PASSWORD,
        timeout_seconds=0.5,
        connect_timeout_seconds=1.0,
        attempts=3,
        backoff_seconds=0.01,
    ) as c:
        yield c


@pytest.fixture
def http(ucon: RunningServer) -> Iterator[httpx.Client]:
    """A plain client on the stand-in's base URL, for protocol conformance checks."""
    with httpx.Client(base_url=ucon.base_url, timeout=5.0) as c:
        yield c


@pytest.fixture
def credentials() -> tuple[str, str]:
    """The stand-in's upload user and password."""
    return USER, PASSWORD


@pytest.fixture
def auth(credentials: tuple[str, str]) -> httpx.DigestAuth:
    """Valid Digest credentials for uploads to run_records (one Digest state per folder)."""
    return httpx.DigestAuth(*credentials)
