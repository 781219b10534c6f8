"""The derived "last contiguous run" of a stage (legacy.md §4.4), computed in SQL.

For display, `--incremental` and `--compare-state` only: it never decides that a run is done.
"""

from sqlalchemy import text
from sqlmodel import Session

from app.models import LedgerMeta, Stage

_SQL = text(
    """
    WITH rows_of_stage AS (
        SELECT run_number, state FROM stage_status WHERE stage = :stage
    ),
    settled AS (
        SELECT run_number,
               run_number - ROW_NUMBER() OVER (ORDER BY run_number) AS island
        FROM rows_of_stage WHERE state IN ('done', 'excluded')
    )
    SELECT MAX(run_number) FROM settled
    WHERE island = (SELECT MIN(run_number) - 1 FROM rows_of_stage)
    """
)


def derived_watermark(session: Session, stage: Stage) -> int | None:
    """End of the first unbroken sequence of done/excluded runs from the stage's lowest run,
    else the legacy watermark imported from the old state files, else None."""
    value = session.execute(_SQL, {"stage": stage.value}).scalar()
    if value is not None:
        return int(value)
    legacy = session.get(LedgerMeta, f"legacy_watermark.{stage.value}")
    if legacy is not None and legacy.value.get("last_contiguous_run"):
        return int(legacy.value["last_contiguous_run"])
    return None
