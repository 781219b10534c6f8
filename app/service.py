"""The running archiver: stage workers, the scheduler's ticks and the job runner, together.

Stage workers drain due rows continuously (a run is picked up seconds after it becomes due);
the scheduler scans, reconciles and sweeps; jobs run on demand. All of them call the same
pipeline functions as the CLI. A scan that sees runs settling asks for one follow-up scan at the
moment the first becomes ready, so a stopped run waits its settle period, not the scan interval.
"""

import logging
import threading
from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.config import Settings
from app.db import session_scope
from app.jobs import JobRunner, fail_stale, request_cancel, submit
from app.models import Job, Stage, State
from app.notify import (
    build_daily_summary,
    new_conflicts,
    notify_conflicts,
    notify_daily_summary,
    notify_failures,
    notify_stuck,
    retry_outbox,
    stuck_stages_to_alert,
)
from app.pipeline.claims import Claim, reap_expired
from app.pipeline.context import PipelineContext, worker_id
from app.pipeline.driver import DrainOptions, RunResult, StageDefinition, drain
from app.pipeline.importer import import_stage
from app.pipeline.job_work import execute_job
from app.pipeline.migrator import migrate_stage
from app.pipeline.reconcile import reconcile
from app.pipeline.runner import scan
from app.scheduler import FollowUp, Tick, make_scheduler, triggers
from app.timeutil import utcnow

log = logging.getLogger(__name__)
POLL_SECONDS = 2.0
FOLLOW_UP_MARGIN = timedelta(seconds=1)


class StageWorker:
    """A background thread draining one stage until paused or stopped."""

    def __init__(self, ctx: PipelineContext, definition: StageDefinition, workers: int) -> None:
        self.ctx = ctx
        self.definition = definition
        self.workers = workers
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failed: set[int] = set()
        self._failed_lock = threading.Lock()

    def _note_failure(self, event: str, claim: Claim, result: RunResult | None) -> None:
        if result is not None and result.state not in (State.DONE, None):
            with self._failed_lock:
                self._failed.add(claim.run)

    def take_failures(self) -> list[int]:
        """Runs that failed an attempt since the last call (for one alert per tick)."""
        with self._failed_lock:
            failed, self._failed = sorted(self._failed), set()
        return failed

    @property
    def running(self) -> bool:
        """Whether the worker thread is alive and not asked to stop."""
        return self._thread is not None and self._thread.is_alive() and not self._stop.is_set()

    def start(self) -> None:
        """Start (or resume) draining."""
        if self.running:
            return
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop,
            args=(self._stop,),
            daemon=True,
            name=f"rra-worker-{self.definition.stage.value}",
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop claiming; in-flight runs finish within the grace period (see `join`)."""
        self._stop.set()

    def join(self, timeout: float) -> None:
        """Wait for the worker thread to end."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self, stop: threading.Event) -> None:
        pipeline = self.ctx.settings.pipeline
        options = DrainOptions(
            owner=self.ctx.owner,
            workers=self.workers,
            policy=self.ctx.policy,
            lease_seconds=pipeline.lease_seconds,
            claim_batch=pipeline.claim_batch,
            poll_seconds=POLL_SECONDS,
            shutdown_grace_seconds=self.ctx.settings.service.shutdown_grace_seconds,
        )
        while not stop.is_set():
            try:
                drain(
                    self.ctx.engine,
                    self.definition,
                    options,
                    stop=stop,
                    progress=self._note_failure,
                )
            except Exception:  # the ledger may be briefly unreachable: log, wait, go on
                log.exception("%s worker: drain failed; retrying", self.definition.stage.value)
                stop.wait(POLL_SECONDS * 5)


class Service:
    """Everything `rra serve` runs besides the HTTP server."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.ctx = PipelineContext(settings=settings, engine=engine, owner=worker_id())
        self.engine = engine
        pipeline = settings.pipeline
        assert pipeline.import_workers is not None and pipeline.migrate_workers is not None
        self.workers = {
            Stage.IMPORT: StageWorker(self.ctx, import_stage(self.ctx), pipeline.import_workers),
            Stage.MIGRATE: StageWorker(self.ctx, migrate_stage(self.ctx), pipeline.migrate_workers),
        }
        self.jobs = JobRunner(engine, partial(execute_job, self.ctx), owner=self.ctx.owner)
        self.ticks = self._ticks()
        self.scheduler = make_scheduler(engine, self.ticks)
        self.scan_follow_up = FollowUp(
            self.scheduler, engine, next(t for t in self.ticks if t.name == "scan")
        )

    def _ticks(self) -> list[Tick]:
        when = triggers(self.ctx.settings.schedule)
        return [
            Tick(
                "scan",
                when["scan"],
                self.scan_tick,
                "scan the run records; ready runs become due",
            ),
            Tick(
                "reconcile",
                when["reconcile"],
                lambda: reconcile(self.ctx),
                "compare the ledger with both stores and repair it",
            ),
            Tick(
                "retry-sweep",
                when["retry-sweep"],
                self.sweep,
                "reap expired leases and abandoned jobs; send pending alerts",
            ),
            Tick(
                "daily-summary",
                when["daily-summary"],
                self.daily_summary,
                "send the daily summary by e-mail/Slack",
            ),
        ]

    def scan_tick(self) -> None:
        """Scan; if runs are settling, scan again just after the first becomes ready."""
        settled = scan(self.ctx).next_settled_at
        if settled is not None and not self.ctx.stop.is_set():
            self.scan_follow_up.request(settled + FOLLOW_UP_MARGIN)

    def sweep(self) -> None:
        """Expired leases back to retry, dead jobs failed; then the alerts of this tick: new
        failures, new conflicts, stuck stages, and whatever an earlier tick could not send."""
        settings = self.ctx.settings
        lease = timedelta(seconds=settings.pipeline.lease_seconds)
        with session_scope(self.engine) as session:
            reap_expired(session, policy=self.ctx.policy, now=utcnow(), actor="sweep")
            fail_stale(session, silent_for=lease)
        retry_outbox(settings)
        for stage, worker in self.workers.items():
            if failed := worker.take_failures():
                notify_failures(settings, stage, failed)
        with session_scope(self.engine) as session:
            conflicts = new_conflicts(session)
            stuck = stuck_stages_to_alert(session, minutes=settings.reporting.stuck_stage_minutes)
        if conflicts:
            notify_conflicts(settings, conflicts)
        if stuck:
            notify_stuck(settings, stuck)

    def daily_summary(self) -> None:
        """The daily summary of every stage, from the ledger."""
        with session_scope(self.engine) as session:
            summary = build_daily_summary(session)
        notify_daily_summary(self.ctx.settings, summary)

    def start(self) -> None:
        """Start workers and the scheduler; the first scan runs at once."""
        for worker in self.workers.values():
            worker.start()
        self.scheduler.start()
        self.scheduler.modify_job("scan", next_run_time=utcnow())
        log.info(
            "service %s started: %s",
            self.ctx.owner,
            ", ".join(f"{s.value} x{w.workers}" for s, w in self.workers.items()),
        )

    def stop(self) -> None:
        """Stop claiming everywhere, let in-flight runs finish within the grace period."""
        self.ctx.stop.set()
        self.scheduler.shutdown(wait=False)
        for worker in self.workers.values():
            worker.stop()
        self.jobs.shutdown(wait=True)
        grace = self.ctx.settings.service.shutdown_grace_seconds + 5
        for worker in self.workers.values():
            worker.join(grace)
        self.ctx.close()

    def submit_job(self, kind: str, params: dict[str, Any], requested_by: str) -> Job:
        """Queue a job (JobConflictError if its stage is busy) and start it in the background."""
        with session_scope(self.engine) as session:
            job = submit(session, kind, params, requested_by)
        assert job.id is not None
        self.jobs.start(job.id)
        return job

    def cancel_job(self, session: Session, job: Job) -> bool:
        """Ask a job to stop (here or, through the ledger flag, on another replica)."""
        if not request_cancel(session, job):
            return False
        assert job.id is not None
        self.jobs.cancel(job.id)
        return True

    def schedule(self) -> list[dict[str, Any]]:
        """The ticks and stage workers with their state, for `GET /api/schedule`."""
        entries: list[dict[str, Any]] = []
        for tick in self.ticks:
            job = self.scheduler.get_job(tick.name)
            next_run = getattr(job, "next_run_time", None) if self.scheduler.running else None
            if next_run is not None and tick is self.scan_follow_up.tick:
                next_run = min(next_run, self.scan_follow_up.pending() or next_run)
            entries.append(
                {
                    "id": tick.name,
                    "description": tick.description,
                    "trigger": str(tick.trigger),
                    "paused": next_run is None,
                    "next_run_at": next_run.isoformat() if next_run else None,
                }
            )
        for stage, worker in self.workers.items():
            entries.append(
                {
                    "id": f"worker-{stage.value}",
                    "description": f"{stage.value} stage workers (x{worker.workers})",
                    "trigger": f"continuous, polling every {POLL_SECONDS:g} s",
                    "paused": not worker.running,
                    "next_run_at": None,
                }
            )
        return entries

    def pause(self, name: str) -> bool:
        """Pause a tick or a stage worker; False if there is no such entry."""
        return self._toggle(name, pause=True)

    def resume(self, name: str) -> bool:
        """Resume a tick or a stage worker; False if there is no such entry."""
        return self._toggle(name, pause=False)

    def _toggle(self, name: str, *, pause: bool) -> bool:
        for stage, worker in self.workers.items():
            if name == f"worker-{stage.value}":
                (worker.stop if pause else worker.start)()
                return True
        if self.scheduler.get_job(name) is None:
            return False
        (self.scheduler.pause_job if pause else self.scheduler.resume_job)(name)
        if pause and name == self.scan_follow_up.tick.name:
            self.scan_follow_up.cancel()
        return True
