"""`/api/report` (JSON) and `/api/report.txt` (the legacy text layout) from the ledger.

Both answer 200 even when a source's last listing failed: the report then says so (`ok` false,
the source's `error`; the text ends with the `✗ … query failed` line), as `rra report` does
with exit status 1.
"""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse

from app.api.deps import READ_ERRORS, Reader, Service, error_responses
from app.db import session_scope
from app.reports.legacy_text import render_legacy_text
from app.reports.status import StatusReport, build_status_report
from app.state import ServiceState
from app.web.shared import Snapshot, per_app

router = APIRouter(prefix="/api", tags=["report"])
REPORT_TTL_SECONDS = 5.0


def current_report(request: Request, state: ServiceState) -> StatusReport:
    """The report, computed at most once per REPORT_TTL_SECONDS however many clients ask
    (`generated_at` says when), so a burst of clients costs one computation."""

    def compute() -> StatusReport:
        with session_scope(state.engine) as session:
            return build_status_report(session, state.settings)

    snapshot = per_app(request, "api_report", lambda: Snapshot(REPORT_TTL_SECONDS))
    return snapshot.get(compute)


@router.get("/report", response_model=StatusReport, responses=error_responses(*READ_ERRORS))
def report(request: Request, state: Service, _caller: Reader) -> StatusReport:
    """Sources (islands, gaps, exclusions), recommendations and the state comparison."""
    return current_report(request, state)


@router.get(
    "/report.txt",
    response_class=PlainTextResponse,
    responses={
        200: {"content": {"text/plain": {}}, "description": "The legacy report's lines."},
        **error_responses(*READ_ERRORS, 422),
    },
)
def report_text(
    request: Request,
    state: Service,
    _caller: Reader,
    compare_state: Annotated[
        bool, Query(description="Add the state comparison (legacy --compare-state).")
    ] = False,
) -> PlainTextResponse:
    """The status report in the legacy layout, as bare message lines."""
    text = render_legacy_text(current_report(request, state), compare_state=compare_state)
    return PlainTextResponse(text)
