"""API bearer tokens: the secret is shown once at creation; the ledger keeps only its SHA-256.

A token reads `rra_<id>_<random>`: the id finds the row, then the hash of the random part is
compared in constant time, so a lookup never depends on how much of a guess was right.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from app.models import ApiToken, TokenScope
from app.timeutil import utcnow

TAG = "rra"
SECRET_BYTES = 32
LAST_USED_RESOLUTION = timedelta(seconds=60)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,127}")
_TOKEN = re.compile(rf"{TAG}_(?P<id>[0-9]{{1,18}})_(?P<random>[A-Za-z0-9_-]{{16,128}})")
_RANK = {TokenScope.READ: 0, TokenScope.OPERATE: 1, TokenScope.ADMIN: 2}


class TokenError(ValueError):
    """A token request that cannot be honoured; the message says what to change."""


@dataclass(frozen=True)
class IssuedToken:
    """A new token row and its secret (the only time the secret exists outside the caller)."""

    token: ApiToken
    secret: str


def scope_allows(granted: TokenScope, needed: TokenScope) -> bool:
    """Whether a token of scope `granted` may do what needs `needed` (scopes are nested)."""
    return _RANK[granted] >= _RANK[needed]


def _digest(random_part: str) -> str:
    return hashlib.sha256(random_part.encode("ascii")).hexdigest()


def create_token(
    session: Session, name: str, scope: TokenScope, *, now: datetime | None = None
) -> IssuedToken:
    """Store a new token named `name`; the caller shows `secret` once and commits."""
    if not _NAME.fullmatch(name):
        raise TokenError(
            f"token name {name!r} is not usable: 1-128 characters, letters, digits and ._@- "
            "(starting with a letter or digit)"
        )
    existing = session.exec(select(ApiToken).where(col(ApiToken.name) == name)).first()
    if existing is not None:
        state = f"revoked {existing.revoked_at:%Y-%m-%d %H:%M}" if existing.revoked_at else "active"
        raise TokenError(f"a token named {name!r} already exists ({state}); choose another name")
    random_part = secrets.token_urlsafe(SECRET_BYTES)
    row = ApiToken(
        name=name, scope=scope, token_hash=_digest(random_part), created_at=now or utcnow()
    )
    session.add(row)
    session.flush()
    return IssuedToken(token=row, secret=f"{TAG}_{row.id}_{random_part}")


def list_tokens(session: Session) -> list[ApiToken]:
    """Every token, revoked ones included, by name."""
    return list(session.exec(select(ApiToken).order_by(col(ApiToken.name))))


def revoke_token(session: Session, name: str, *, now: datetime | None = None) -> ApiToken:
    """Revoke the token `name` (revoking twice keeps the first time); unknown names are errors."""
    row = session.exec(select(ApiToken).where(col(ApiToken.name) == name)).first()
    if row is None:
        raise TokenError(f"no token named {name!r} (see `rra token list`)")
    if row.revoked_at is None:
        row.revoked_at = now or utcnow()
        session.add(row)
    return row


def authenticate(
    session: Session, presented: str, *, now: datetime | None = None
) -> ApiToken | None:
    """The active token matching the presented secret, or None; notes when it was last used.

    `last_used_at` is written at most once per LAST_USED_RESOLUTION so reads stay cheap.
    """
    match = _TOKEN.fullmatch(presented.strip())
    if match is None:
        return None
    row = session.get(ApiToken, int(match.group("id")))
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(_digest(match.group("random")), row.token_hash):
        return None
    now = now or utcnow()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        row.last_used_at = now
        session.add(row)
    return row
