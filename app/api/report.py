"""`/api/report` (JSON) and `/api/report.txt` (the legacy text layout) from the ledger.

Both answer 200 even when a source's last listing failed: the report then says so (`ok` false,
the source's `error`; the text ends with the `✗ … query failed` line), as `rra report` does
with exit status 1.
"""

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from app.api.deps import READ_ERRORS, LedgerSession, Reader, Service, error_responses
from app.reports.legacy_text import render_legacy_text
from app.reports.status import StatusReport, build_status_report

router = APIRouter(prefix="/api", tags=["report"])


@router.get("/report", response_model=StatusReport, responses=error_responses(*READ_ERRORS))
def report(state: Service, session: LedgerSession, _caller: Reader) -> StatusReport:
    """Sources (islands, gaps, exclusions), recommendations and the state comparison."""
    return build_status_report(session, state.settings)


@router.get(
    "/report.txt",
    response_class=PlainTextResponse,
    responses={
        200: {"content": {"text/plain": {}}, "description": "The legacy report's lines."},
        **error_responses(*READ_ERRORS, 422),
    },
)
def report_text(
    state: Service,
    session: LedgerSession,
    _caller: Reader,
    compare_state: Annotated[
        bool, Query(description="Add the state comparison (legacy --compare-state).")
    ] = False,
) -> PlainTextResponse:
    """The status report in the legacy layout, as bare message lines."""
    text = render_legacy_text(
        build_status_report(session, state.settings), compare_state=compare_state
    )
    return PlainTextResponse(text)
