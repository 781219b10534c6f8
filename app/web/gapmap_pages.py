"""`/gapmap`: run numbers × stages, zoomable from the whole ledger down to single runs."""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from app.api.deps import LedgerSession
from app.runranges import MAX_RUN
from app.web.auth import Reader
from app.web.errors import HtmlErrorRoute
from app.web.gapmap import URGENCY, GapMap, gap_map
from app.web.gapmap_layout import layout
from app.web.templating import render

router = APIRouter(route_class=HtmlErrorRoute, include_in_schema=False)
MAX_CELLS = 500
ZOOM_OUT = 10

RunBound = Annotated[int | None, Query(ge=0, le=MAX_RUN)]


def _zoomed_out(gmap: GapMap) -> tuple[int, int] | None:
    """The range ten times wider around the current one (None when showing everything)."""
    if gmap.span is None or gmap.first is None or gmap.last is None:
        return None
    if (gmap.first, gmap.last) == gmap.span:
        return None
    middle, half = (gmap.first + gmap.last) // 2, (gmap.last - gmap.first + 1) * ZOOM_OUT // 2
    return max(gmap.span[0], middle - half), min(gmap.span[1], middle + half)


@router.get("/gapmap", response_class=HTMLResponse)
def gapmap_page(
    request: Request,
    session: LedgerSession,
    seen: Reader,
    lo: RunBound = None,
    hi: RunBound = None,
) -> HTMLResponse:
    """The map of [lo, hi] (default: every run the ledger knows); cells zoom or open a run."""
    gmap = gap_map(session, lo=lo, hi=hi, max_cells=MAX_CELLS)
    return render(
        request,
        seen,
        "gapmap.html",
        {
            "gmap": gmap,
            "drawing": layout(gmap),
            "states": URGENCY,
            "zoom_out": _zoomed_out(gmap),
        },
    )
