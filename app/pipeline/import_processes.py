"""Import attempts in worker processes: FHiCL parsing and conversion are CPU-bound Python, so
threads of one process share one core while processes use them all.

Each worker builds its own `StoreContext` from the settings. Only the claim goes in and only the
outcome (or a `StageFailure`) comes back, with the operation timings the worker observed, so a
run's conversions never cross processes and a worker that dies fails only its own attempt.
"""

import gc
import logging
import multiprocessing
import multiprocessing.connection
import os
import shutil
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from app.allocator import return_large_buffers
from app.config import Settings
from app.metrics.prometheus import collected_operations, observe_operation
from app.pipeline.attempts import Claim, StageFailure, StageOutcome
from app.pipeline.store_context import StoreContext
from app.staging import remove_orphans, staging_directory
from app.vocabulary import ErrorKind

log = logging.getLogger(__name__)

Work = Callable[[StoreContext, Claim], StageOutcome]
_Result = tuple[StageOutcome | StageFailure, list[tuple[str, float]]]

_context: StoreContext | None = None


def _start_worker(settings: Settings, shared: Path) -> None:
    """Worker initializer; the parent alone decides when work stops (Ctrl-C, SIGTERM), and a
    worker whose parent died (kill -9, OOM) exits instead of waiting for work forever."""
    global _context
    return_large_buffers()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    watch = threading.Thread(
        target=_exit_with_parent, args=(shared,), name="rra-parent-watch", daemon=True
    )
    watch.start()
    _context = StoreContext(settings, shared_conversions=shared)
    gc.freeze()  # what was imported lives as long as the worker: no collection needs to scan it


def _exit_with_parent(shared: Path) -> None:
    """Exit once the parent is gone, removing the conversions it could not clean up itself."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        multiprocessing.connection.wait([parent.sentinel])
        shutil.rmtree(shared, ignore_errors=True)
        os._exit(0)


def _attempt(work: Work, claim: Claim) -> _Result:
    """Run one attempt in a worker; every error comes back as a StageFailure (picklable)."""
    assert _context is not None, "worker process not initialised"
    # A conversion allocates millions of short-lived acyclic objects; with the collector on,
    # every few hundred allocations rescan those still alive, which only costs CPU here.
    gc.disable()
    with collected_operations() as observed:
        try:
            outcome: StageOutcome | StageFailure = work(_context, claim)
        except StageFailure as failure:
            outcome = failure
        except Exception as exc:  # an unexpected error fails only this run
            log.exception("internal error while processing run %s", claim.run)
            outcome = StageFailure(
                ErrorKind.INTERNAL, f"internal error: {type(exc).__name__}: {exc}"
            )
        finally:
            gc.enable()
            gc.collect()  # whatever cycles the attempt left
    return outcome, observed


class ImportProcesses:
    """A pool of `workers` processes (spawned: the service's threads must not be forked) that
    share their conversions through a private directory in the staging area."""

    def __init__(self, settings: Settings, workers: int) -> None:
        self._settings = settings
        self._workers = workers
        assert settings.pipeline.staging_dir is not None
        remove_orphans(settings.pipeline.staging_dir)
        self._shared = staging_directory(settings.pipeline.staging_dir, "conversions")
        self._lock = threading.Lock()
        self._pool = self._new_pool()

    @property
    def shared_conversions(self) -> Path:
        """The directory of the conversions the workers share (removed by `close`)."""
        return Path(self._shared.name)

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self._workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(self._settings, self.shared_conversions),
        )

    def run(self, work: Work, claim: Claim) -> StageOutcome:
        """`work(context, claim)` in a worker process; its outcome, or its failure raised here."""
        with self._lock:
            pool = self._pool
        try:
            outcome, observed = pool.submit(_attempt, work, claim).result()
        except BrokenProcessPool:
            with self._lock:
                if self._pool is pool:
                    self._pool = self._new_pool()
                    pool.shutdown(wait=False, cancel_futures=True)
            raise StageFailure(
                ErrorKind.INTERNAL,
                f"run {claim.run}: the import worker process died (killed or out of memory)",
            ) from None
        for name, seconds in observed:
            observe_operation(name, seconds)
        if isinstance(outcome, StageFailure):
            raise outcome
        return outcome

    def close(self) -> None:
        """Stop the workers after their current attempts, then drop their shared conversions."""
        with self._lock:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._shared.cleanup()
