"""`/failures`: failed, retrying and conflicting rows, with Retry / Exclude for operators."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse

from app.api.deps import LedgerSession, Service
from app.models import ErrorKind, Stage, State
from app.reports.redaction import configured_secrets
from app.runranges import MAX_RUN
from app.timeutil import utcnow
from app.web.auth import Operator, Reader, Viewer
from app.web.errors import HtmlErrorRoute
from app.web.failures import (
    PROBLEM_STATES,
    FailureRow,
    apply_action,
    chosen_action,
    failure_page,
    merged,
    rows_now,
)
from app.web.templating import is_htmx, render

router = APIRouter(route_class=HtmlErrorRoute, include_in_schema=False)
PAGE_RUNS = 100


def _view(
    request: Request,
    state: Service,
    session: LedgerSession,
    seen: Viewer,
    *,
    stage: Stage | None,
    states: list[State],
    kinds: list[ErrorKind],
    after: int | None,
    changed: list[FailureRow] | None = None,
    messages: list[str] | None = None,
) -> HTMLResponse:
    page = failure_page(
        session,
        stage=stage,
        states=tuple(states),
        kinds=tuple(kinds),
        after=after,
        limit=PAGE_RUNS,
        secrets=configured_secrets(state.settings),
    )
    context: dict[str, Any] = {
        "rows": merged(page, changed or []),
        "next_after": page.next_after,
        "after": after,
        "stage": stage,
        "states": states,
        "kinds": kinds,
        "all_states": PROBLEM_STATES,
        "all_kinds": list(ErrorKind),
        "messages": messages or [],
    }
    name = "_failures_table.html" if is_htmx(request) and changed is not None else "failures.html"
    return render(request, seen, name, context)


@router.get("/failures", response_class=HTMLResponse)
def failures(
    request: Request,
    state: Service,
    session: LedgerSession,
    seen: Reader,
    stage: Annotated[Stage | None, Query()] = None,
    states: Annotated[list[State] | None, Query(alias="state")] = None,
    kinds: Annotated[list[ErrorKind] | None, Query(alias="error_kind")] = None,
    after: Annotated[int | None, Query(ge=0, le=MAX_RUN)] = None,
) -> HTMLResponse:
    """The table, narrowed by stage, state and error kind, a page of runs at a time."""
    if any(chosen not in PROBLEM_STATES for chosen in states or []):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "state: this table lists failed, retry and conflict rows; see /runs for the others",
        )
    return _view(
        request,
        state,
        session,
        seen,
        stage=stage,
        states=states or [],
        kinds=kinds or [],
        after=after,
    )


@router.post("/failures/action", response_class=HTMLResponse)
def failures_action(
    request: Request,
    state: Service,
    session: LedgerSession,
    seen: Operator,
    action: Annotated[str, Form(max_length=16)] = "",
    row_action: Annotated[str, Form(max_length=64)] = "",
    items: Annotated[list[str] | None, Form(alias="item")] = None,
    reason: Annotated[str, Form(max_length=2000)] = "",
    stage: Annotated[Stage | None, Form()] = None,
    states: Annotated[list[State] | None, Form(alias="state")] = None,
    kinds: Annotated[list[ErrorKind] | None, Form(alias="error_kind")] = None,
) -> HTMLResponse:
    """Retry the selected rows, or exclude their runs; the table comes back with those rows
    showing their new state and one line per row saying what happened."""
    assert seen.principal is not None
    try:
        action, keys = chosen_action(action, row_action, items or [])
    except ValueError as exc:
        keys, messages = [], [str(exc)]
    else:
        messages = apply_action(
            session,
            keys,
            action=action,
            reason=reason.strip() or None,
            actor=seen.principal.name,
            now=utcnow(),
        )
    session.flush()
    changed = rows_now(session, keys, secrets=configured_secrets(state.settings))
    return _view(
        request,
        state,
        session,
        seen,
        stage=stage,
        states=states or [],
        kinds=kinds or [],
        after=None,
        changed=changed,
        messages=messages,
    )
