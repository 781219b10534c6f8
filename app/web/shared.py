"""Objects the dashboard keeps per application (probes, the overview snapshot), created on
first use and shared by every request afterwards."""

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from fastapi import Request

T = TypeVar("T")
_CREATE = threading.Lock()


def per_app(request: Request, name: str, factory: Callable[[], T]) -> T:
    """The application's object `name`, made by `factory` the first time it is asked for."""
    with _CREATE:
        found = getattr(request.app.state, name, None)
        if found is None:
            found = factory()
            setattr(request.app.state, name, found)
    return found


class Snapshot(Generic[T]):
    """A value recomputed at most once per `ttl_seconds`, however many requests ask at once
    (the others wait for the one computing it), so ten wall screens polling cost one query."""

    def __init__(self, ttl_seconds: float) -> None:
        self._ttl = ttl_seconds
        self._lock = threading.Lock()
        self._value: T | None = None
        self._at = 0.0

    def get(self, compute: Callable[[], T]) -> T:
        """The current value, recomputed first when older than the TTL."""
        with self._lock:
            now = time.monotonic()
            if self._value is None or now - self._at >= self._ttl:
                self._value = compute()
                self._at = time.monotonic()
            return self._value
