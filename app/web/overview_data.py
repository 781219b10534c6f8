"""Everything the overview shows, gathered from the ledger in one read-only session."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from app.config import Settings
from app.reports.sources import Source, ledger_sets
from app.reports.status import StatusReport, build_status_report
from app.web.gapmap import gap_map
from app.web.gapmap_layout import Layout, layout
from app.web.liveness import Liveness, liveness
from app.web.rate import RateSeries, hourly_done
from app.web.source_gaps import GapRanges, source_gap_ranges

GAP_EDGE = 4
OVERVIEW_MAP_CELLS = 200


@dataclass(frozen=True)
class Overview:
    """The status report, each source's gap ranges, liveness, rate and a compact gap map."""

    report: StatusReport
    gaps: dict[Source, GapRanges]
    liveness: Liveness
    rate: RateSeries
    gapmap: Layout
    map_width: int


def build_overview(session: Session, settings: Settings, *, now: datetime) -> Overview:
    """The overview's figures as of `now`; the run sets are read once, for the report, the gap
    ranges, the gap map and the done/excluded counts."""
    sets = ledger_sets(session)
    report = build_status_report(session, settings, now=now, sets=sets)
    holding = [summary.source for summary in report.sources if summary.total]
    overall = gap_map(session, max_cells=OVERVIEW_MAP_CELLS, sets=sets.states)
    return Overview(
        report=report,
        gaps=source_gap_ranges(sets, holding, edge=GAP_EDGE),
        liveness=liveness(session, {pair: runs.count() for pair, runs in sets.states.items()}),
        rate=hourly_done(session, now=now),
        gapmap=layout(overall),
        map_width=overall.width,
    )
