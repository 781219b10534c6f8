"""Errors on dashboard routes become readable pages (or, for htmx, a message in the flash area)
instead of the API's JSON; redirects (sign in first) stay redirects."""

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from app.web.templating import is_htmx, render


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ())[1:]) or "request"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def error_response(request: Request, status_code: int, message: str) -> Response:
    """The error as a page, or as a flash message that htmx swaps into `#flash`."""
    if is_htmx(request):
        response = render(request, None, "_flash.html", {"error": message}, status_code=status_code)
        response.headers.update({"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"})
        return response
    return render(
        request,
        None,
        "error.html",
        {"status_code": status_code, "message": message},
        status_code=status_code,
    )


class HtmlErrorRoute(APIRoute):
    """An APIRoute whose HTTP and validation errors render as HTML."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except HTTPException as exc:
                location = (exc.headers or {}).get("Location")
                if 300 <= exc.status_code < 400 and location:
                    return RedirectResponse(location, status_code=exc.status_code)
                return error_response(request, exc.status_code, str(exc.detail))
            except RequestValidationError as exc:
                return error_response(request, 422, _validation_message(exc))

        return route
