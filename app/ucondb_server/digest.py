"""HTTP Digest as the real UconDB server does it (spec/ucondb.md §3), quirks included.

The nonce is base64 of the epoch seconds printed as a Python bytes literal; it, the nonce count
and the `uri` field are never checked against the request, exactly like the real server.
"""

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping

_SCHEME = re.compile(r"Digest\s+(.*)", re.IGNORECASE | re.DOTALL)
_FIELD = re.compile(r'(\S+?)\s*=\s*("?)(.*)\2', re.DOTALL)
_SPLIT = re.compile(r",\s*")
_ANSWER_FIELDS = ("uri", "nonce", "nc", "cnonce", "qop", "response")

Credentials = Mapping[str, Mapping[str, str]]


class MissingDigestField(Exception):
    """A Digest header without a field the check needs; the real server answers 500."""


def challenge(realm: str, now: float) -> str:
    """The `WWW-Authenticate` value of a 401, with the server's `b'...'` nonce."""
    nonce = base64.b64encode(str(int(now)).encode()).decode()
    return f'Digest realm="{realm}", nonce="b\'{nonce}\'", algorithm=MD5, qop="auth"'


def parse(header: str) -> dict[str, str] | None:
    """Fields of a Digest `Authorization` header (split on commas, quotes dropped), else None."""
    found = _SCHEME.match(header)
    if found is None:
        return None
    fields = {}
    for part in _SPLIT.split(found.group(1)):
        field = _FIELD.fullmatch(part.strip())
        if field:
            fields[field.group(1)] = field.group(3)
    return fields


def password_for(credentials: Credentials, realm: str, user: str) -> str | None:
    """The realm's own table, else the `*` table; inside it the user, else the `*` user."""
    table = credentials.get(realm, credentials.get("*"))
    if table is None:
        return None
    return table.get(user, table.get("*"))


def check(fields: Mapping[str, str], method: str, realm: str, credentials: Credentials) -> bool:
    """Whether the response field proves the password; raises `MissingDigestField` like a 500."""
    if "username" not in fields:
        raise MissingDigestField("username")
    password = password_for(credentials, realm, fields["username"])
    if password is None:
        return False
    missing = [name for name in _ANSWER_FIELDS if name not in fields]
    if missing:
        raise MissingDigestField(", ".join(missing))
    ha1 = _md5(f"{fields['username']}:{realm}:{password}")
    ha2 = _md5(f"{method}:{fields['uri']}")
    expected = _md5(
        f"{ha1}:{fields['nonce']}:{fields['nc']}:{fields['cnonce']}:{fields['qop']}:{ha2}"
    )
    return hmac.compare_digest(expected, fields["response"])


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()
