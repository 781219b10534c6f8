"""`/`: the overview, and the fragment of it that htmx re-fetches every few seconds."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.api.deps import Service
from app.db import describe_url, session_scope
from app.timeutil import utcnow
from app.web.auth import Reader
from app.web.errors import HtmlErrorRoute
from app.web.overview_data import Overview, build_overview
from app.web.shared import Snapshot, per_app
from app.web.source_probes import reachability
from app.web.templating import render

router = APIRouter(route_class=HtmlErrorRoute, include_in_schema=False)
REFRESH_SECONDS = 10
SNAPSHOT_SECONDS = 5.0
PROBE_WAIT_SECONDS = 0.3


def _overview(state: Service) -> Overview:
    with session_scope(state.engine) as session:
        return build_overview(session, state.settings, now=utcnow())


def _context(request: Request, state: Service) -> dict[str, Any]:
    snapshot: Snapshot[Overview] = per_app(
        request, "web_overview", lambda: Snapshot(SNAPSHOT_SECONDS)
    )
    probes = reachability(request, state).snapshot(wait_seconds=PROBE_WAIT_SECONDS)
    return {
        "ov": snapshot.get(lambda: _overview(state)),
        "probes": {probe.name: probe for probe in probes},
        "ledger": describe_url(str(state.settings.database.url)),
        "refresh_seconds": REFRESH_SECONDS,
    }


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, state: Service, seen: Reader) -> HTMLResponse:
    """Sources, recommendations, liveness, backlog, rate and the gap map at a glance (one
    snapshot of the ledger per few seconds, shared by every viewer)."""
    return render(request, seen, "overview.html", _context(request, state))


@router.get("/overview/live", response_class=HTMLResponse)
def overview_live(request: Request, state: Service, seen: Reader) -> HTMLResponse:
    """The overview's body alone, for htmx polling."""
    return render(request, seen, "_overview_live.html", _context(request, state))
