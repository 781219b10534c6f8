"""Redaction of secrets in text shown to people (logs, reports, errors, API responses)."""

import re

_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*):(?P<secret>[^@/\s]*)@")


def redact_url(url: str) -> str:
    """Replace the password of every `scheme://user:password@host` in `url` with `***`."""
    return _URL_PASSWORD.sub(r"\g<head>:***@", url)


MIN_SECRET_LENGTH = 4


def redact(text: str, secrets: list[str | None]) -> str:
    """Remove credentials in URLs and every given secret value from `text`.

    Values shorter than MIN_SECRET_LENGTH are not searched for: replacing every "p" would
    mangle the text while protecting nothing a guess would not find.
    """
    out = redact_url(text)
    for secret in secrets:
        if secret and len(secret) >= MIN_SECRET_LENGTH:
            out = out.replace(secret, "***")
    return out
