"""Carbon (Graphite) plaintext metrics with the legacy names (spec/legacy.md §10).

One TCP connection per metric, 2 s timeout, failures only logged. Lines are sent from one
background thread so a slow or dead Carbon server never delays a pipeline worker; the queue is
bounded and flushed (for a bounded time) when the process exits.
"""

import atexit
import logging
import queue
import socket
import threading
import time
from dataclasses import dataclass

from app.config import CarbonSection, Settings
from app.vocabulary import Stage

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 2.0
QUEUE_LIMIT = 10_000
EXIT_FLUSH_SECONDS = 5.0


@dataclass(frozen=True)
class CarbonTarget:
    """Where metrics go and the prefix every path gets."""

    host: str
    port: int
    prefix: str


def carbon_target(source: Settings | CarbonSection | None) -> CarbonTarget | None:
    """The configured Carbon server, or None when Carbon is disabled."""
    section = source.carbon if isinstance(source, Settings) else source
    if section is None or not section.enabled or not section.host or not section.metric_prefix:
        return None
    return CarbonTarget(section.host, section.port, section.metric_prefix)


def format_line(prefix: str, path: str, value: float, when: float) -> str:
    """One plaintext-protocol line: `<prefix>.<path> <value> <unix seconds>\\n`."""
    return f"{prefix}.{path} {value} {int(when)}\n"


def send_line(host: str, port: int, line: str, *, timeout: float = TIMEOUT_SECONDS) -> bool:
    """Send one line over its own connection; a failure is logged and returns False."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as connection:
            connection.sendall(line.encode("utf-8"))
    except OSError as exc:
        log.warning(
            "carbon %s:%d: metric %s not sent: %s",
            host,
            port,
            line.split(" ", 1)[0],
            exc.strerror or type(exc).__name__,
        )
        return False
    return True


_Item = tuple[str, int, str] | threading.Event


class _Sender:
    """A bounded queue drained by one daemon thread; state (queue, thread) demands a class."""

    def __init__(self, limit: int) -> None:
        self._queue: queue.Queue[_Item] = queue.Queue(limit)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._dropped = 0

    def submit(self, host: str, port: int, line: str) -> None:
        self._ensure_thread()
        try:
            self._queue.put_nowait((host, port, line))
        except queue.Full:
            self._dropped += 1
            if self._dropped == 1 or self._dropped % 1000 == 0:
                log.warning("carbon queue full; %d metrics dropped so far", self._dropped)

    def flush(self, timeout: float) -> bool:
        if self._thread is None:
            return True
        marker = threading.Event()
        try:
            self._queue.put(marker, timeout=timeout)
        except queue.Full:
            return False
        return marker.wait(timeout)

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            if self._thread is None:
                atexit.register(self.flush, EXIT_FLUSH_SECONDS)
            self._thread = threading.Thread(target=self._run, name="rra-carbon", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if isinstance(item, threading.Event):
                item.set()
                continue
            try:
                send_line(*item)
            except Exception:  # the sender thread must outlive any single bad metric
                log.exception("carbon: unexpected error sending a metric")


_SENDER = _Sender(QUEUE_LIMIT)


def emit(target: CarbonTarget, path: str, value: float, *, when: float | None = None) -> str:
    """Queue one metric for sending; returns the line."""
    line = format_line(target.prefix, path, value, time.time() if when is None else when)
    _SENDER.submit(target.host, target.port, line)
    return line


def flush(timeout: float = EXIT_FLUSH_SECONDS) -> bool:
    """Wait until every metric queued so far was sent (or failed); False on timeout."""
    return _SENDER.flush(timeout)


def send_batch_metrics(
    settings: Settings | CarbonSection | None,
    stage: Stage | str,
    processed: int,
    successful: int,
    last_successful_run: int | None,
    *,
    when: float | None = None,
) -> list[str]:
    """Queue the per-batch metrics (`migrate.runs_processed`, … or `import.…`); returns the
    lines, none when Carbon is disabled. `last_successful_run` is sent only if a run succeeded."""
    target = carbon_target(settings)
    if target is None:
        return []
    when = time.time() if when is None else when
    name = Stage(stage).value
    figures: list[tuple[str, float]] = [
        ("runs_processed", processed),
        ("runs_successful", successful),
        ("runs_failed", processed - successful),
    ]
    if successful > 0 and last_successful_run is not None:
        figures.append(("last_successful_run", last_successful_run))
    return [emit(target, f"{name}.{path}", value, when=when) for path, value in figures]
