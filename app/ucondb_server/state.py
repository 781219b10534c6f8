"""Run-time state of the UconDB stand-in that tests script: faults, read-only flag, request log.

Fault injection is test-only and not part of the real API. A fault fires on matching requests
(endpoint, method, key), at most `times` times, each time with probability `rate`.
"""

import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from app.ucondb_server.digest import Credentials
from app.ucondb_server.store import UconStore

DEFAULT_MAX_BODY_BYTES = 256 * 1024 * 1024
STALL_SECONDS = 3600.0
ACTIONS = frozenset(
    {
        "delay",  # sleep `seconds` before handling (uploads: after authentication, before storing)
        "stall",  # hang before handling, until the server stops
        "error",  # answer `status` before handling (uploads: after authentication, nothing stored)
        "drop_after_store",  # uploads: store, then close the connection without an answer
        "delay_after_store",  # uploads: store, then sleep `seconds` before answering
        "truncate",  # GET /data: send only the first half of the blob, then end normally
        "reject_auth",  # uploads: 401 without a challenge, whatever the credentials
    }
)


@dataclass
class Fault:
    """One scripted misbehaviour."""

    action: str
    endpoint: str | None = None
    method: str | None = None
    key: str | None = None
    times: int | None = None
    rate: float = 1.0
    seconds: float = 0.0
    status: int = 500

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown fault action {self.action!r}; one of {sorted(ACTIONS)}")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"fault rate {self.rate} is not between 0 and 1")

    def matches(self, endpoint: str, method: str, key: str | None) -> bool:
        """Whether this fault applies to the request."""
        return (
            (self.endpoint is None or self.endpoint == endpoint)
            and (self.method is None or self.method == method)
            and (self.key is None or self.key == key)
            and (self.times is None or self.times > 0)
        )


@dataclass
class RecordedRequest:
    """What the stand-in received, in arrival order; `status` stays None until (unless) answered.

    Tests use it to assert, for example, that a body was never blindly re-sent.
    """

    method: str
    endpoint: str
    path: str
    query: str
    body_size: int
    authenticated: bool
    digest_uri: str | None = None
    status: int | None = None

    @property
    def body_received(self) -> bool:
        """Whether the request carried a body."""
        return self.body_size > 0

    @property
    def target(self) -> str:
        """The request target as sent (what a Digest `uri` field should equal)."""
        return f"{self.path}?{self.query}" if self.query else self.path


@dataclass
class ServerState:
    """Storage, credentials and everything a test may change while the server runs."""

    store: UconStore
    credentials: Credentials
    read_only: bool = False
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    faults: list[Fault] = field(default_factory=list)
    seed: int | None = None

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._random = random.Random(self.seed)  # noqa: S311 (fault dice and shuffles only)

    def add_fault(self, fault: Fault) -> None:
        """Script a fault."""
        with self._lock:
            self.faults.append(fault)

    def clear_faults(self) -> None:
        """Stop misbehaving."""
        with self._lock:
            self.faults.clear()

    def take(self, action: str, endpoint: str, method: str, key: str | None) -> Fault | None:
        """The first matching fault of this action that fires now, counting it down."""
        with self._lock:
            for fault in self.faults:
                if fault.action == action and fault.matches(endpoint, method, key):
                    if self._random.random() >= fault.rate:
                        continue
                    if fault.times is not None:
                        fault.times -= 1
                    return fault
        return None

    def shuffle(self, items: list[Any]) -> None:
        """Shuffle lookup answers: the real server does not guarantee their order."""
        with self._lock:
            self._random.shuffle(items)

    def record(self, request: RecordedRequest) -> None:
        """Append to the request log (on arrival; the handler fills in the outcome)."""
        with self._lock:
            self._requests.append(request)

    def requests(self, endpoint: str | None = None) -> list[RecordedRequest]:
        """A snapshot of the request log, optionally for one endpoint."""
        with self._lock:
            return [r for r in self._requests if endpoint is None or r.endpoint == endpoint]

    def clear_requests(self) -> None:
        """Forget the request log."""
        with self._lock:
            self._requests.clear()

    def requests_json(self) -> list[dict[str, Any]]:
        """The request log as JSON-ready dicts (for the control endpoint)."""
        return [asdict(r) | {"target": r.target} for r in self.requests()]

    def seed_version(
        self,
        folder: str,
        obj: str,
        data: bytes,
        *,
        key: str | None,
        tags: Iterable[str] = (),
        tv: float = 0.0,
    ) -> dict[str, Any]:
        """Store a version directly (no HTTP, no auth): pre-existing content for a test."""
        fq = self.store.qualify(folder)
        return self.store.insert(fq, obj, data, key=key, tags=list(tags), tv=tv, override=False)

    def corrupt(self, folder: str, obj: str, key: str, data: bytes) -> None:
        """Make the stored bytes of a key disagree with its size and Adler-32."""
        self.store.replace_blob_bytes(self.store.qualify(folder), obj, key, data)


def make_state(
    *,
    data_path: str | Path = ":memory:",
    namespace: str = "ucon_test",
    folders: Iterable[str] = ("run_records",),
    users: Mapping[str, str] | None = None,
    credentials: Credentials | None = None,
    read_only: bool = False,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    faults: Iterable[Fault] = (),
    seed: int | None = None,
) -> ServerState:
    """A state with its own store; `users` become the `*` credential table (any folder)."""
    store = UconStore(data_path, namespace=namespace, folders=folders)
    table: Credentials = dict(credentials or {})
    if users:
        table = {**table, "*": dict(users)}
    return ServerState(store, table, read_only, max_body_bytes, list(faults), seed)


def startup_faults(
    *,
    delay_seconds: float = 0.0,
    error_rate: float = 0.0,
    error_status: int = 500,
    drop_rate: float = 0.0,
    truncate_rate: float = 0.0,
    stall_rate: float = 0.0,
) -> list[Fault]:
    """Faults for every matching request from start-up options (all off by default)."""
    faults = []
    if delay_seconds > 0:
        faults.append(Fault("delay", seconds=delay_seconds))
    if error_rate > 0:
        faults.append(Fault("error", rate=error_rate, status=error_status))
    if drop_rate > 0:
        faults.append(Fault("drop_after_store", rate=drop_rate))
    if truncate_rate > 0:
        faults.append(Fault("truncate", rate=truncate_rate))
    if stall_rate > 0:
        faults.append(Fault("stall", rate=stall_rate))
    return faults
