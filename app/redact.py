"""Redaction of secrets in text shown to people (logs, reports, errors, API responses)."""

import re

_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*):(?P<secret>[^@/\s]*)@")


def redact_url(url: str) -> str:
    """Replace the password of every `scheme://user:password@host` in `url` with `***`."""
    return _URL_PASSWORD.sub(r"\g<head>:***@", url)


def redact(text: str, secrets: list[str | None]) -> str:
    """Remove credentials in URLs and every given secret value from `text`."""
    out = redact_url(text)
    for secret in secrets:
        if secret:
            out = out.replace(secret, "***")
    return out
