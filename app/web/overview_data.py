"""Everything the overview shows, gathered from the ledger in one read-only session."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from app.config import Settings
from app.reports.sources import Source
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
    """The overview's figures as of `now`."""
    report = build_status_report(session, settings, now=now)
    spans = {
        summary.source: (summary.first, summary.last)
        for summary in report.sources
        if summary.first is not None and summary.last is not None
    }
    overall = gap_map(session, max_cells=OVERVIEW_MAP_CELLS)
    return Overview(
        report=report,
        gaps=source_gap_ranges(session, spans, edge=GAP_EDGE),
        liveness=liveness(session),
        rate=hourly_done(session, now=now),
        gapmap=layout(overall),
        map_width=overall.width,
    )
