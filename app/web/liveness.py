"""Is the archiver keeping up: last scan, newest run seen, newest run archived per stage (with
when), backlog and failures per stage. A handful of index lookups and one grouped count."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from app.metrics.ledger import backlog, last_scan_time, newest_archived, state_counts
from app.models import Run, Stage, StageStatus, State

NEEDS_OPERATOR = (State.FAILED, State.CONFLICT)


@dataclass(frozen=True)
class StageLiveness:
    """One stage: newest archived run and when it finished, backlog, rows needing an operator."""

    stage: Stage
    newest_archived: int | None
    archived_at: datetime | None
    backlog: int
    needs_operator: int
    retrying: int
    counts: dict[State, int]


@dataclass(frozen=True)
class Liveness:
    """The service at a glance."""

    last_scan_at: datetime | None
    newest_seen: int | None
    newest_seen_at: datetime | None
    stages: list[StageLiveness]


def liveness(session: Session, known: Mapping[tuple[Stage, State], int] | None = None) -> Liveness:
    """Liveness figures from the ledger; `known`: row counts of some states of every stage
    that the caller already has (see `state_counts`)."""
    counts = state_counts(session, known=known)
    newest = newest_archived(session)
    stages = []
    for stage in Stage:
        run = newest.get(stage)
        row = session.get(StageStatus, (run, stage)) if run is not None else None
        stages.append(
            StageLiveness(
                stage=stage,
                newest_archived=run,
                archived_at=row.finished_at if row else None,
                backlog=backlog(counts[stage]),
                needs_operator=sum(counts[stage][state] for state in NEEDS_OPERATOR),
                retrying=counts[stage][State.RETRY],
                counts=counts[stage],
            )
        )
    seen = session.exec(select(Run).order_by(col(Run.run_number).desc()).limit(1)).first()
    return Liveness(
        last_scan_at=last_scan_time(session),
        newest_seen=seen.run_number if seen else None,
        newest_seen_at=seen.first_seen_at if seen else None,
        stages=stages,
    )
