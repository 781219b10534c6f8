"""The "last contiguous run" of a stage (legacy.md §4.4), derived from the ledger for display.

It is the end of the first unbroken sequence of run numbers whose rows are `done` or `excluded`,
counted from the lowest run the stage knows; until the ledger has one, the watermark imported
from the legacy state file stands in. It never decides what to process.
"""

from typing import Literal

from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import Session, col, select

from app.models import LedgerMeta, Stage, StageStatus
from app.pipeline.ledger import SETTLED_STATES

LEGACY_KEY = "legacy_watermark.{}"


class Watermark(BaseModel):
    """The last contiguous run (0 = none) and where it comes from."""

    run: int = 0
    origin: Literal["ledger", "legacy"] | None = None


def derived_watermark(session: Session, stage: Stage) -> int | None:
    """End of the settled island that starts at the stage's lowest run; None if that run is
    not settled (or the stage has no rows)."""
    number = col(StageStatus.run_number)
    lowest = select(func.min(number)).where(col(StageStatus.stage) == stage).scalar_subquery()
    settled = (
        select(number.label("n"), (number - func.row_number().over(order_by=number)).label("grp"))
        .where(col(StageStatus.stage) == stage, col(StageStatus.state).in_(SETTLED_STATES))
        .subquery("settled")
    )
    query = select(func.max(settled.c.n)).where(settled.c.grp == lowest - 1)
    return session.execute(query).scalar_one()


def legacy_watermark(session: Session, stage: Stage) -> int | None:
    """The `last_contiguous_run` imported from the legacy state file (None if absent or 0)."""
    row = session.get(LedgerMeta, LEGACY_KEY.format(stage.value))
    value = (row.value or {}).get("last_contiguous_run") if row else None
    return value if isinstance(value, int) and value > 0 else None


def stage_watermark(session: Session, stage: Stage) -> Watermark:
    """The ledger's watermark, else the legacy one, else none."""
    derived = derived_watermark(session, stage)
    if derived is not None:
        return Watermark(run=derived, origin="ledger")
    legacy = legacy_watermark(session, stage)
    if legacy is not None:
        return Watermark(run=legacy, origin="legacy")
    return Watermark()
