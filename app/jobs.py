"""Jobs: requested units of work (scan, import, migrate, run, reconcile, retry-failed).

A job is a ledger row with live progress; `JobRunner` executes queued jobs in background
threads. Two jobs touching the same stage never run at once.
"""

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.db import session_scope
from app.models import Job, JobState
from app.timeutil import utcnow

log = logging.getLogger(__name__)

JOB_STAGES: dict[str, frozenset[str]] = {
    "scan": frozenset({"scan"}),
    "import": frozenset({"scan", "import"}),
    "migrate": frozenset({"migrate"}),
    "run": frozenset({"scan", "import", "migrate"}),
    "retry-failed": frozenset({"import", "migrate"}),
    "reconcile": frozenset({"reconcile"}),
}
ACTIVE = (JobState.QUEUED, JobState.RUNNING)


class JobConflictError(Exception):
    """A job for the same stage is already queued or running."""

    def __init__(self, job: Job) -> None:
        super().__init__(f"job {job.id} ({job.kind}) is already {job.state.value} for that stage")
        self.job_id = job.id


def submit(session: Session, kind: str, params: dict[str, Any], requested_by: str) -> Job:
    """Queue a job unless one touching the same stages is active; the caller commits."""
    if kind not in JOB_STAGES:
        raise ValueError(f"unknown job kind {kind!r}; expected one of {', '.join(JOB_STAGES)}")
    active = session.exec(select(Job).where(col(Job.state).in_(ACTIVE)).with_for_update()).all()
    for job in active:
        if JOB_STAGES[job.kind] & JOB_STAGES[kind]:
            raise JobConflictError(job)
    job = Job(kind=kind, params=params, requested_by=requested_by)
    session.add(job)
    session.flush()
    return job


def request_cancel(session: Session, job: Job) -> bool:
    """Ask a queued or running job to stop; False if it already ended."""
    if job.state not in ACTIVE:
        return False
    job.cancel_requested = True
    if job.state == JobState.QUEUED:
        job.state = JobState.CANCELLED
        job.finished_at = utcnow()
        job.message = "cancelled before it started"
    session.add(job)
    return True


@dataclass
class JobControl:
    """Handed to a running job: report progress, learn about cancellation."""

    engine: Engine
    job_id: int
    stop: threading.Event

    def progress(
        self,
        *,
        total: int | None = None,
        done: int | None = None,
        failed: int | None = None,
        current_run: int | None = None,
    ) -> None:
        """Update the job's live progress (a short transaction)."""
        with session_scope(self.engine) as session:
            job = session.get(Job, self.job_id)
            if job is None:
                return
            for name, value in (
                ("total", total),
                ("done", done),
                ("failed", failed),
                ("current_run", current_run),
            ):
                if value is not None:
                    setattr(job, name, value)
            job.heartbeat_at = utcnow()
            if job.cancel_requested:
                self.stop.set()
            session.add(job)


Executor = Callable[[Job, JobControl], tuple[bool, str]]


class JobRunner:
    """Runs queued jobs on a small thread pool; holds each running job's stop event."""

    def __init__(self, engine: Engine, execute: Executor, *, owner: str, workers: int = 2) -> None:
        self._engine = engine
        self._owner = owner
        self._execute = execute
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rra-job")
        self._stops: dict[int, threading.Event] = {}
        self._lock = threading.Lock()

    def start(self, job_id: int) -> None:
        """Run a queued job in the background."""
        stop = threading.Event()
        with self._lock:
            self._stops[job_id] = stop
        self._pool.submit(self._run, job_id, stop)

    def cancel(self, job_id: int) -> None:
        """Signal a running job of this process to stop claiming work."""
        with self._lock:
            stop = self._stops.get(job_id)
        if stop is not None:
            stop.set()

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop every running job and wait for them to record their outcome."""
        with self._lock:
            for stop in self._stops.values():
                stop.set()
        self._pool.shutdown(wait=wait)

    def _run(self, job_id: int, stop: threading.Event) -> None:
        with session_scope(self._engine) as session:
            job = session.get(Job, job_id)
            if job is None or job.state != JobState.QUEUED:
                return
            job.state = JobState.RUNNING
            job.started_at = job.heartbeat_at = utcnow()
            job.owner = self._owner
            session.add(job)
        try:
            ok, message = self._execute(job, JobControl(self._engine, job_id, stop))
            state = (
                JobState.CANCELLED
                if stop.is_set()
                else (JobState.SUCCEEDED if ok else JobState.FAILED)
            )
        except Exception as exc:  # a job's failure is recorded on the job, never lost
            log.exception("job %s failed", job_id)
            state, message = JobState.FAILED, f"internal error: {type(exc).__name__}: {exc}"
        with session_scope(self._engine) as session:
            job = session.get(Job, job_id)
            if job is not None:
                job.state = state
                job.message = message
                job.finished_at = utcnow()
                job.current_run = None
                session.add(job)
        with self._lock:
            self._stops.pop(job_id, None)


def fail_stale(session: Session, *, silent_for: timedelta) -> int:
    """Jobs whose process stopped reporting (a crash) are marked failed so they can be re-run."""
    cutoff = utcnow() - silent_for
    jobs = session.exec(
        select(Job).where(
            col(Job.state).in_(ACTIVE) & (func.coalesce(Job.heartbeat_at, Job.created_at) < cutoff)
        )
    ).all()
    for job in jobs:
        job.state = JobState.FAILED
        job.finished_at = utcnow()
        job.message = "the service stopped before this job finished; submit it again"
        session.add(job)
    return len(jobs)
