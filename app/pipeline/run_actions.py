"""Operator actions on one run: retry, exclude (permanently absent, with a reason), include.

Every change goes through the ledger's `transition`/`add_event`, so the history names the
operator. Nothing here commits: the request (or command) boundary does.
"""

from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Session, col, select

from app.models import Readiness, Run, Stage, StageStatus, State
from app.pipeline.ledger import add_event, get_or_create, operator_retry, transition
from app.runrecords.readiness import ScanPolicy, import_eligible

RETRYABLE = (State.FAILED, State.RETRY, State.CONFLICT)


class RunNotFoundError(LookupError):
    """The ledger knows nothing about this run."""


class ActionRefusedError(Exception):
    """The run's current state does not allow the action; the message says why and what to do."""


class RunStatePublic(BaseModel):
    """A run's stage states after an operator action, and which stages it changed."""

    run_number: int
    excluded_reason: str | None
    stages: dict[Stage, State]
    changed: list[Stage]


def _rows(session: Session, run: int) -> dict[Stage, StageStatus]:
    rows = session.exec(select(StageStatus).where(col(StageStatus.run_number) == run)).all()
    return {row.stage: row for row in rows}


def _result(
    run: int, record: Run | None, rows: dict[Stage, StageStatus], changed: list[Stage]
) -> RunStatePublic:
    return RunStatePublic(
        run_number=run,
        excluded_reason=record.excluded_reason if record else None,
        stages={stage: rows[stage].state for stage in Stage if stage in rows},
        changed=changed,
    )


def _states(rows: dict[Stage, StageStatus]) -> str:
    return ", ".join(f"{stage.value}: {row.state.value}" for stage, row in sorted(rows.items()))


def retry_run(
    session: Session,
    run: int,
    *,
    stage: Stage | None,
    actor: str,
    now: datetime,
    reason: str | None = None,
) -> RunStatePublic:
    """Give the run's failed/retry/conflict rows (or only `stage`'s) a fresh attempt budget."""
    rows = _rows(session, run)
    record = session.get(Run, run)
    if not rows and record is None:
        raise RunNotFoundError(f"run {run} is not in the ledger")
    if stage is not None and stage not in rows:
        raise ActionRefusedError(f"run {run} has no {stage.value} row yet; nothing to retry")
    chosen = [rows[stage]] if stage is not None else list(rows.values())
    changed = [
        row.stage
        for row in chosen
        if operator_retry(session, row, actor=actor, now=now, reason=reason)
    ]
    if not changed:
        raise ActionRefusedError(
            f"run {run} has nothing to retry ({_states(rows) or 'no stage rows'}); "
            f"only rows in {', '.join(s.value for s in RETRYABLE)} can be retried"
        )
    return _result(run, record, rows, changed)


def exclude_run(
    session: Session, run: int, *, reason: str, actor: str, now: datetime
) -> RunStatePublic:
    """Mark `run` permanently absent: its unfinished stage rows become `excluded`.

    Works for run numbers never seen (a gap the DAQ never filled): the run is recorded as absent
    so gap analysis and the watermark can skip it.
    """
    record = session.get(Run, run)
    if record is not None and record.excluded_reason is not None:
        raise ActionRefusedError(
            f"run {run} is already excluded ({record.excluded_reason!r}); "
            "include it first to change the reason"
        )
    rows = _rows(session, run)
    running = [row for row in rows.values() if row.state is State.RUNNING]
    if running:
        busy = ", ".join(f"{row.stage.value} (lease of {row.lease_owner})" for row in running)
        raise ActionRefusedError(
            f"run {run} is being processed: {busy}; exclude it once the attempt has finished"
        )
    if record is None:
        record = Run(
            run_number=run,
            present=False,
            readiness=Readiness.VANISHED,
            readiness_reason="never seen on the filesystem; recorded when it was excluded",
            first_seen_at=now,
            last_scanned_at=now,
        )
    record.excluded_reason = reason
    session.add(record)
    add_event(session, run=run, stage=None, actor=actor, message=f"excluded: {reason}")
    changed = []
    for stage in Stage:
        row = rows.get(stage) or get_or_create(session, run, stage, actor=actor)
        rows[stage] = row
        if row.state is not State.DONE:
            transition(
                session,
                row,
                State.EXCLUDED,
                actor=actor,
                message=f"excluded: {reason}",
                now=now,
                next_attempt_at=None,
            )
            changed.append(stage)
    return _result(run, record, rows, changed)


def include_run(
    session: Session,
    run: int,
    *,
    reason: str,
    actor: str,
    now: datetime,
    archive_never_stopped: bool,
) -> RunStatePublic:
    """Undo an exclusion: excluded rows go back to `pending` when they can run, else `waiting`."""
    record = session.get(Run, run)
    if record is None and not _rows(session, run):
        raise RunNotFoundError(f"run {run} is not in the ledger")
    if record is None or record.excluded_reason is None:
        raise ActionRefusedError(f"run {run} is not excluded; nothing to include")
    record.excluded_reason = None
    session.add(record)
    add_event(session, run=run, stage=None, actor=actor, message=f"included: {reason}")
    rows = _rows(session, run)
    policy = ScanPolicy(archive_never_stopped=archive_never_stopped)
    ready = {
        Stage.IMPORT: record.present
        and import_eligible(record.readiness, released=record.released, policy=policy),
        Stage.MIGRATE: Stage.IMPORT in rows and rows[Stage.IMPORT].state is State.DONE,
    }
    changed = []
    for stage, row in rows.items():
        if row.state is State.EXCLUDED:
            target = State.PENDING if ready[stage] else State.WAITING
            transition(
                session,
                row,
                target,
                actor=actor,
                message=f"included: {reason}",
                now=now,
                next_attempt_at=now if target is State.PENDING else None,
            )
            changed.append(stage)
    return _result(run, record, rows, changed)


RELEASABLE = (Readiness.NEVER_STOPPED, Readiness.NEVER_STARTED)


def release_run(
    session: Session, run: int, *, reason: str, actor: str, now: datetime
) -> RunStatePublic:
    """Let a run that never stopped (or never started) be archived as it is, on an operator's
    word: its import becomes due now."""
    record = session.get(Run, run)
    if record is None:
        raise RunNotFoundError(f"run {run} is not in the ledger")
    if record.readiness not in RELEASABLE:
        raise ActionRefusedError(
            f"run {run} is {record.readiness.value}; only never_stopped or never_started runs "
            "are released (a ready run is archived anyway)"
        )
    if record.released:
        raise ActionRefusedError(f"run {run} is already released")
    record.released = True
    session.add(record)
    add_event(session, run=run, stage=None, actor=actor, message=f"released: {reason}")
    row = get_or_create(session, run, Stage.IMPORT, actor=actor)
    changed = []
    if row.state is State.WAITING:
        transition(
            session,
            row,
            State.PENDING,
            actor=actor,
            message=f"released: {reason}",
            now=now,
            next_attempt_at=now,
        )
        changed.append(Stage.IMPORT)
    return _result(run, record, _rows(session, run), changed)
