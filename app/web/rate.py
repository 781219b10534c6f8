"""Archiving rate: runs finished per hour and stage over the last days, counted in SQL."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, String, cast, func, literal, literal_column
from sqlmodel import Session, col, select

from app.models import Stage, StageStatus, State
from app.timeutil import UtcDateTime

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class RateSeries:
    """Runs done per hour, oldest hour first, for each stage; `hours` are the hours' starts."""

    hours: list[datetime]
    counts: dict[Stage, list[int]]

    @property
    def peak(self) -> int:
        """The busiest hour of any stage (the chart's scale)."""
        return max((max(values, default=0) for values in self.counts.values()), default=0)

    def total(self, stage: Stage, last_hours: int | None = None) -> int:
        """Runs the stage finished in the whole series, or in its last `last_hours` hours."""
        values = self.counts[stage]
        return sum(values[-last_hours:] if last_hours else values)


def _hour_start(dialect: str, first: datetime, hour: ColumnElement[int]) -> ColumnElement[object]:
    """The start of the `hour`-th hour after `first`, as the backend compares timestamps
    (SQLite stores them as text: 'YYYY-MM-DD HH:MM:SS' sorts before any fraction of it)."""
    start = literal(first, UtcDateTime())
    if dialect == "postgresql":
        return start + hour * literal_column("INTERVAL '1 hour'")
    return func.datetime(start, literal("+") + cast(hour, String) + literal(" hours"))


def hourly_done(session: Session, *, now: datetime, days: int = 7) -> RateSeries:
    """Runs each stage finished (`done`, by `finished_at`) in each hour of the last `days`:
    one range count per hour and stage on the (stage, state, finished_at) index, so a week in
    which a million runs were caught up costs index steps, not a grouped pass over them."""
    last_hour = now.replace(minute=0, second=0, microsecond=0)
    hours = [last_hour - HOUR * back for back in range(days * 24 - 1, -1, -1)]
    dialect = session.get_bind().dialect.name
    index = select(literal(0).label("k")).cte("hours", recursive=True)
    index = index.union_all(select(index.c.k + 1).where(index.c.k < len(hours) - 1))
    finished = col(StageStatus.finished_at)
    done_in = (
        select(func.count())
        .where(
            col(StageStatus.stage) == stage,
            col(StageStatus.state) == State.DONE,
            finished >= _hour_start(dialect, hours[0], index.c.k),
            finished < _hour_start(dialect, hours[0], index.c.k + 1),
        )
        .scalar_subquery()
        for stage in Stage
    )
    found = {hour: counts for hour, *counts in session.execute(select(index.c.k, *done_in))}
    counts = {
        stage: [found[hour][position] for hour in range(len(hours))]
        for position, stage in enumerate(Stage)
    }
    return RateSeries(hours, counts)
