"""Wire conventions of the real UconDB server: parameters, content types and error pages.

Parameters come from the query string or, for `/data`, `/get`, `/put` and `/lookup_versions`,
from path segments (bare ones are folder then object, `k=v` ones are named). Errors other than
500 are short `text/html` strings; a 500 is an HTML page with the message in `<h3>` followed by a
traceback, which clients must not log.
"""

import html
import json
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

PRODUCT_VERSION = "3.9.7"
CHUNK = 1024 * 1024
_REJECTED = set("<'>\\|")

Params = dict[str, list[str]]


class ServerError(Exception):
    """An answer other than success; a 500 renders as the real server's HTML error page."""

    def __init__(self, status: int, message: str = "", headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})

    def response(self) -> Response:
        """The HTTP answer."""
        if self.status == 500:
            return text(error_page(self.message), 500)
        return text(self.message, self.status, self.headers)


def params(request: Request, rest: str = "", *, data_endpoint: bool = False) -> Params:
    """Query parameters merged with (already decoded) path segments; a name in both is a 500."""
    from_path: Params = {}
    positional = []
    for segment in (s for s in rest.split("/") if s):
        name, eq, value = segment.partition("=")
        if eq:
            from_path.setdefault(name, []).append(value)
        else:
            positional.append(segment)
    for name, value in zip(("folder", "object"), positional, strict=False):
        from_path[name] = [value]
    if len(positional) > 2:
        raise ServerError(500, f"Unexpected path segment {positional[2]!r}")
    merged: Params = {}
    for name, value in request.query_params.multi_items():
        merged.setdefault(name, []).append(value)
    for name, values in from_path.items():
        if name in merged:
            raise ServerError(500, "Value for key specified twice in the URL")
        merged[name] = values
    for values in merged.values():
        for value in values:
            if _REJECTED & set(value):
                raise ServerError(400, "Invalid characters in the request")
            if data_endpoint and ";" in value:
                raise ServerError(500, "Invalid argument value")
    return merged


def one(given: Params, name: str, default: str | None = None) -> str | None:
    """The first value of a parameter."""
    values = given.get(name)
    return values[0] if values else default


def number(value: str, what: str) -> float:
    """A float parameter; anything else is the real server's 500."""
    try:
        return float(value)
    except ValueError:
        raise ServerError(500, f"could not convert string to float: {value!r} ({what})") from None


def integer(value: str, what: str) -> int:
    """An integer parameter; anything else is the real server's 500."""
    try:
        return int(value)
    except ValueError:
        raise ServerError(
            500, f"invalid literal for int() with base 10: {value!r} ({what})"
        ) from None


def text(
    body: str | bytes, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A plain answer typed `text/html`, as the real server types ids, `OK` and messages."""
    return Response(body, status, headers={"content-type": "text/html", **(headers or {})})


def json_text(value: Any) -> Response:
    """JSON typed `text/json` (not `application/json`)."""
    return Response(json.dumps(value), headers={"content-type": "text/json"})


def json_seq(records: Iterable[Any]) -> Response:
    """An RFC 7464 JSON text sequence typed `text/json-seq`."""
    body = b"".join(b"\x1e" + json.dumps(r).encode() + b"\n" for r in records)
    return Response(body, headers={"content-type": "text/json-seq"})


def blob(data: bytes, headers: Mapping[str, str]) -> StreamingResponse:
    """Blob bytes streamed in 1 MiB chunks without `Content-Length`, no charset."""

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(data), CHUNK):
            yield data[start : start + CHUNK]

    return StreamingResponse(
        chunks(), headers={"content-type": "application/octet-stream", **headers}
    )


def error_page(message: str) -> str:
    """The HTML page of an unhandled server exception: message in `<h3>`, then a traceback."""
    quoted = html.escape(message)
    return (
        "<html><head><title>500 Internal Server Error</title></head><body>\n"
        "<h1>Internal Server Error</h1>\n"
        f"<h3>{quoted}</h3>\n<pre>Traceback (most recent call last):\n"
        '  File "/usr/lib/python3/site-packages/webpie/WPApp.py", line 352, in __call__\n'
        "    return self.wsgi_call(environ, start_response)\n"
        '  File "/opt/ucondb/server/handler.py", line 411, in data\n'
        "    raise ValueError(message)\n"
        f"ValueError: {quoted}\n</pre></body></html>\n"
    )
