"""A source's gaps as ranges (the report lists the first missing numbers one by one; a source
card shows each hole once, `1200–1450`, however long it is)."""

from dataclasses import dataclass

from sqlalchemy import Subquery, func, union
from sqlmodel import Session, select

from app.reports.islands import RunRange, first_and_last
from app.reports.sources import Source, excluded_runs, source_runs


@dataclass(frozen=True)
class GapRanges:
    """The first and last `edge` gaps of a source (all when few) and how many there are."""

    ranges: list[RunRange]
    total: int


def gap_ranges(
    session: Session, runs: Subquery, excluded: Subquery, *, first: int, last: int, edge: int
) -> GapRanges:
    """Holes in `runs` between `first` and `last`; excluded runs are not holes."""
    cover = union(select(runs.c.run_number), select(excluded.c.run_number)).subquery("cover")
    number = cover.c.run_number
    neighbours = select(
        number.label("n"), func.lag(number).over(order_by=number).label("prev")
    ).subquery("neighbours")
    lo, hi = neighbours.c.prev + 1, neighbours.c.n - 1
    spaces = (
        select(lo.label("lo"), hi.label("hi"))
        .where(neighbours.c.n - neighbours.c.prev > 1, lo >= first, hi <= last)
        .subquery("spaces")
    )
    ranges, total = first_and_last(session, spaces, edge=edge)
    return GapRanges(ranges, total)


def source_gap_ranges(
    session: Session, spans: dict[Source, tuple[int, int]], *, edge: int
) -> dict[Source, GapRanges]:
    """Gap ranges of every source that holds runs (`spans`: its first and last run)."""
    excluded = excluded_runs()
    return {
        source: gap_ranges(
            session, source_runs(source), excluded, first=first, last=last, edge=edge
        )
        for source, (first, last) in spans.items()
    }
