"""`/runs` (filtered, paged list with export links) and `/runs/{run}` (metadata, stages, events,
files in artdaq_database and UconDB, and their differences)."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status
from fastapi.responses import HTMLResponse

from app.api.deps import LedgerSession, Service
from app.db import session_scope
from app.models import ErrorKind, Readiness, Stage, State
from app.reports.redaction import configured_secrets
from app.reports.run_listing import RunDetailPublic, run_detail, runs_page
from app.runranges import MAX_RUN, RangeSyntaxError
from app.web.auth import Reader, Viewer
from app.web.errors import HtmlErrorRoute
from app.web.run_components import run_components
from app.web.run_files import (
    FileUnavailableError,
    archived,
    as_text,
    compare_run,
    exported,
    fetch,
    store_file,
)
from app.web.run_query import PAGE_SIZES, RunQueryParams
from app.web.templating import finish, is_htmx, render

router = APIRouter(route_class=HtmlErrorRoute, include_in_schema=False)
EVENTS_SHOWN = 200

RunNumber = Annotated[int, Path(ge=0, le=MAX_RUN, description="Run number.")]
FileSource = Literal["artdaqdb", "ucondb"]


@router.get("/runs", response_class=HTMLResponse)
def runs_list(
    request: Request, state: Service, session: LedgerSession, seen: Reader, query: RunQueryParams
) -> HTMLResponse:
    """Runs matching the URL's filters, a keyset page at a time, with CSV/JSON export links."""
    error = None
    items: list[Any] = []
    more = False
    try:
        filt = query.run_filter()
    except RangeSyntaxError as exc:
        error = f"runs: {exc}"
    else:
        items, more = runs_page(
            session,
            filt,
            after=query.after,
            limit=query.limit,
            secrets=configured_secrets(state.settings),
        )
    return render(
        request,
        seen,
        "runs.html",
        {
            "query": query,
            "items": items,
            "error": error,
            "next_href": f"/runs?{query.params(after=items[-1].run_number)}" if more else None,
            "first_href": f"/runs?{query.params()}" if query.after is not None else None,
            "export_csv": f"/api/runs?{query.params(limit=None, format='csv')}",
            "export_json": f"/api/runs?{query.params(limit=None, format='json')}",
            "stages": list(Stage),
            "states": list(State),
            "kinds": list(ErrorKind),
            "readiness": list(Readiness),
            "page_sizes": PAGE_SIZES,
        },
    )


def _detail(state: Service, run: int) -> RunDetailPublic:
    """The run from the ledger, in a transaction closed before any slow store I/O."""
    with session_scope(state.engine) as session:
        detail = run_detail(
            session, run, events_limit=EVENTS_SHOWN, secrets=configured_secrets(state.settings)
        )
    if detail is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"run {run} is not in the ledger")
    return detail


def _config_name(detail: RunDetailPublic) -> str | None:
    """The configuration the run was imported as (what artdaq_database exports it by)."""
    imported = detail.stages.get(Stage.IMPORT)
    details = imported.details if imported else None
    return (details or {}).get("config_name")


@router.get("/runs/{run}", response_class=HTMLResponse)
def run_page(request: Request, state: Service, seen: Reader, run: RunNumber) -> HTMLResponse:
    """Everything the ledger knows about the run; the stores' copies load below it."""
    detail = _detail(state, run)
    components = run_components(
        state.runner.ctx.run_dir(run), max_bytes=state.settings.scanner.max_file_bytes
    )
    context = {"run": detail, "config_name": _config_name(detail), "components": components}
    return render(request, seen, "run.html", context)


def _part(request: Request, seen: Viewer, name: str, context: dict[str, Any]) -> HTMLResponse:
    """A run page section: a fragment for htmx, a page of its own without JavaScript."""
    if is_htmx(request):
        return render(request, seen, f"_run_{name}.html", context)
    return render(request, seen, "run_part.html", {**context, "part": name})


@router.get("/runs/{run}/artdaqdb", response_class=HTMLResponse)
def run_artdaqdb(request: Request, state: Service, seen: Reader, run: RunNumber) -> HTMLResponse:
    """The run's files as artdaq_database exports them (converted FHiCL included)."""
    detail = _detail(state, run)
    config_name = _config_name(detail)
    secrets = configured_secrets(state.settings)
    export = (
        fetch(lambda: exported(state.runner.ctx.store, run, config_name), secrets)
        if config_name
        else None
    )
    return _part(
        request, seen, "artdaqdb", {"run": detail, "config_name": config_name, "export": export}
    )


@router.get("/runs/{run}/ucondb", response_class=HTMLResponse)
def run_ucondb(request: Request, state: Service, seen: Reader, run: RunNumber) -> HTMLResponse:
    """The run's blob in UconDB: checksums and the files it unpacks to."""
    detail = _detail(state, run)
    blob = fetch(lambda: archived(state.runner.ctx.ucondb, run), configured_secrets(state.settings))
    return _part(request, seen, "ucondb", {"run": detail, "blob": blob})


@router.get("/runs/{run}/ucondb/blob")
def run_blob(request: Request, state: Service, seen: Reader, run: RunNumber) -> Response:
    """The stored blob as a download, byte for byte."""
    blob = fetch(lambda: state.runner.ctx.ucondb.download(run), configured_secrets(state.settings))
    if blob.error:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, f"UconDB: {blob.error}")
    if blob.value is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"UconDB holds nothing for run {run}")
    response = Response(
        blob.value,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="run_{run}.blob.txt"'},
    )
    return finish(request, response, seen)


@router.get("/runs/{run}/diff", response_class=HTMLResponse)
def run_diff(request: Request, state: Service, seen: Reader, run: RunNumber) -> HTMLResponse:
    """artdaq_database against UconDB: identical, stamp only, or file by file."""
    detail = _detail(state, run)
    comparison, problem = compare_run(
        state.runner.ctx, run, _config_name(detail), configured_secrets(state.settings)
    )
    context = {"run": detail, "problem": problem, "comparison": comparison}
    return _part(request, seen, "diff", context)


@router.get("/runs/{run}/file", response_class=HTMLResponse)
def run_file(
    request: Request,
    state: Service,
    seen: Reader,
    run: RunNumber,
    source: Annotated[FileSource, Query()],
    name: Annotated[str, Query(min_length=1, max_length=1000)],
) -> HTMLResponse:
    """One file of the run as artdaq_database exports it or as the UconDB blob holds it."""
    detail = _detail(state, run)
    try:
        content = store_file(
            state.runner.ctx,
            run,
            source=source,
            name=name,
            config_name=_config_name(detail),
            secrets=configured_secrets(state.settings),
        )
    except FileUnavailableError as exc:
        code = status.HTTP_502_BAD_GATEWAY if exc.unreachable else status.HTTP_404_NOT_FOUND
        raise HTTPException(code, str(exc)) from None
    text, cut = as_text(content)
    return render(
        request,
        seen,
        "file.html",
        {
            "run": detail,
            "source": source,
            "name": name,
            "size": len(content),
            "text": text,
            "cut": cut,
        },
    )
