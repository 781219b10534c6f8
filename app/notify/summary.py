"""The daily summary's figures, read from the ledger."""

from datetime import datetime, timedelta

from sqlmodel import Session

from app.metrics.ledger import backlog, done_since, newest_archived, state_counts
from app.models import Stage, State
from app.notify.messages import DailySummary, StageSummary
from app.timeutil import utcnow

PERIOD = timedelta(hours=24)


def build_daily_summary(
    session: Session, *, now: datetime | None = None, period: timedelta = PERIOD
) -> DailySummary:
    """Per stage: runs done in the last `period`, backlog, failed, conflicts, newest archived."""
    until = now or utcnow()
    since = until - period
    counts = state_counts(session)
    done = done_since(session, since)
    newest = newest_archived(session)
    stages = [
        StageSummary(
            stage=stage,
            done=done[stage],
            backlog=backlog(counts[stage]),
            failed=counts[stage][State.FAILED],
            conflicts=counts[stage][State.CONFLICT],
            newest_archived=newest.get(stage),
        )
        for stage in Stage
    ]
    return DailySummary(since=since, until=until, stages=stages)
