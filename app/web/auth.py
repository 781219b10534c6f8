"""Who is looking at the dashboard, and may they act: the session cookie is a second credential
source beside the API's bearer tokens, and every state-changing POST must carry the session's
CSRF token."""

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, status

from app.api.deps import Principal, Service, current_principal
from app.auth.tokens import scope_allows
from app.db import session_scope
from app.models import ApiToken, TokenScope
from app.web.session import (
    COOKIE_NAME,
    WebSession,
    csrf_matches,
    decode_session,
    new_session,
    session_key,
)

CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"


@dataclass(frozen=True)
class Viewer:
    """The browser's session and, when signed in (or sending a bearer token), its principal."""

    session: WebSession
    principal: Principal | None

    @property
    def can_operate(self) -> bool:
        """Whether action buttons are shown and POSTs are accepted."""
        return self.principal is not None and scope_allows(self.principal.scope, TokenScope.OPERATE)


def session_principal(state: Service, session: WebSession) -> Principal | None:
    """The principal a signed session stands for: its token, while that token is not revoked."""
    if session.token_id is None:
        return None
    with session_scope(state.engine) as db:
        token = db.get(ApiToken, session.token_id)
        if token is None or token.revoked_at is not None:
            return None
        return Principal(name=token.name, scope=token.scope, via="session")


def viewer(
    request: Request,
    state: Service,
    bearer: Annotated[Principal | None, Depends(current_principal)],
) -> Viewer:
    """The session from the cookie (a new anonymous one when missing, forged or expired) and the
    principal: the signed-in token, else a bearer token sent by a script."""
    session = decode_session(
        request.cookies.get(COOKIE_NAME), key=session_key(state.settings.auth.session_secret)
    )
    if session is None:
        return Viewer(new_session(), bearer)
    principal = session_principal(state, session)
    if session.token_id is not None and principal is None:
        return Viewer(new_session(), bearer)
    return Viewer(session, principal or bearer)


def page_reader(
    request: Request, state: Service, seen: Annotated[Viewer, Depends(viewer)]
) -> Viewer:
    """Pages are public unless `auth.read_requires_token`; then anonymous readers sign in."""
    if state.settings.auth.read_requires_token and seen.principal is None:
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        raise HTTPException(
            status.HTTP_303_SEE_OTHER,
            detail="sign in to read this dashboard",
            headers={"Location": f"/login?next={target}"},
        )
    return seen


async def csrf_checked(request: Request, seen: Annotated[Viewer, Depends(viewer)]) -> Viewer:
    """Any dashboard POST: the session's CSRF token must come back in the form or a header."""
    presented = request.headers.get(CSRF_HEADER)
    if presented is None:
        field = (await request.form()).get(CSRF_FIELD)
        presented = field if isinstance(field, str) else None
    if seen.session.fresh or not csrf_matches(seen.session, presented):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="the form's security token is missing or stale; reload the page and try again",
        )
    return seen


def operator(seen: Annotated[Viewer, Depends(csrf_checked)]) -> Viewer:
    """A POST that changes the ledger: CSRF-checked and signed in with scope `operate`."""
    if seen.principal is None:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="read-only: sign in with an API token of scope 'operate' to do this",
        )
    if not seen.can_operate:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"{seen.principal.name!r} has scope {seen.principal.scope.value!r}; "
            "this needs 'operate'",
        )
    return seen


Visitor = Annotated[Viewer, Depends(viewer)]
Reader = Annotated[Viewer, Depends(page_reader)]
Poster = Annotated[Viewer, Depends(csrf_checked)]
Operator = Annotated[Viewer, Depends(operator)]
