"""Durable marks of what was already alerted, kept as `LedgerMeta` rows.

They make alerts once-per-event across ticks, restarts and replicas; the caller commits.
"""

from datetime import datetime
from typing import Any

from sqlmodel import Session

from app.models import LedgerMeta
from app.timeutil import utcnow


def read_mark(session: Session, key: str) -> dict[str, Any]:
    """The stored value, empty when the mark was never written."""
    row = session.get(LedgerMeta, key)
    return dict(row.value) if row is not None and row.value else {}


def write_mark(
    session: Session, key: str, value: dict[str, Any], *, now: datetime | None = None
) -> None:
    """Replace the stored value."""
    row = session.get(LedgerMeta, key) or LedgerMeta(key=key)
    row.value = value
    row.updated_at = now or utcnow()
    session.add(row)
