"""The gap map's data: per stage, run numbers grouped into buckets with their state counts.

Done and excluded rows are counted per bucket from the ledger's run sets (one pass over their
words), the other states in SQL with one index range count per bucket, stage and state, so
10^6 runs cost some thousand words and index probes and a few hundred cells, never one cell
per run. A bucket's colour is its most urgent state, so one failed run among a thousand done
ones still shows.
"""

from dataclasses import dataclass

from sqlalchemy import BigInteger, case, func, literal
from sqlmodel import Session, col, select

from app.models import Run, Stage, StageStatus, State
from app.reports.islands import RunBits
from app.reports.sources import SETTLED, load_run_sets, stage_set

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
StageSets = dict[tuple[Stage, State], RunBits]


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
    """Lowest and highest run number the ledger knows (runs table or stage rows); each bound
    a separate aggregate, so SQLite reads it from the end of the primary key."""
    bounds = []
    for column in (col(Run.run_number), col(StageStatus.run_number)):
        lowest, highest = (
            select(bound(column)).scalar_subquery() for bound in (func.min, func.max)
        )
        low, high = session.execute(select(lowest, highest)).one()
        if low is not None:
            bounds.append((low, high))
    if not bounds:
        return None
    return min(b[0] for b in bounds), max(b[1] for b in bounds)


def _bucket_counts(
    session: Session, first: int, last: int, *, start: int, width: int, sets: StageSets
) -> dict[tuple[Stage, int], dict[str, int]]:
    """Rows per stage, bucket and state in [first, last]. Done and excluded rows (nearly all
    of them) are counted from the run sets; the other states with one range count per
    bucket, stage and state on the (stage, state, run_number) index."""
    found: dict[tuple[Stage, int], dict[str, int]] = {}
    for (stage, state), runs in sets.items():
        for index, count in (
            runs.within(first, last).bucket_counts(start=start, width=width).items()
        ):
            found.setdefault((stage, index), {})[state.value] = count
    step = literal(1, BigInteger)
    buckets = select(literal(0, BigInteger).label("k")).cte("buckets", recursive=True)
    buckets = buckets.union_all(
        select(buckets.c.k + step).where(buckets.c.k < (last - start) // width)
    )
    low = literal(start, BigInteger) + buckets.c.k * literal(width, BigInteger)
    high = low + literal(width - 1, BigInteger)
    # one range per count, clipped to [first, last]: given two, SQLite seeks on the wider
    inside = (case((low < first, first), else_=low), case((high > last, last), else_=high))
    number = col(StageStatus.run_number)
    pairs = [(stage, state) for stage in Stage for state in State if state not in SETTLED]
    rows_in = (
        select(func.count())
        .where(
            col(StageStatus.stage) == stage,
            col(StageStatus.state) == state,
            number.between(*inside),
        )
        .scalar_subquery()
        for stage, state in pairs
    )
    names = [(stage, state.value) for stage, state in pairs]
    for index, *counts in session.execute(select(buckets.c.k, *rows_in)):
        for (stage, name), count in zip(names, counts, strict=True):
            if count:
                found.setdefault((stage, index), {})[name] = count
    return found


def stage_sets(session: Session, first: int, last: int) -> StageSets:
    """Each stage's done and excluded rows between `first` and `last`, from the run sets."""
    pairs = [(stage, state) for stage in Stage for state in SETTLED]
    names = [stage_set(*pair) for pair in pairs]
    found = load_run_sets(session, names, first=first, last=last)
    return {pair: found[name] for pair, name in zip(pairs, names, strict=True)}


def _most_urgent(counts: dict[str, int]) -> str:
    return next(state for state in URGENCY if counts.get(state))


def gap_map(
    session: Session,
    *,
    lo: int | None = None,
    hi: int | None = None,
    max_cells: int = 500,
    sets: StageSets | None = None,
) -> GapMap:
    """The map of [lo, hi] (default: everything the ledger knows) in at most `max_cells`
    buckets per stage; bucket edges are multiples of the width so ranges read naturally.
    `sets`: each stage's done and excluded run sets when the caller already read them."""
    span = known_span(session)
    if span is None:
        return GapMap(None, None, 1, None, {stage: [] for stage in Stage})
    first = span[0] if lo is None else lo
    last = span[1] if hi is None else hi
    first, last = min(first, last), max(first, last)
    width = bucket_width(first, last, max_cells)
    start = first - first % width
    found = _bucket_counts(
        session,
        first,
        last,
        start=start,
        width=width,
        sets=stage_sets(session, first, last) if sets is None else sets,
    )
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
