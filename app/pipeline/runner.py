"""The service functions behind `rra scan|import|migrate|run|retry`, jobs and the scheduler.

One request → scan (optional) → each requested stage drained over the selected runs.
"""

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from sqlalchemy import ColumnElement, and_, text
from sqlmodel import Session, col, select

from app.db import session_scope
from app.metrics import send_batch_metrics
from app.models import Run, Stage, StageStatus, State
from app.notify import notify_failures
from app.pipeline.claims import Claim
from app.pipeline.context import PipelineContext
from app.pipeline.driver import DrainOptions, DrainResult, RunResult, StageDefinition, drain
from app.pipeline.importer import import_stage
from app.pipeline.ledger import DUE_STATES, operator_retry
from app.pipeline.migrator import migrate_stage
from app.pipeline.watermark import derived_watermark
from app.reports.sources import Source, record_listing
from app.runranges import RunSelection
from app.runrecords.listing import RunRecordsDirError
from app.runrecords.readiness import scan_policy
from app.runrecords.scan import ScanResult, scan_records
from app.timeutil import utcnow

log = logging.getLogger(__name__)

Progress = Callable[[str, Claim, RunResult | None], None]


STAGE_CHOICES: dict[str, tuple[Stage, ...]] = {
    "import": (Stage.IMPORT,),
    "migrate": (Stage.MIGRATE,),
    "both": (Stage.IMPORT, Stage.MIGRATE),
}


@dataclass(frozen=True)
class WorkRequest:
    """What an operator, a job or the scheduler asked for (the legacy modes included)."""

    stages: tuple[Stage, ...] = (Stage.IMPORT, Stage.MIGRATE)
    incremental: bool = False
    runs: RunSelection | None = None
    limit_per_stage: int | None = None
    retry_failed: bool = False
    validate: bool = False
    dry_run: bool = False
    scan: bool = True


@dataclass
class WorkReport:
    """What a request did, per stage, for printing, job progress and exit codes."""

    scan: ScanResult | None = None
    stages: dict[Stage, DrainResult] = field(default_factory=dict)
    candidates: dict[Stage, list[int]] = field(default_factory=dict)
    retried: dict[Stage, list[int]] = field(default_factory=dict)
    stopped: bool = False

    @property
    def interrupted(self) -> bool:
        """Whether a stop request cut the work short (in a stage or between stages)."""
        return self.stopped or any(result.interrupted for result in self.stages.values())

    @property
    def failed_runs(self) -> list[int]:
        """Runs whose last attempt in this request did not succeed."""
        return sorted({run for result in self.stages.values() for run in result.failed})


_SCAN_LOCK = threading.Lock()
_SCAN_ADVISORY_KEY = 0x5252_5343  # "RRSC": one scan at a time across replicas


def scan(ctx: PipelineContext) -> ScanResult:
    """Scan the run-records directory into the ledger, one scan at a time (a lock in this
    process, an advisory lock across PostgreSQL replicas); the outcome is kept for reports."""
    root = ctx.settings.source_files.run_records_dir
    with _SCAN_LOCK:
        try:
            with session_scope(ctx.engine) as session:
                if ctx.engine.dialect.name == "postgresql":
                    session.execute(
                        text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SCAN_ADVISORY_KEY}
                    )
                result = scan_records(session, root, policy=scan_policy(ctx.settings.scanner))
                record_listing(session, Source.FILESYSTEM, error=None)
                return result
        except RunRecordsDirError as error:
            with session_scope(ctx.engine) as session:
                record_listing(session, Source.FILESYSTEM, error=str(error))
            raise


def _selection(session: Session, stage: Stage, request: WorkRequest) -> ColumnElement[bool] | None:
    run_col = col(StageStatus.run_number)
    parts: list[ColumnElement[bool]] = []
    selection = request.runs
    if selection is not None and selection.last is not None:
        newest = session.exec(
            select(Run.run_number).order_by(col(Run.run_number).desc()).limit(selection.last)
        ).all()
        parts.append(run_col >= (min(newest) if newest else 0))
    elif selection is not None:
        parts.append(selection.condition(run_col))
    if request.incremental:
        parts.append(run_col > (derived_watermark(session, stage) or 0))
    return and_(*parts) if parts else None


def _retry_failed(
    session: Session, stage: Stage, where: ColumnElement[bool] | None, actor: str
) -> list[int]:
    query = select(StageStatus).where(
        (col(StageStatus.stage) == stage) & (col(StageStatus.state) == State.FAILED)
    )
    if where is not None:
        query = query.where(where)
    now = utcnow()
    rows = session.exec(query).all()
    return [row.run_number for row in rows if operator_retry(session, row, actor=actor, now=now)]


def _due_runs(session: Session, stage: Stage, where: ColumnElement[bool] | None) -> list[int]:
    query = select(StageStatus.run_number).where(
        (col(StageStatus.stage) == stage) & col(StageStatus.state).in_(DUE_STATES)
    )
    if where is not None:
        query = query.where(where)
    return list(session.exec(query.order_by(col(StageStatus.run_number))))


def estimate_total(ctx: PipelineContext, request: WorkRequest) -> int:
    """Rows due now in the request's scope; an import also brings its migration."""
    total = 0
    with session_scope(ctx.engine) as session:
        for stage in request.stages:
            due = len(_due_runs(session, stage, _selection(session, stage, request)))
            total += due * (2 if stage == Stage.IMPORT and Stage.MIGRATE in request.stages else 1)
    return total


def run_work(
    ctx: PipelineContext,
    request: WorkRequest,
    *,
    stop: threading.Event | None = None,
    progress: Progress | None = None,
) -> WorkReport:
    """Scan (if asked), then drain each requested stage over the selected runs.

    Asked for both, import and migrate drain at once: migrations start as soon as the first
    imports are verified (imports convert in their own processes, migrations mostly wait on the
    network), and the last migrations are drained after the imports end.
    `stop` (default: the context's) ends the work early: no new claims, in-flight runs finish.
    """
    stop = stop or ctx.stop
    report = WorkReport()
    if request.scan and not stop.is_set():
        report.scan = scan(ctx)
    options: dict[Stage, DrainOptions] = {}
    for stage in request.stages:
        if stop.is_set():
            break
        with session_scope(ctx.engine) as session:
            where = _selection(session, stage, request)
            if request.retry_failed and not request.dry_run:
                report.retried[stage] = _retry_failed(session, stage, where, ctx.owner)
            if request.dry_run:
                report.candidates[stage] = _due_runs(session, stage, where)
        options[stage] = _drain_options(ctx, stage, where, request)
    if not request.dry_run:
        if set(options) == {Stage.IMPORT, Stage.MIGRATE}:
            report.stages = _drain_together(ctx, options, request, stop, progress)
        else:
            for stage, stage_options in options.items():
                if not stop.is_set():
                    definition = _definition(ctx, stage, request)
                    report.stages[stage] = drain(
                        ctx.engine, definition, stage_options, stop=stop, progress=progress
                    )
        for stage, result in report.stages.items():
            announce(ctx, stage, result)
    report.stopped = stop.is_set()
    return report


def _definition(ctx: PipelineContext, stage: Stage, request: WorkRequest) -> StageDefinition:
    if stage == Stage.IMPORT:
        return import_stage(ctx)
    return migrate_stage(ctx, validate=request.validate)


def _drain_options(
    ctx: PipelineContext, stage: Stage, where: ColumnElement[bool] | None, request: WorkRequest
) -> DrainOptions:
    pipeline = ctx.settings.pipeline
    workers = pipeline.import_workers if stage == Stage.IMPORT else pipeline.migrate_workers
    assert workers is not None
    return DrainOptions(
        owner=ctx.owner,
        workers=workers,
        policy=ctx.policy,
        lease_seconds=pipeline.lease_seconds,
        claim_batch=pipeline.claim_batch,
        where=where,
        limit=request.limit_per_stage,
        shutdown_grace_seconds=ctx.settings.service.shutdown_grace_seconds,
    )


_FOLLOW_POLL_SECONDS = 0.2


def _drain_together(
    ctx: PipelineContext,
    options: dict[Stage, DrainOptions],
    request: WorkRequest,
    stop: threading.Event,
    progress: Progress | None,
) -> dict[Stage, DrainResult]:
    """The import drain in a thread; the migrate drain follows it until it has ended."""
    imports_over = threading.Event()
    follow = replace(options[Stage.MIGRATE], poll_seconds=_FOLLOW_POLL_SECONDS, until=imports_over)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rra-import-drain") as pool:
        importing = pool.submit(
            drain,
            ctx.engine,
            _definition(ctx, Stage.IMPORT, request),
            options[Stage.IMPORT],
            stop=stop,
            progress=progress,
        )
        importing.add_done_callback(lambda _: imports_over.set())
        definition = _definition(ctx, Stage.MIGRATE, request)
        migrations = drain(ctx.engine, definition, follow, stop=stop, progress=progress)
        imported = importing.result()  # the import drain's own error, if it raised one
    return {Stage.IMPORT: imported, Stage.MIGRATE: migrations}


def announce(ctx: PipelineContext, stage: Stage, result: DrainResult) -> None:
    """After a batch: the legacy Carbon batch metrics, and one failure alert if any failed."""
    succeeded = result.succeeded
    send_batch_metrics(
        ctx.settings,
        stage,
        processed=len(result.results),
        successful=len(succeeded),
        last_successful_run=max(succeeded) if succeeded else None,
    )
    if result.failed:
        notify_failures(ctx.settings, stage, sorted(set(result.failed)))
