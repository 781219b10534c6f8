"""New conflicts, found in the event history since the last look.

A watermark (the highest event id examined) in the ledger makes each conflict event alerted
once, and keeps every look a short primary-key range scan.
"""

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.models import RunEvent, State
from app.notify.marks import read_mark, write_mark
from app.notify.messages import ConflictAlert

CONFLICT_MARK = "notify.conflicts"
LIMIT = 100


def new_conflicts(session: Session, *, limit: int = LIMIT) -> list[ConflictAlert]:
    """Runs that entered `conflict` since the previous call (at most `limit`; the rest come on
    the next call); moves the watermark, so the caller must commit."""
    after = int(read_mark(session, CONFLICT_MARK).get("last_event_id", 0))
    newest = session.exec(select(func.max(RunEvent.id))).one()
    if newest is None or newest <= after:
        return []
    query = (
        select(RunEvent)
        .where(
            col(RunEvent.id) > after,
            col(RunEvent.id) <= newest,
            col(RunEvent.to_state) == State.CONFLICT.value,
        )
        .order_by(col(RunEvent.id))
        .limit(limit)
    )
    events = session.exec(query).all()
    reached = events[-1].id if len(events) == limit else newest
    write_mark(session, CONFLICT_MARK, {"last_event_id": reached})
    return [
        ConflictAlert(event.run_number, event.stage, event.message or "conflict")
        for event in events
        if event.run_number is not None and event.stage is not None
    ]
