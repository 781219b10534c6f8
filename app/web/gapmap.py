"""The gap map's data: per stage, run numbers grouped into buckets with their state counts.

Buckets are computed in SQL (integer division of the run number), so 10^5 runs cost one
grouped scan of the stage table and a few hundred cells, never one cell per run. A bucket's
colour is its most urgent state, so one failed run among a thousand done ones still shows.
"""

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.models import Run, Stage, StageStatus, State

ABSENT = "absent"
URGENCY = (
    State.CONFLICT.value,
    State.FAILED.value,
    State.RETRY.value,
    State.RUNNING.value,
    State.PENDING.value,
    State.WAITING.value,
    ABSENT,
    State.EXCLUDED.value,
    State.DONE.value,
)
NICE_STEPS = (1, 2, 5)


@dataclass(frozen=True)
class Cell:
    """One bucket of one stage: its runs, how many rows are in each state, the colour state."""

    first: int
    last: int
    counts: dict[str, int]
    state: str


@dataclass(frozen=True)
class GapMap:
    """Cells per stage over [first, last] in buckets of `width` runs; `span` is the whole
    ledger's range (for zooming out). Empty ledger: no cells, first/last None."""

    first: int | None
    last: int | None
    width: int
    span: tuple[int, int] | None
    cells: dict[Stage, list[Cell]]


def bucket_width(first: int, last: int, max_cells: int) -> int:
    """The smallest 1-2-5 × 10^k width whose buckets, aligned to multiples of it, cover
    [first, last] in at most `max_cells` buckets."""
    magnitude = 1
    while True:
        for step in NICE_STEPS:
            width = step * magnitude
            if last // width - first // width + 1 <= max_cells:
                return width
        magnitude *= 10


def known_span(session: Session) -> tuple[int, int] | None:
    """Lowest and highest run number the ledger knows (runs table or stage rows)."""
    bounds = []
    for column in (col(Run.run_number), col(StageStatus.run_number)):
        low, high = session.exec(select(func.min(column), func.max(column))).one()
        if low is not None:
            bounds.append((low, high))
    if not bounds:
        return None
    return min(b[0] for b in bounds), max(b[1] for b in bounds)


def _most_urgent(counts: dict[str, int]) -> str:
    return next(state for state in URGENCY if counts.get(state))


def gap_map(
    session: Session, *, lo: int | None = None, hi: int | None = None, max_cells: int = 500
) -> GapMap:
    """The map of [lo, hi] (default: everything the ledger knows) in at most `max_cells`
    buckets per stage; bucket edges are multiples of the width so ranges read naturally."""
    span = known_span(session)
    if span is None:
        return GapMap(None, None, 1, None, {stage: [] for stage in Stage})
    first = span[0] if lo is None else lo
    last = span[1] if hi is None else hi
    first, last = min(first, last), max(first, last)
    width = bucket_width(first, last, max_cells)
    start = first - first % width
    number = col(StageStatus.run_number)
    bucket = ((number - start) // width).label("bucket")
    query = (
        select(bucket, StageStatus.stage, StageStatus.state, func.count())
        .where(number.between(first, last))
        .group_by(bucket, col(StageStatus.stage), col(StageStatus.state))
    )
    found: dict[tuple[Stage, int], dict[str, int]] = {}
    for index, stage, state, count in session.exec(query):
        found.setdefault((Stage(stage), index), {})[State(state).value] = count
    cells: dict[Stage, list[Cell]] = {stage: [] for stage in Stage}
    for index in range((last - start) // width + 1):
        low = max(first, start + index * width)
        high = min(last, start + (index + 1) * width - 1)
        for stage in Stage:
            counts = dict(found.get((stage, index), {}))
            missing = (high - low + 1) - sum(counts.values())
            if missing:
                counts[ABSENT] = missing
            cells[stage].append(Cell(low, high, counts, _most_urgent(counts)))
    return GapMap(first, last, width, span, cells)
