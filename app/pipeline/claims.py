"""Claiming due ledger rows with leases, renewing, reaping and releasing them.

PostgreSQL: `FOR UPDATE SKIP LOCKED` lets replicas claim disjoint rows. Every claim is also a
guarded UPDATE (`state IN (pending, retry)`), so a row can never be claimed twice even where
SKIP LOCKED does not exist (SQLite, one writer).
"""

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, update
from sqlmodel import Session, col, select

from app.models import ErrorKind, Stage, StageStatus, State
from app.pipeline.attempts import Claim
from app.pipeline.ledger import DUE_STATES, RetryPolicy, add_event, backoff_until, transition


def _due(stage: Stage, now: datetime) -> ColumnElement[bool]:
    return (
        (col(StageStatus.stage) == stage)
        & col(StageStatus.state).in_(DUE_STATES)
        & or_(col(StageStatus.next_attempt_at).is_(None), col(StageStatus.next_attempt_at) <= now)
    )


def claim_due(
    session: Session,
    stage: Stage,
    *,
    owner: str,
    limit: int,
    lease_seconds: float,
    now: datetime,
    where: ColumnElement[bool] | None = None,
) -> list[Claim]:
    """Claim up to `limit` due rows, oldest run first; the caller commits."""
    query = select(StageStatus.run_number).where(_due(stage, now))
    if where is not None:
        query = query.where(where)
    query = query.order_by(col(StageStatus.run_number)).limit(limit)
    candidates = session.exec(query.with_for_update(skip_locked=True)).all()
    until = now + timedelta(seconds=lease_seconds)
    claims: list[Claim] = []
    for run in candidates:
        result = session.execute(
            update(StageStatus)
            .where(
                (col(StageStatus.run_number) == run)
                & (col(StageStatus.stage) == stage)
                & col(StageStatus.state).in_(DUE_STATES)
            )
            .values(
                state=State.RUNNING,
                lease_owner=owner,
                lease_until=until,
                attempts=StageStatus.attempts + 1,
                started_at=now,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            continue
        row = session.get(StageStatus, (run, stage), populate_existing=True)
        assert row is not None
        add_event(
            session,
            run=run,
            stage=stage,
            actor=owner,
            message=f"attempt {row.attempts} claimed",
            to_state=State.RUNNING,
        )
        claims.append(Claim(run, stage, row.attempts, owner, until))
    return claims


def held_row(session: Session, claim: Claim) -> StageStatus | None:
    """The claimed row if this worker still holds its lease (not reaped, not re-claimed)."""
    row = session.get(
        StageStatus, (claim.run, claim.stage), populate_existing=True, with_for_update=True
    )
    if row is None or row.state != State.RUNNING or row.lease_owner != claim.owner:
        return None
    if row.attempts != claim.attempt:
        return None
    return row


def renew(session: Session, claims: list[Claim], *, lease_seconds: float, now: datetime) -> None:
    """Extend the leases of rows still being worked on."""
    until = now + timedelta(seconds=lease_seconds)
    for claim in claims:
        session.execute(
            update(StageStatus)
            .where(
                (col(StageStatus.run_number) == claim.run)
                & (col(StageStatus.stage) == claim.stage)
                & (col(StageStatus.state) == State.RUNNING)
                & (col(StageStatus.lease_owner) == claim.owner)
            )
            .values(lease_until=until)
            .execution_options(synchronize_session=False)
        )


def reap_expired(session: Session, *, policy: RetryPolicy, now: datetime, actor: str) -> int:
    """Rows whose lease ran out (a crashed or stopped worker) go back to retry (or failed)."""
    expired = session.exec(
        select(StageStatus)
        .where((col(StageStatus.state) == State.RUNNING) & (col(StageStatus.lease_until) < now))
        .with_for_update(skip_locked=True)
    ).all()
    for row in expired:
        message = f"lease of {row.lease_owner} expired during attempt {row.attempts}"
        _fail_row(
            session,
            row,
            policy=policy,
            kind=ErrorKind.INTERNAL,
            message=message,
            actor=actor,
            now=now,
        )
    return len(expired)


def release(session: Session, claim: Claim, *, message: str, now: datetime) -> bool:
    """Give a claimed row back (shutdown): due again now, the attempt not held against it."""
    row = held_row(session, claim)
    if row is None:
        return False
    transition(
        session,
        row,
        State.RETRY,
        actor=claim.owner,
        message=message,
        now=now,
        next_attempt_at=now,
        lease_owner=None,
        lease_until=None,
        attempts_before_reset=row.attempts_before_reset + 1,
    )
    return True


def _fail_row(
    session: Session,
    row: StageStatus,
    *,
    policy: RetryPolicy,
    kind: ErrorKind,
    message: str,
    actor: str,
    now: datetime,
    retryable: bool = True,
) -> State:
    if kind == ErrorKind.CONFLICT:
        target = State.CONFLICT
    elif not retryable or policy.exhausted(row):
        target = State.FAILED
    else:
        target = State.RETRY
    transition(
        session,
        row,
        target,
        actor=actor,
        message=message,
        now=now,
        last_error=message,
        error_kind=kind,
        lease_owner=None,
        lease_until=None,
        finished_at=now,
        next_attempt_at=backoff_until(policy, row, now) if target == State.RETRY else None,
    )
    return target


def record_failure(
    session: Session,
    claim: Claim,
    *,
    policy: RetryPolicy,
    kind: ErrorKind,
    message: str,
    now: datetime,
    retryable: bool = True,
) -> State | None:
    """Record a failed attempt: retry with backoff, failed after the budget, or conflict.

    Returns None when the lease was lost meanwhile (the outcome is then not ours to record).
    """
    row = held_row(session, claim)
    if row is None:
        return None
    return _fail_row(
        session,
        row,
        policy=policy,
        kind=kind,
        message=message,
        actor=claim.owner,
        now=now,
        retryable=retryable,
    )
