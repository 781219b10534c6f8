"""The three sources a report compares, as SQL, and whether each one's last listing worked.

FS is the run directories the scanner last saw. A and U are what reconcile last listed in each
store, plus the runs whose import/migration has been verified since (listings are periodic,
verified writes are immediate).
"""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy import Subquery, union
from sqlmodel import Session, col, select

from app.models import LedgerMeta, Run, Stage, StageStatus, State, StoreRun
from app.timeutil import utcnow


class Source(StrEnum):
    """Where run records live, in pipeline order."""

    FILESYSTEM = "filesystem"
    ARTDAQDB = "artdaqdb"
    UCONDB = "ucondb"


WRITTEN_BY = {Source.ARTDAQDB: Stage.IMPORT, Source.UCONDB: Stage.MIGRATE}
_LISTING_KEY = "listing.{}"


class ListingOutcome(BaseModel):
    """How the last listing of a source ended (error None = it worked)."""

    at: datetime
    error: str | None = None


def source_runs(source: Source) -> Subquery:
    """The source's run numbers as a one-column (`run_number`) subquery."""
    if source is Source.FILESYSTEM:
        return (
            select(col(Run.run_number).label("run_number"))
            .where(col(Run.present).is_(True))
            .subquery(source.value)
        )
    listed = select(col(StoreRun.run_number).label("run_number")).where(
        col(StoreRun.store) == source.value
    )
    verified = select(col(StageStatus.run_number).label("run_number")).where(
        col(StageStatus.stage) == WRITTEN_BY[source], col(StageStatus.state) == State.DONE
    )
    return union(listed, verified).subquery(source.value)


def excluded_runs() -> Subquery:
    """Runs an operator marked as permanently absent."""
    return (
        select(col(Run.run_number).label("run_number"))
        .where(col(Run.excluded_reason).is_not(None))
        .subquery("excluded")
    )


def record_listing(
    session: Session, source: Source, *, error: str | None, now: datetime | None = None
) -> None:
    """Remember how listing `source` ended, so reports show a failed source as failed.

    Called by whatever lists a source (scan, reconcile); `error` must already be redacted.
    """
    key = _LISTING_KEY.format(source.value)
    outcome = ListingOutcome(at=now or utcnow(), error=error)
    row = session.get(LedgerMeta, key) or LedgerMeta(key=key)
    row.value = outcome.model_dump(mode="json")
    row.updated_at = outcome.at
    session.add(row)


def listing_outcomes(session: Session) -> dict[Source, ListingOutcome]:
    """The last recorded listing outcome of each source that has one."""
    keys = {_LISTING_KEY.format(source.value): source for source in Source}
    rows = session.exec(select(LedgerMeta).where(col(LedgerMeta.key).in_(keys)))
    return {keys[row.key]: ListingOutcome.model_validate(row.value) for row in rows}
