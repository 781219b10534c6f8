"""Which configured values are secrets, and their removal from anything shown to people."""

from typing import Any

from app.config import Settings
from app.redact import redact


def configured_secrets(settings: Settings) -> list[str | None]:
    """Secret values of the configuration (URL passwords are caught by pattern anyway)."""
    return [
        settings.ucon_db.writer_password,
        settings.reporting.email.smtp_password,
        settings.reporting.slack.bot_token,
    ]


def redact_tree(value: Any, secrets: list[str | None]) -> Any:
    """`value` with every string inside (dict values, list items) redacted."""
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {key: redact_tree(item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_tree(item, secrets) for item in value]
    return value
