"""`/api/runs`: list, filter and export runs; a run's detail; retry, exclude and include."""

from typing import Annotated, Literal

from fastapi import APIRouter, Body, HTTPException, Path, Query, Request, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field, StringConstraints

from app.api.deps import (
    READ_ERRORS,
    WRITE_ERRORS,
    LedgerSession,
    Operator,
    Reader,
    Service,
    error_responses,
)
from app.models import ErrorKind, Readiness, Stage, State
from app.pipeline.run_actions import (
    ActionRefusedError,
    RunNotFoundError,
    RunStatePublic,
    exclude_run,
    include_run,
    release_run,
    retry_run,
)
from app.reports.redaction import configured_secrets
from app.reports.run_export import csv_chunks, json_chunks
from app.reports.run_listing import (
    RunDetailPublic,
    RunFilter,
    RunSummaryPublic,
    iter_runs,
    run_detail,
    runs_page,
)
from app.runranges import MAX_RUN, RangeSyntaxError, parse_runs
from app.timeutil import utcnow

router = APIRouter(prefix="/api/runs", tags=["runs"])

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
EXPORT_PAGE = 500
DEFAULT_EVENTS = 100
MAX_EVENTS = 1000

RunNumber = Annotated[int, Path(ge=0, le=MAX_RUN, description="Run number.")]
# Text an operator types: no control characters (PostgreSQL text cannot hold NUL at all).
PLAIN_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
Reason = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=2000, pattern=PLAIN_TEXT),
]


class RunPagePublic(BaseModel):
    """One keyset page of runs; `next` is the URL of the following page (None at the end)."""

    items: list[RunSummaryPublic]
    next: str | None


class ReasonBody(BaseModel):
    """Why the operator does this (kept in the run's history)."""

    reason: Reason


class RetryBody(BaseModel):
    """Which stage to retry (default: every retryable stage) and an optional note."""

    stage: Stage | None = None
    reason: Annotated[str | None, Field(max_length=2000, pattern=PLAIN_TEXT)] = None


_EXPORT_RESPONSES = {
    200: {
        "description": "A page of runs (JSON), or with `format` every matching run as a download.",
        "content": {"text/csv": {}, "application/json": {}},
    }
}


@router.get(
    "",
    response_model=RunPagePublic,
    responses={**_EXPORT_RESPONSES, **error_responses(*READ_ERRORS, 422)},
)
def list_runs(
    request: Request,
    state: Service,
    session: LedgerSession,
    _caller: Reader,
    stage: Annotated[Stage | None, Query(description="Only runs with a row in this stage.")] = None,
    states: Annotated[
        list[State] | None, Query(alias="state", description="Row state (repeatable).")
    ] = None,
    error_kind: Annotated[list[ErrorKind] | None, Query(description="Repeatable.")] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=200, pattern=PLAIN_TEXT, description="Text in the last error or config name."
        ),
    ] = None,
    runs: Annotated[
        str | None,
        Query(max_length=2000, pattern=PLAIN_TEXT, description="`100-200,205,300+` or `last 50`."),
    ] = None,
    readiness: Annotated[list[Readiness] | None, Query(description="Repeatable.")] = None,
    excluded: Annotated[bool | None, Query(description="Only (un)excluded runs.")] = None,
    after: Annotated[int | None, Query(ge=0, description="Cursor: runs above this.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    export: Annotated[
        Literal["csv", "json"] | None,
        Query(alias="format", description="Download every matching run instead of a page."),
    ] = None,
) -> RunPagePublic | StreamingResponse:
    """Runs matching the filters, ascending by run number, a keyset page at a time."""
    try:
        selection = parse_runs(runs) if runs else None
    except RangeSyntaxError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"runs: {exc}") from None
    filt = RunFilter(
        stage=stage,
        states=tuple(states or ()),
        error_kinds=tuple(error_kind or ()),
        text=q or None,
        runs=selection,
        readiness=tuple(readiness or ()),
        excluded=excluded,
    )
    secrets = configured_secrets(state.settings)
    if export is not None:
        rows = iter_runs(state.engine, filt, page_size=EXPORT_PAGE, secrets=secrets)
        chunks = csv_chunks(rows) if export == "csv" else json_chunks(rows)
        return StreamingResponse(
            chunks,
            media_type="text/csv; charset=utf-8" if export == "csv" else "application/json",
            headers={"Content-Disposition": f'attachment; filename="runs.{export}"'},
        )
    items, more = runs_page(session, filt, after=after, limit=limit, secrets=secrets)
    following = None
    if more:
        url = request.url.include_query_params(after=items[-1].run_number)
        following = f"{url.path}?{url.query}"
    return RunPagePublic(items=items, next=following)


@router.get(
    "/{run}", response_model=RunDetailPublic, responses=error_responses(*READ_ERRORS, 404, 422)
)
def get_run(
    run: RunNumber,
    state: Service,
    session: LedgerSession,
    _caller: Reader,
    events: Annotated[int, Query(ge=1, le=MAX_EVENTS, description="Newest events shown.")] = (
        DEFAULT_EVENTS
    ),
) -> RunDetailPublic:
    """A run's record, stage rows (checksums, timings, files), store presence and history."""
    detail = run_detail(
        session, run, events_limit=events, secrets=configured_secrets(state.settings)
    )
    if detail is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"run {run} is not in the ledger")
    return detail


def _refusals(exc: Exception) -> HTTPException:
    if isinstance(exc, RunNotFoundError):
        return HTTPException(status.HTTP_404_NOT_FOUND, str(exc))
    return HTTPException(status.HTTP_409_CONFLICT, str(exc))


@router.post(
    "/{run}/retry",
    response_model=RunStatePublic,
    responses=error_responses(*WRITE_ERRORS, 404, 409),
)
def retry(
    run: RunNumber,
    session: LedgerSession,
    caller: Operator,
    body: Annotated[RetryBody | None, Body()] = None,
) -> RunStatePublic:
    """Retry a failed, retrying or conflicting run now, with a fresh attempt budget."""
    body = body or RetryBody()
    try:
        return retry_run(
            session, run, stage=body.stage, actor=caller.name, now=utcnow(), reason=body.reason
        )
    except (RunNotFoundError, ActionRefusedError) as exc:
        raise _refusals(exc) from None


@router.post(
    "/{run}/exclude",
    response_model=RunStatePublic,
    responses=error_responses(*WRITE_ERRORS, 409),
)
def exclude(
    run: RunNumber, body: ReasonBody, session: LedgerSession, caller: Operator
) -> RunStatePublic:
    """Mark a run permanently absent (also a run number never seen): gaps skip it."""
    try:
        return exclude_run(session, run, reason=body.reason, actor=caller.name, now=utcnow())
    except ActionRefusedError as exc:
        raise _refusals(exc) from None


@router.post(
    "/{run}/include",
    response_model=RunStatePublic,
    responses=error_responses(*WRITE_ERRORS, 404, 409),
)
def include(
    run: RunNumber, body: ReasonBody, state: Service, session: LedgerSession, caller: Operator
) -> RunStatePublic:
    """Undo an exclusion: the run's stages become pending (if they can run) or waiting."""
    try:
        return include_run(
            session,
            run,
            reason=body.reason,
            actor=caller.name,
            now=utcnow(),
            archive_never_stopped=state.settings.scanner.archive_never_stopped,
        )
    except (RunNotFoundError, ActionRefusedError) as exc:
        raise _refusals(exc) from None


@router.post(
    "/{run}/release",
    response_model=RunStatePublic,
    responses=error_responses(*WRITE_ERRORS, 404, 409),
)
def release(
    run: RunNumber, body: ReasonBody, session: LedgerSession, caller: Operator
) -> RunStatePublic:
    """Archive a run that never stopped (or never started) as it is: its import becomes due."""
    try:
        return release_run(session, run, reason=body.reason, actor=caller.name, now=utcnow())
    except (RunNotFoundError, ActionRefusedError) as exc:
        raise _refusals(exc) from None
