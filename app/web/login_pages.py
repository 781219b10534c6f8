"""Signing in and out: an API token pasted into a form becomes a signed session cookie.

The token itself is never stored in the cookie or shown again; the session names the token's
row, so revoking the token ends every session signed in with it.
"""

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.api.deps import Service
from app.auth.tokens import authenticate
from app.db import session_scope
from app.web.auth import Poster, Viewer, Visitor, session_principal
from app.web.errors import HtmlErrorRoute
from app.web.session import new_session
from app.web.templating import finish, render

router = APIRouter(route_class=HtmlErrorRoute, include_in_schema=False)


def _local(target: str | None) -> str:
    """Only paths on this server are followed after signing in (no open redirect)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


@router.get("/login", response_class=HTMLResponse)
def login_form(
    request: Request,
    seen: Visitor,
    next_page: Annotated[str | None, Query(alias="next", max_length=2000)] = None,
) -> HTMLResponse:
    """The sign-in form (it also starts the session whose CSRF token the form carries)."""
    return render(request, seen, "login.html", {"next": _local(next_page), "error": None})


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    state: Service,
    seen: Poster,
    token: Annotated[str, Form(max_length=400)] = "",
    next_page: Annotated[str, Form(alias="next", max_length=2000)] = "/",
) -> Response:
    """Check the token; on success start a new signed-in session and go where the user was."""
    with session_scope(state.engine) as db:
        found = authenticate(db, token) if token.strip() else None
        token_id = found.id if found is not None else None
    if token_id is None:
        return render(
            request,
            seen,
            "login.html",
            {"next": _local(next_page), "error": "That token is unknown or revoked."},
            status_code=401,
        )
    signed_in = new_session(token_id)
    principal = session_principal(state, signed_in)
    response = RedirectResponse(_local(next_page), status_code=303)
    return finish(request, response, Viewer(signed_in, principal))


@router.post("/logout")
def logout(request: Request, seen: Poster) -> Response:
    """End the signed-in session (a new anonymous one replaces it)."""
    response = RedirectResponse("/", status_code=303)
    return finish(request, response, Viewer(new_session(), None))
