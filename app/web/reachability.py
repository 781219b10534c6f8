"""Can the service reach its three sources right now? Each check runs in its own daemon thread,
at most one at a time per source, and its answer is reused for a while: a dashboard polled by
ten browsers never sends more than one probe per source, and a hung store never hangs a page.
"""

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from app.redact import redact
from app.timeutil import utcnow

Check = Callable[[], str]


@dataclass(frozen=True)
class Probe:
    """The latest answer of one source: ok True/False, or None while the first check runs."""

    name: str
    ok: bool | None
    detail: str
    checked_at: datetime | None = None
    elapsed_ms: float | None = None


@dataclass
class _Pending:
    done: threading.Event
    started: float


class Reachability:
    """Cached, non-blocking reachability checks of named sources."""

    def __init__(
        self,
        checks: dict[str, Check],
        *,
        timeout_seconds: float = 3.0,
        max_age_seconds: float = 30.0,
        secrets: list[str | None] | None = None,
    ) -> None:
        self._checks = checks
        self._timeout = timeout_seconds
        self._max_age = max_age_seconds
        self._secrets = secrets or []
        self._lock = threading.Lock()
        self._results: dict[str, tuple[Probe, float]] = {}
        self._pending: dict[str, _Pending] = {}

    def _run(self, name: str, pending: _Pending) -> None:
        try:
            detail, ok = self._checks[name](), True
        except Exception as exc:  # any failure of a source is its answer, shown to operators
            detail, ok = redact(f"{type(exc).__name__}: {exc}", self._secrets), False
        elapsed = time.monotonic() - pending.started
        probe = Probe(name, ok, detail, utcnow(), round(elapsed * 1000, 1))
        with self._lock:
            self._results[name] = (probe, time.monotonic())
            self._pending.pop(name, None)
        pending.done.set()

    def _start_stale(self, now: float) -> None:
        for name in self._checks:
            result = self._results.get(name)
            fresh = result is not None and now - result[1] < self._max_age
            if fresh or name in self._pending:
                continue
            pending = _Pending(threading.Event(), now)
            self._pending[name] = pending
            threading.Thread(
                target=self._run, args=(name, pending), daemon=True, name=f"rra-probe-{name}"
            ).start()

    def snapshot(self, *, wait_seconds: float = 0.0) -> list[Probe]:
        """Every source's latest answer; stale ones are re-checked, waiting up to
        `wait_seconds` for them, then a source that has not answered says so."""
        with self._lock:
            self._start_stale(time.monotonic())
            waiting = list(self._pending.values())
        deadline = time.monotonic() + wait_seconds
        for pending in waiting:
            pending.done.wait(max(0.0, deadline - time.monotonic()))
        now = time.monotonic()
        probes = []
        with self._lock:
            for name in self._checks:
                result, pending = self._results.get(name), self._pending.get(name)
                if pending is not None and now - pending.started >= self._timeout:
                    probes.append(
                        Probe(name, False, f"no answer within {self._timeout:g} s (still trying)")
                    )
                elif result is not None:
                    probes.append(result[0])
                else:
                    probes.append(Probe(name, None, "checking…"))
        return probes


def directory_check(path: Path) -> Check:
    """A check that `path` is a directory the service may list."""

    def check() -> str:
        if not path.is_dir():
            raise FileNotFoundError(f"{path} is not a directory")
        if not os.access(path, os.R_OK | os.X_OK):
            raise PermissionError(f"{path} is not readable by the service")
        return "directory readable"

    return check
