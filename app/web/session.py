"""The dashboard's browser session: a signed cookie holding a CSRF token and the signed-in token.

The cookie is an HMAC-SHA256-signed JSON payload (no server-side store), so any request can be
checked without a ledger write. The signing key is random per process: a restart signs every
browser out, which costs an operator one paste of their token.
"""

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

COOKIE_NAME = "rra_session"
MAX_AGE_SECONDS = 12 * 3600
_PROCESS_KEY = secrets.token_bytes(32)


@dataclass(frozen=True)
class WebSession:
    """One browser's session; `token_id` is the API token it signed in with (None = anonymous).

    `fresh` marks a session created by this request, whose cookie the response must set.
    """

    csrf: str
    token_id: int | None
    issued_at: int
    fresh: bool = False


def new_session(token_id: int | None = None, *, now: float | None = None) -> WebSession:
    """A new session with its own CSRF token (signing in or out always makes a new one)."""
    return WebSession(
        csrf=secrets.token_urlsafe(24),
        token_id=token_id,
        issued_at=int(now if now is not None else time.time()),
        fresh=True,
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(payload: str, key: bytes) -> str:
    return _b64(hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest())


def session_key(secret: str | None) -> bytes:
    """The signing key: from `auth.session_secret` when configured, else this process's own."""
    return hashlib.sha256(secret.encode()).digest() if secret else _PROCESS_KEY


def encode_session(session: WebSession, *, key: bytes = _PROCESS_KEY) -> str:
    """The cookie value: base64 JSON payload, a dot, its signature."""
    body = {"c": session.csrf, "t": session.token_id, "i": session.issued_at}
    payload = _b64(json.dumps(body, separators=(",", ":")).encode("utf-8"))
    return f"{payload}.{_signature(payload, key)}"


def decode_session(
    value: str | None, *, key: bytes = _PROCESS_KEY, now: float | None = None
) -> WebSession | None:
    """The session in a cookie value; None when missing, forged, malformed or expired."""
    if not value or value.count(".") != 1:
        return None
    payload, signature = value.split(".")
    if not hmac.compare_digest(signature, _signature(payload, key)):
        return None
    try:
        body = json.loads(_unb64(payload))
        session = WebSession(csrf=str(body["c"]), token_id=body["t"], issued_at=int(body["i"]))
    except (ValueError, KeyError, TypeError):
        return None
    if session.token_id is not None and not isinstance(session.token_id, int):
        return None
    age = (now if now is not None else time.time()) - session.issued_at
    if not 0 <= age <= MAX_AGE_SECONDS:
        return None
    return session


def csrf_matches(session: WebSession, presented: str | None) -> bool:
    """Whether a form field or header carries this session's CSRF token (constant time)."""
    if not presented:
        return False
    return hmac.compare_digest(session.csrf.encode(), presented.encode())
