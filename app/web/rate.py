"""Archiving rate: runs finished per hour and stage over the last days, grouped in SQL."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select

from app.models import Stage, StageStatus, State

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


def _hour_of(dialect: str, column: ColumnElement[datetime]) -> ColumnElement[object]:
    """The hour a timestamp falls in, as the backend can group by it."""
    if dialect == "postgresql":
        return func.date_trunc("hour", column)
    return func.strftime("%Y-%m-%d %H:00:00", column)


def _as_hour(value: object) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC)


def hourly_done(session: Session, *, now: datetime, days: int = 7) -> RateSeries:
    """Runs each stage finished (`done`, by `finished_at`) in each hour of the last `days`."""
    last_hour = now.replace(minute=0, second=0, microsecond=0)
    hours = [last_hour - HOUR * back for back in range(days * 24 - 1, -1, -1)]
    finished = col(StageStatus.finished_at)
    hour = _hour_of(session.get_bind().dialect.name, finished).label("hour")
    query = (
        select(StageStatus.stage, hour, func.count())
        .where(col(StageStatus.state) == State.DONE, finished >= hours[0])
        .group_by(col(StageStatus.stage), hour)
    )
    found = {(Stage(stage), _as_hour(at)): count for stage, at, count in session.exec(query)}
    counts = {stage: [found.get((stage, at), 0) for at in hours] for stage in Stage}
    return RateSeries(hours, counts)
