"""What API routes depend on: who is calling (and may they), a ledger session, error docs.

Authorization works on a `Principal`, not on a token row, so the dashboard's browser session
(cookie + CSRF) can become a second credential source in `current_principal` without touching
any route.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlmodel import Session

from app.auth.tokens import authenticate, scope_allows
from app.db import session_scope
from app.models import TokenScope
from app.state import ServiceState, service_state

_CHALLENGE = {"WWW-Authenticate": "Bearer"}
_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiToken",
    description="A token from `rra token create`, sent as `Authorization: Bearer <token>`.",
)

Service = Annotated[ServiceState, Depends(service_state)]


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a name for the event history and the scope it holds."""

    name: str
    scope: TokenScope
    via: str


class ErrorPublic(BaseModel):
    """Every error response: one human-readable explanation."""

    detail: Any


_ERROR_TEXT = {
    401: "Missing, unknown or revoked bearer token.",
    403: "The token's scope does not allow this.",
    404: "Not found (the message names what).",
    409: "The run is not in a state that allows this.",
    422: "Invalid parameters or body.",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the error statuses a route can return."""
    return {code: {"model": ErrorPublic, "description": _ERROR_TEXT[code]} for code in codes}


def ledger_session(state: Service) -> Iterator[Session]:
    """A unit of work per request, committed before the response is sent."""
    with session_scope(state.engine) as session:
        yield session


LedgerSession = Annotated[Session, Depends(ledger_session, scope="function")]


def current_principal(
    request: Request,
    state: Service,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> Principal | None:
    """The caller, or None when no credential was sent; a bad credential is a 401.

    Reads also accept the dashboard's signed-in session cookie (so its export links work when
    reads need a token); writes through the API always need a bearer token (no CSRF here).
    """
    if bearer is None:
        if request.method in ("GET", "HEAD"):
            return _session_principal(request, state)
        return None
    with session_scope(state.engine) as session:
        token = authenticate(session, bearer.credentials)
        if token is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail="invalid or revoked API token",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return Principal(name=token.name, scope=token.scope, via="token")


def _session_principal(request: Request, state: ServiceState) -> Principal | None:
    from app.web.auth import session_principal
    from app.web.session import COOKIE_NAME, decode_session, session_key

    session = decode_session(
        request.cookies.get(COOKIE_NAME), key=session_key(state.settings.auth.session_secret)
    )
    return session_principal(state, session) if session is not None else None


def _authorize(principal: Principal | None, needed: TokenScope) -> Principal:
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail=f"this needs an API token with scope {needed.value!r} "
            "(Authorization: Bearer <token>)",
            headers=_CHALLENGE,
        )
    if not scope_allows(principal.scope, needed):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"token {principal.name!r} has scope {principal.scope.value!r}; "
            f"this needs {needed.value!r}",
        )
    return principal


def require_scope(needed: TokenScope) -> Callable[..., Principal]:
    """A dependency admitting callers whose scope includes `needed`."""

    def dependency(
        principal: Annotated[Principal | None, Depends(current_principal)],
    ) -> Principal:
        return _authorize(principal, needed)

    return dependency


def read_access(
    state: Service, principal: Annotated[Principal | None, Depends(current_principal)]
) -> Principal | None:
    """Reads are public unless `auth.read_requires_token`; then they need scope `read`."""
    if state.settings.auth.read_requires_token:
        return _authorize(principal, TokenScope.READ)
    return principal


Reader = Annotated[Principal | None, Depends(read_access)]
Operator = Annotated[Principal, Depends(require_scope(TokenScope.OPERATE))]
READ_ERRORS = (401, 403)
WRITE_ERRORS = (401, 403, 422)
