"""State transitions of ledger rows, each recorded as an event with its actor.

Every change of a (run, stage) row goes through `transition` so the event history is complete.
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from app.models import RunEvent, Stage, StageStatus, State
from app.timeutil import utcnow

DUE_STATES = (State.PENDING, State.RETRY)
SETTLED_STATES = (State.DONE, State.EXCLUDED)


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts a row gets and how long it waits between them."""

    max_attempts: int = 3
    base_seconds: float = 3.0
    max_seconds: float = 3600.0
    jitter: float = 0.2

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Exponential backoff for the `attempt`-th failure (1-based), with ± jitter."""
        raw = min(self.max_seconds, self.base_seconds * 2 ** max(0, attempt - 1))
        spread = raw * self.jitter
        return max(0.0, raw + (rng or random).uniform(-spread, spread))

    def exhausted(self, row: StageStatus) -> bool:
        """Whether the row has used its budget since the last operator reset."""
        return row.attempts - row.attempts_before_reset >= self.max_attempts


def add_event(
    session: Session,
    *,
    run: int | None,
    stage: Stage | None,
    actor: str,
    message: str | None,
    from_state: str | None = None,
    to_state: str | None = None,
) -> RunEvent:
    """Append one event to the history."""
    event = RunEvent(
        run_number=run,
        stage=stage,
        actor=actor,
        message=message,
        from_state=from_state,
        to_state=to_state,
    )
    session.add(event)
    return event


def transition(
    session: Session,
    row: StageStatus,
    to_state: State,
    *,
    actor: str,
    message: str | None = None,
    now: datetime | None = None,
    **fields: Any,
) -> None:
    """Move `row` to `to_state`, set `fields`, and record the event."""
    from_state = row.state
    for name, value in fields.items():
        setattr(row, name, value)
    row.state = to_state
    row.updated_at = now or utcnow()
    session.add(row)
    add_event(
        session,
        run=row.run_number,
        stage=row.stage,
        actor=actor,
        message=message,
        from_state=from_state,
        to_state=to_state,
    )


def get_or_create(session: Session, run: int, stage: Stage, *, actor: str) -> StageStatus:
    """The (run, stage) row, created in `waiting` (with an event) if it does not exist."""
    row = session.get(StageStatus, (run, stage))
    if row is None:
        row = StageStatus(run_number=run, stage=stage, state=State.WAITING)
        session.add(row)
        add_event(
            session,
            run=run,
            stage=stage,
            actor=actor,
            message="row created",
            to_state=State.WAITING,
        )
    return row


def make_pending(
    session: Session, run: int, stage: Stage, *, actor: str, message: str, now: datetime
) -> StageStatus:
    """Queue a run for a stage unless its row is already queued, running or settled."""
    row = get_or_create(session, run, stage, actor=actor)
    if row.state in (State.WAITING,):
        transition(
            session, row, State.PENDING, actor=actor, message=message, now=now, next_attempt_at=now
        )
    return row


def operator_retry(
    session: Session, row: StageStatus, *, actor: str, now: datetime, reason: str | None = None
) -> bool:
    """Give a failed/retry/conflict row a fresh attempt budget, due now; False if not eligible."""
    if row.state not in (State.FAILED, State.RETRY, State.CONFLICT):
        return False
    transition(
        session,
        row,
        State.PENDING,
        actor=actor,
        message=reason or "operator retry",
        now=now,
        next_attempt_at=now,
        attempts_before_reset=row.attempts,
    )
    return True


def backoff_until(policy: RetryPolicy, row: StageStatus, now: datetime) -> datetime:
    """When a row that just failed becomes due again."""
    return now + timedelta(seconds=policy.delay(row.attempts - row.attempts_before_reset))
