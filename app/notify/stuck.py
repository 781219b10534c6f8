"""Stuck stages: due work, and no attempt of the stage finished for too long.

The clock starts at the later of the stage's last finished attempt (any outcome) and the moment
its oldest current work became due or started, so a quiet stage that just got work is not
stuck, while a dead worker or a hung store call is. Repeated failures are progress here: the
failure alerts already cover them.
"""

from datetime import datetime, timedelta

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from app.metrics.ledger import backlog, state_counts
from app.models import Stage, StageStatus, State
from app.notify.marks import read_mark, write_mark
from app.notify.messages import StuckStage
from app.pipeline.ledger import DUE_STATES
from app.timeutil import utcnow

STUCK_MARK = "notify.stuck"


def _oldest_work(session: Session, stage: Stage, now: datetime) -> datetime | None:
    """When the stage's oldest due or running row became due or started (None: no such row)."""
    due = select(
        func.min(func.coalesce(StageStatus.next_attempt_at, StageStatus.updated_at))
    ).where(
        col(StageStatus.stage) == stage,
        col(StageStatus.state).in_(DUE_STATES),
        or_(col(StageStatus.next_attempt_at).is_(None), col(StageStatus.next_attempt_at) <= now),
    )
    running = select(func.min(func.coalesce(StageStatus.started_at, StageStatus.updated_at))).where(
        col(StageStatus.stage) == stage, col(StageStatus.state) == State.RUNNING
    )
    found = [t for t in (session.exec(due).one(), session.exec(running).one()) if t is not None]
    return min(found) if found else None


def _last_finished(session: Session, stage: Stage) -> datetime | None:
    query = select(func.max(StageStatus.finished_at)).where(col(StageStatus.stage) == stage)
    return session.exec(query).one()


def find_stuck_stages(
    session: Session, *, minutes: int, now: datetime | None = None
) -> list[StuckStage]:
    """Stages whose due or running work has waited `minutes` without any attempt finishing."""
    now = now or utcnow()
    counts = state_counts(session)
    stuck = []
    for stage in Stage:
        oldest = _oldest_work(session, stage, now)
        if oldest is None:
            continue
        finished = _last_finished(session, stage)
        since = max(oldest, finished) if finished is not None else oldest
        idle = now - since
        if idle >= timedelta(minutes=minutes):
            waited = int(idle.total_seconds() // 60)
            stuck.append(StuckStage(stage, backlog(counts[stage]), waited, since))
    return stuck


def stuck_stages_to_alert(
    session: Session, *, minutes: int, now: datetime | None = None
) -> list[StuckStage]:
    """The stuck stages not yet alerted for this episode (one alert until progress resumes);
    records them in the ledger, so the caller must commit."""
    stuck = find_stuck_stages(session, minutes=minutes, now=now)
    alerted = read_mark(session, STUCK_MARK)
    current = {s.stage.value: s.since.isoformat() for s in stuck}
    if current != alerted:
        write_mark(session, STUCK_MARK, current, now=now)
    return [s for s in stuck if alerted.get(s.stage.value) != current[s.stage.value]]
