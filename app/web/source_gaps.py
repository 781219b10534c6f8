"""A source's gaps as ranges (the report lists the first missing numbers one by one; a source
card shows each hole once, `1200–1450`, however long it is)."""

from dataclasses import dataclass

from app.reports.islands import RunRange
from app.reports.sources import LedgerSets, Source


@dataclass(frozen=True)
class GapRanges:
    """The first and last `edge` gaps of a source (all when few) and how many there are."""

    ranges: list[RunRange]
    total: int


def source_gap_ranges(
    sets: LedgerSets, sources: list[Source], *, edge: int
) -> dict[Source, GapRanges]:
    """Gap ranges of each of `sources` between its first and last run; excluded runs are not
    holes."""
    return {
        source: GapRanges(*sets.sources[source].gap_ranges(skip=sets.excluded, edge=edge))
        for source in sources
    }
