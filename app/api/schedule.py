"""The scheduler's ticks and stage workers (list, pause, resume) and the service status."""

from typing import Literal

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel
from sqlalchemy import func
from sqlmodel import select

from app.api.deps import (
    READ_ERRORS,
    WRITE_ERRORS,
    LedgerSession,
    Operator,
    Reader,
    Service,
    error_responses,
)
from app.metrics.ledger import backlog, last_scan_time, newest_archived, state_counts
from app.models import Run, Stage

router = APIRouter(prefix="/api/schedule", tags=["schedule"])


class ScheduleEntry(BaseModel):
    """A periodic tick or a continuous stage worker."""

    id: str
    description: str
    trigger: str
    paused: bool
    next_run_at: str | None


@router.get("", responses=error_responses(*READ_ERRORS), summary="Ticks and workers")
def list_schedule(state: Service, _reader: Reader) -> list[ScheduleEntry]:
    """Every tick (scan, reconcile, retry-sweep, …) and stage worker with its state."""
    return [ScheduleEntry(**entry) for entry in state.runner.schedule()]


@router.post(
    "/{entry_id}/{action}",
    responses=error_responses(*WRITE_ERRORS, 404),
    summary="Pause or resume a tick or worker",
)
def toggle(
    entry_id: str, action: Literal["pause", "resume"], state: Service, _who: Operator
) -> ScheduleEntry:
    """Pausing a stage worker stops it claiming (in-flight runs finish); resuming restarts it."""
    runner = state.runner
    changed = runner.pause(entry_id) if action == "pause" else runner.resume(entry_id)
    if not changed:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no schedule entry {entry_id!r}")
    return next(ScheduleEntry(**e) for e in runner.schedule() if e["id"] == entry_id)


status_router = APIRouter(prefix="/api", tags=["status"])


class StageSummary(BaseModel):
    """One stage at a glance."""

    backlog: int
    by_state: dict[str, int]
    newest_archived_run: int | None


class StatusPublic(BaseModel):
    """What an operator checks first: is it scanning, how far is it, what is waiting."""

    last_scan_at: str | None
    newest_run_seen: int | None
    stages: dict[Literal["import", "migrate"], StageSummary]
    schedule: list[ScheduleEntry]


@status_router.get("/status", responses=error_responses(*READ_ERRORS), summary="Service status")
def service_status(state: Service, session: LedgerSession, _reader: Reader) -> StatusPublic:
    """Last scan, newest run seen, newest archived run and backlog per stage, scheduler state."""
    counts = state_counts(session)
    newest = newest_archived(session)
    last_scan = last_scan_time(session)
    return StatusPublic(
        last_scan_at=last_scan.isoformat() if last_scan else None,
        newest_run_seen=session.exec(select(func.max(Run.run_number))).one(),
        stages={
            stage.value: StageSummary(
                backlog=backlog(counts.get(stage, {})),
                by_state={s.value: n for s, n in counts.get(stage, {}).items()},
                newest_archived_run=newest.get(stage),
            )
            for stage in Stage
        },
        schedule=[ScheduleEntry(**entry) for entry in state.runner.schedule()],
    )
