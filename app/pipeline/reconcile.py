"""Reconcile: compare the ledger with what artdaq_database and UconDB really hold, and repair it.

Verification is left to the stages themselves (both are idempotent): a run a store holds but
the ledger does not count as done is queued again, and the stage then either finds identical
content (done, verified) or different content (conflict for an operator). Rows whose data
vanished from a store are queued again. The store listings are kept in `store_runs` so the
reports compute gaps of every source in SQL.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, insert
from sqlmodel import Session, col, select

from app.db import session_scope
from app.metrics import timed
from app.models import Readiness, Run, Stage, StageStatus, State, StoreRun
from app.pipeline.context import PipelineContext
from app.pipeline.ledger import add_event, get_or_create, transition
from app.redact import redact_url
from app.reports.sources import Source, record_listing
from app.timeutil import utcnow

log = logging.getLogger(__name__)
ACTOR = "reconcile"
STORE_OF_STAGE = {Stage.IMPORT: "artdaqdb", Stage.MIGRATE: "ucondb"}
_QUEUEABLE = (State.WAITING, State.RETRY, State.FAILED)
_BATCH = 5000


@dataclass
class StageDrift:
    """Differences found for one stage between the ledger and its store."""

    vanished: list[int] = field(default_factory=list)
    requeued: list[int] = field(default_factory=list)
    untracked: list[int] = field(default_factory=list)


@dataclass
class ReconcileReport:
    """What reconcile saw and changed; `errors` names a store that could not be listed."""

    counts: dict[str, int] = field(default_factory=dict)
    drift: dict[Stage, StageDrift] = field(default_factory=dict)
    anomalies: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def replace_store_listing(session: Session, store: str, runs: Iterable[int]) -> None:
    """Make `store_runs` hold exactly `runs` for `store`."""
    now = utcnow()
    session.execute(delete(StoreRun).where(col(StoreRun.store) == store))
    batch: list[dict[str, object]] = []
    for run in sorted(set(runs)):
        batch.append({"store": store, "run_number": run, "seen_at": now})
        if len(batch) >= _BATCH:
            session.execute(insert(StoreRun), batch)
            batch = []
    if batch:
        session.execute(insert(StoreRun), batch)


def _queue(session: Session, row: StageStatus, message: str, now: datetime) -> None:
    transition(
        session, row, State.PENDING, actor=ACTOR, now=now, next_attempt_at=now, message=message
    )


def _reconcile_stage(session: Session, stage: Stage, held: set[int]) -> StageDrift:
    drift = StageDrift()
    now = utcnow()
    rows = _rows(session, stage)
    for run, row in rows.items():
        if row.state == State.DONE and run not in held:
            _queue(session, row, f"no longer in {STORE_OF_STAGE[stage]}; queued again", now)
            drift.vanished.append(run)
    ready = set(
        session.exec(
            select(Run.run_number).where((col(Run.readiness) == Readiness.READY) & col(Run.present))
        )
    )
    imported = {r for r, row in _rows(session, Stage.IMPORT).items() if row.state == State.DONE}
    for run in sorted(held):
        row = rows.get(run)
        if row is not None and row.state in (
            State.DONE,
            State.RUNNING,
            State.PENDING,
            State.CONFLICT,
            State.EXCLUDED,
        ):
            continue
        can_run = run in ready if stage == Stage.IMPORT else run in imported
        if not can_run:
            drift.untracked.append(run)
            continue
        row = row or get_or_create(session, run, stage, actor=ACTOR)
        if row.state in _QUEUEABLE:
            _queue(session, row, f"found in {STORE_OF_STAGE[stage]}; queued to verify it", now)
            drift.requeued.append(run)
    return drift


def _rows(session: Session, stage: Stage) -> dict[int, StageStatus]:
    return {
        row.run_number: row
        for row in session.exec(select(StageStatus).where(col(StageStatus.stage) == stage))
    }


def list_stores(ctx: PipelineContext, report: ReconcileReport) -> dict[Stage, set[int]]:
    """List both stores (a failure is recorded in `report.errors`, the other store goes on)."""
    listings: dict[Stage, set[int]] = {}
    try:
        with timed(ctx.settings, "ArtdaqDBClient.get_archived_runs"):
            artdaq = ctx.store.list_runs()
        listings[Stage.IMPORT] = set(artdaq.runs)
        report.anomalies += [f"artdaq_database: {a}" for a in artdaq.anomalies]
    except Exception as exc:  # a store that cannot be listed is reported, the other goes on
        report.errors["artdaqdb"] = redact_url(f"{type(exc).__name__}: {exc}")
    try:
        with timed(ctx.settings, "UconDBClient.get_existing_runs"):
            ucon = ctx.ucondb.all_runs()
        listings[Stage.MIGRATE] = set(ucon.runs)
        report.anomalies += [f"UconDB: {a}" for a in ucon.anomalies]
    except Exception as exc:  # idem
        report.errors["ucondb"] = redact_url(f"{type(exc).__name__}: {exc}")
    for name, error in report.errors.items():
        log.error("cannot list %s: %s", name, error)
    return listings


def _keep_listings(
    session: Session, listings: dict[Stage, set[int]], report: ReconcileReport
) -> None:
    for name in STORE_OF_STAGE.values():
        record_listing(session, Source(name), error=report.errors.get(name))
    for stage, held in listings.items():
        replace_store_listing(session, STORE_OF_STAGE[stage], held)
        report.counts[STORE_OF_STAGE[stage]] = len(held)


def refresh_listings(ctx: PipelineContext) -> ReconcileReport:
    """What the stores hold, kept for reports; the ledger's rows are not touched."""
    report = ReconcileReport()
    listings = list_stores(ctx, report)
    with session_scope(ctx.engine) as session:
        _keep_listings(session, listings, report)
    return report


def reconcile(ctx: PipelineContext) -> ReconcileReport:
    """List both stores, refresh `store_runs`, and repair the ledger where it disagrees."""
    report = ReconcileReport()
    listings = list_stores(ctx, report)
    with session_scope(ctx.engine) as session:
        _keep_listings(session, listings, report)
        for stage, held in listings.items():
            report.drift[stage] = _reconcile_stage(session, stage, held)
        summary = "; ".join(
            f"{stage.value}: {len(d.vanished)} vanished, {len(d.requeued)} queued to verify, "
            f"{len(d.untracked)} held without a source"
            for stage, d in report.drift.items()
        )
        errors = "; ".join(f"{name} listing failed: {err}" for name, err in report.errors.items())
        add_event(
            session,
            run=None,
            stage=None,
            actor=ACTOR,
            message="reconcile: " + "; ".join(filter(None, [summary, errors])),
        )
    return report
