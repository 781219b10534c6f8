"""UconDB failures as exceptions the pipeline can classify by `kind`, `reason` and `retryable`.

Messages carry the HTTP status and the server's own message (the `<h3>` of its HTML error page,
never the traceback); they never carry credentials or request headers.
"""

import html
import re
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from app.stores.ucondb.checksums import BlobChecksums
    from app.stores.ucondb.records import StoredVersion

_H3 = re.compile(r"<h3>(.*?)</h3>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
MESSAGE_LIMIT = 300


class UconDBError(Exception):
    """The store could not do what was asked; `reason` says why, `retryable` if later may work."""

    kind = "ucondb"

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        retryable: bool,
        status: int | None = None,
        server_message: str | None = None,
        run: int | None = None,
    ) -> None:
        self.summary = message
        detail = message
        if status is not None:
            detail += f" (HTTP {status}" + (f": {server_message})" if server_message else ")")
        super().__init__(detail)
        self.reason = reason
        self.retryable = retryable
        self.status = status
        self.server_message = server_message
        self.run = run


class VerifyError(UconDBError):
    """The server holds the right metadata but the downloaded bytes never matched, or nothing."""

    kind = "verify"


class ConflictError(UconDBError):
    """The run's key holds content different from ours; only an operator may resolve it."""

    kind = "conflict"

    def __init__(
        self, message: str, *, run: int, stored: "StoredVersion | None", ours: "BlobChecksums"
    ) -> None:
        super().__init__(message, reason="conflict", retryable=False, run=run)
        self.stored = stored
        self.ours = ours


def server_message(response: httpx.Response) -> str:
    """The server's message: the `<h3>` of an HTML error page, else the start of the text."""
    text = response.content[: 64 * 1024].decode("utf-8", "replace")
    found = _H3.search(text)
    text = _TAG.sub(" ", found.group(1) if found else text)
    return _SPACE.sub(" ", html.unescape(text)).strip()[:MESSAGE_LIMIT]
