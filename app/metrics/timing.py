"""Timing of store operations for both Prometheus and the legacy Carbon `…duration_ms` paths."""

import time
from collections.abc import Iterator
from contextlib import contextmanager

from app.config import CarbonSection, Settings
from app.metrics.carbon import carbon_target, emit
from app.metrics.prometheus import observe_operation


@contextmanager
def timed(source: Settings | CarbonSection | None, operation: str) -> Iterator[None]:
    """Time the enclosed call (context manager or decorator), whether it succeeds or raises.

    `operation` is the legacy name, e.g. `ArtdaqDBClient.archive_run`: it labels the
    Prometheus latency histogram and, when Carbon is enabled, `<operation>.duration_ms` is sent.
    """
    started = time.perf_counter()
    try:
        yield
    finally:
        seconds = time.perf_counter() - started
        observe_operation(operation, seconds)
        target = carbon_target(source)
        if target is not None:
            emit(target, f"{operation}.duration_ms", seconds * 1000)
