"""Rendering dashboard pages: the template environment, its filters, and the response headers
every page carries (session cookie, CSP that allows nothing but this server)."""

from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app import __version__
from app.timeutil import utcnow
from app.web.auth import CSRF_HEADER, Viewer
from app.web.session import COOKIE_NAME, MAX_AGE_SECONDS, encode_session, session_key

R = TypeVar("R", bound=Response)
TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parents[2] / "templates")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def age(moment: datetime | None, now: datetime | None = None) -> str:
    """`3 min ago`-style age of a UTC moment, for liveness at a glance."""
    if moment is None:
        return "never"
    seconds = int(((now or utcnow()) - moment).total_seconds())
    if seconds < 0:
        return "in the future"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def when(moment: datetime | None) -> str:
    """A UTC timestamp as operators read it."""
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "—"


def grouped(number: int | None) -> str:
    """A count with thousands separators (run numbers are shown plain)."""
    return "—" if number is None else f"{number:,}".replace(",", "\u202f")


TEMPLATES.env.filters.update(age=age, when=when, grouped=grouped)


def is_htmx(request: Request) -> bool:
    """Whether htmx sent the request (then a fragment is answered, not a whole page)."""
    return request.headers.get("HX-Request") == "true"


def finish(request: Request, response: R, seen: Viewer | None) -> R:
    """Security headers, and the session cookie when this request started the session."""
    response.headers.update(SECURITY_HEADERS)
    if seen is not None and seen.session.fresh:
        response.set_cookie(
            COOKIE_NAME,
            encode_session(
                seen.session,
                key=session_key(request.app.state.service.settings.auth.session_secret),
            ),
            max_age=MAX_AGE_SECONDS,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )
    return response


def render(
    request: Request,
    seen: Viewer | None,
    name: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """Render `name` with the viewer, CSRF token and version every template may use."""
    common = {
        "viewer": seen,
        "csrf": seen.session.csrf if seen else "",
        "csrf_header": CSRF_HEADER,
        "version": __version__,
        "now": utcnow(),
        "path": request.url.path,
        "htmx": is_htmx(request),
    }
    response = TEMPLATES.TemplateResponse(
        request, name, {**common, **context}, status_code=status_code
    )
    return finish(request, response, seen)
