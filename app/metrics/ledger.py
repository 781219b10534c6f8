"""Ledger figures shared by `/metrics`, the daily summary and the stuck-stage check.

Each function is one short aggregate query, cheap enough to run at every scrape.
"""

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.models import Run, Stage, StageStatus, State

BACKLOG_STATES = (State.PENDING, State.RETRY, State.RUNNING)


def state_counts(
    session: Session, *, known: Mapping[tuple[Stage, State], int] | None = None
) -> dict[Stage, dict[State, int]]:
    """Rows per stage and state, every state present (zero when no row is in it). `known`:
    counts the caller already has for some states of every stage (the overview reads done and
    excluded off the run sets); only the rows in the other states are counted here, through
    the state index, instead of every row of the table."""
    counts = {stage: dict.fromkeys(State, 0) for stage in Stage}
    query = select(StageStatus.stage, StageStatus.state, func.count()).group_by(
        col(StageStatus.stage), col(StageStatus.state)
    )
    if known:
        for (stage, state), count in known.items():
            counts[stage][state] = count
        others = [state for state in State if all((stage, state) not in known for stage in Stage)]
        query = query.where(col(StageStatus.state).in_(others))
    for stage, state, count in session.exec(query):
        counts[Stage(stage)][State(state)] = count
    return counts


def backlog(counts: dict[State, int]) -> int:
    """Runs the stage still has to process: queued, waiting for a retry, or running."""
    return sum(counts[state] for state in BACKLOG_STATES)


def newest_archived(session: Session) -> dict[Stage, int]:
    """The highest run number each stage has finished (`done`); stages with none are absent.

    One backward walk of the (state, run_number) index per stage, not an aggregate over all
    done rows.
    """
    newest: dict[Stage, int] = {}
    for stage in Stage:
        query = (
            select(StageStatus.run_number)
            .where(col(StageStatus.stage) == stage, col(StageStatus.state) == State.DONE)
            .order_by(col(StageStatus.run_number).desc())
            .limit(1)
        )
        run = session.exec(query).first()
        if run is not None:
            newest[stage] = run
    return newest


def done_since(session: Session, since: datetime) -> dict[Stage, int]:
    """Runs each stage finished (`done`) at or after `since`."""
    query = (
        select(StageStatus.stage, func.count())
        .where(col(StageStatus.state) == State.DONE, col(StageStatus.finished_at) >= since)
        .group_by(col(StageStatus.stage))
    )
    found = dict(session.exec(query).all())
    return {stage: found.get(stage, 0) for stage in Stage}


def last_scan_time(session: Session) -> datetime | None:
    """When the last successful scan ended: every scan stamps all present runs, so the newest
    present run carries it (one primary-key lookup)."""
    query = (
        select(Run.last_scanned_at)
        .where(col(Run.present).is_(True))
        .order_by(col(Run.run_number).desc())
        .limit(1)
    )
    return session.exec(query).first()
