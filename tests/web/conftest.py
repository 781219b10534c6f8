"""The dashboard on a test ledger without background work, bare, seeded, or over real stores."""

from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from web_support import (
    UCON_PASSWORD,
    Archive,
    ArchiveSetup,
    MakeClient,
    ledger,
    seed_every_state,
    web_settings,
)

from app.demo import DEMO_SCHEMA
from app.main import create_app
from app.runrecords.sample import write_sample_records
from app.ucondb_server.runner import serve_in_background
from app.ucondb_server.state import make_state
from tests.support import started_apps


@pytest.fixture
def make_client(tmp_path: Path, db_url: str) -> Iterator[MakeClient]:
    """Start the app (lifespan: migrations) with the given settings; stopped after the test."""
    with started_apps(partial(web_settings, tmp_path, db_url)) as start:
        yield start


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    return make_client()


@pytest.fixture
def seeded(client: TestClient) -> TestClient:
    seed_every_state(ledger(client))
    return client


@pytest.fixture
def archive_setup(tmp_path: Path, db_url: str) -> Iterator[ArchiveSetup]:
    """Four finished sample runs and one still running; nothing archived yet (the UconDB
    stand-in is a test double: the real server cannot run here)."""
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "schema.fcl").write_text(DEMO_SCHEMA)
    runs = write_sample_records(tmp_path / "records", runs=5, running=1, seed=11)
    state = make_state(folders=["run_records"], users={"writer": UCON_PASSWORD}, seed=5)
    with serve_in_background(state) as server:
        settings = web_settings(
            tmp_path, db_url, ucon_url=server.base_url, scanner={"settle_seconds": 0}
        )
        yield ArchiveSetup(settings, runs, server)


@pytest.fixture
def archive(archive_setup: ArchiveSetup) -> Iterator[Archive]:
    with TestClient(create_app(archive_setup.settings, background=False)) as client:
        yield Archive(client, archive_setup.runs)
