"""Alerts computed from the ledger: daily summary, stuck stages (once per episode), conflicts."""

from datetime import datetime, timedelta

from sqlmodel import Session

from app.models import RunEvent, Stage, StageStatus, State
from app.notify.conflicts import new_conflicts
from app.notify.stuck import find_stuck_stages, stuck_stages_to_alert
from app.notify.summary import build_daily_summary
from app.timeutil import utcnow


def row(run: int, stage: Stage, state: State, **fields: object) -> StageStatus:
    return StageStatus(run_number=run, stage=stage, state=state, **fields)


def test_daily_summary_counts_per_stage(session: Session) -> None:
    now = utcnow()
    session.add_all(
        [
            row(1, Stage.IMPORT, State.DONE, finished_at=now - timedelta(days=3)),
            row(2, Stage.IMPORT, State.DONE, finished_at=now - timedelta(hours=2)),
            row(3, Stage.IMPORT, State.DONE, finished_at=now - timedelta(hours=1)),
            row(4, Stage.IMPORT, State.PENDING),
            row(5, Stage.IMPORT, State.RETRY),
            row(6, Stage.IMPORT, State.RUNNING),
            row(7, Stage.IMPORT, State.WAITING),
            row(8, Stage.IMPORT, State.FAILED),
            row(1, Stage.MIGRATE, State.DONE, finished_at=now - timedelta(hours=5)),
            row(2, Stage.MIGRATE, State.CONFLICT),
            row(3, Stage.MIGRATE, State.CONFLICT),
            row(9, Stage.MIGRATE, State.EXCLUDED),
        ]
    )
    session.commit()
    summary = build_daily_summary(session, now=now)
    assert summary.until - summary.since == timedelta(hours=24)
    figures = {
        s.stage: (s.done, s.backlog, s.failed, s.conflicts, s.newest_archived)
        for s in summary.stages
    }
    assert figures == {
        Stage.IMPORT: (2, 3, 1, 0, 3),
        Stage.MIGRATE: (1, 0, 0, 2, 1),
    }


def test_empty_ledger_summary_has_no_newest_run(session: Session) -> None:
    summary = build_daily_summary(session)
    assert [(s.done, s.backlog, s.newest_archived) for s in summary.stages] == [(0, 0, None)] * 2


def test_due_work_without_a_finished_attempt_is_stuck(session: Session) -> None:
    now = utcnow()
    session.add_all(
        [
            row(1, Stage.IMPORT, State.DONE, finished_at=now - timedelta(minutes=90)),
            row(2, Stage.IMPORT, State.PENDING, next_attempt_at=now - timedelta(minutes=80)),
            row(3, Stage.IMPORT, State.RETRY, next_attempt_at=now + timedelta(minutes=5)),
            # migrate: work became due 10 minutes ago, after a long quiet period: not stuck
            row(1, Stage.MIGRATE, State.DONE, finished_at=now - timedelta(days=2)),
            row(2, Stage.MIGRATE, State.PENDING, next_attempt_at=now - timedelta(minutes=10)),
        ]
    )
    session.commit()
    [stuck] = find_stuck_stages(session, minutes=60, now=now)
    assert (stuck.stage, stuck.backlog, stuck.minutes) == (Stage.IMPORT, 2, 80)
    assert find_stuck_stages(session, minutes=81, now=now) == []


def test_a_long_running_attempt_counts_as_stuck(session: Session) -> None:
    now = utcnow()
    session.add(row(1, Stage.MIGRATE, State.RUNNING, started_at=now - timedelta(minutes=61)))
    session.commit()
    assert [s.stage for s in find_stuck_stages(session, minutes=60, now=now)] == [Stage.MIGRATE]


def test_a_stuck_stage_is_alerted_once_per_episode(session: Session) -> None:
    now = utcnow()
    pending = row(2, Stage.IMPORT, State.PENDING, next_attempt_at=now - timedelta(minutes=70))
    session.add(pending)
    session.commit()
    assert [s.stage for s in stuck_stages_to_alert(session, minutes=60, now=now)] == [Stage.IMPORT]
    session.commit()
    later = now + timedelta(minutes=30)
    assert stuck_stages_to_alert(session, minutes=60, now=later) == []
    # progress (an attempt finished), then stuck again for long enough: a new episode
    session.add(row(1, Stage.IMPORT, State.DONE, finished_at=later))
    session.commit()
    assert stuck_stages_to_alert(session, minutes=60, now=later + timedelta(minutes=30)) == []
    assert len(stuck_stages_to_alert(session, minutes=60, now=later + timedelta(minutes=61))) == 1


def event(run: int, to_state: State, message: str, at: datetime | None = None) -> RunEvent:
    return RunEvent(
        run_number=run,
        stage=Stage.MIGRATE,
        actor="worker",
        to_state=to_state.value,
        message=message,
        at=at or utcnow(),
    )


def test_new_conflicts_are_reported_once(session: Session) -> None:
    session.add_all(
        [
            event(1, State.RUNNING, "attempt 1 claimed"),
            event(1, State.CONFLICT, "UconDB key 1 holds different bytes"),
            event(2, State.DONE, "archived"),
        ]
    )
    session.commit()
    found = new_conflicts(session)
    assert [(c.run, c.stage, c.message) for c in found] == [
        (1, Stage.MIGRATE, "UconDB key 1 holds different bytes")
    ]
    session.commit()
    assert new_conflicts(session) == []
    session.add(event(3, State.CONFLICT, "size differs"))
    session.commit()
    assert [c.run for c in new_conflicts(session)] == [3]


def test_many_conflicts_come_in_bounded_portions(session: Session) -> None:
    session.add_all([event(run, State.CONFLICT, f"c{run}") for run in range(1, 8)])
    session.commit()
    portions = []
    while found := new_conflicts(session, limit=3):
        portions.append([c.run for c in found])
        session.commit()
    assert portions == [[1, 2, 3], [4, 5, 6], [7]]
