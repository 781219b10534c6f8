"""Ledger schema: migrations from empty to head, no drift, enum/timestamp round trips."""

from datetime import UTC, datetime

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app import migrate
from app.db import make_engine
from app.models import ErrorKind, RunEvent, Stage, StageStatus, State


def test_upgrade_from_empty_to_head(db_url: str) -> None:
    eng = make_engine(db_url)
    assert migrate.current_revision(eng) is None
    migrate.upgrade(eng)
    assert migrate.current_revision(eng) == migrate.head_revision(eng)
    assert migrate.is_current(eng)
    tables = set(inspect(eng).get_table_names())
    assert {"runs", "stage_status", "run_events", "jobs", "api_tokens"} <= tables
    migrate.upgrade(eng)  # idempotent
    eng.dispose()


def test_models_and_migrations_do_not_drift(engine: Engine) -> None:
    migrate.check(engine)


def test_due_index_exists(engine: Engine) -> None:
    names = {ix["name"] for ix in inspect(engine).get_indexes("stage_status")}
    assert "ix_stage_status_due" in names


def test_enums_stored_as_values_and_times_as_utc(engine: Engine) -> None:
    due = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    with Session(engine) as session:
        session.add(
            StageStatus(
                run_number=2**40,
                stage=Stage.IMPORT,
                state=State.RETRY,
                error_kind=ErrorKind.FHICL,
                next_attempt_at=due,
            )
        )
        session.add(RunEvent(run_number=2**40, stage=Stage.IMPORT, actor="test"))
        session.add(RunEvent(run_number=2**40, stage=Stage.IMPORT, actor="test"))
        session.commit()
    with engine.connect() as connection:
        raw = connection.execute(text("SELECT stage, state, error_kind FROM stage_status")).one()
    assert tuple(raw) == ("import", "retry", "fhicl")
    with Session(engine) as session:
        row = session.exec(select(StageStatus)).one()
        assert row.next_attempt_at == due
        assert row.next_attempt_at.tzinfo is not None
        ids = [e.id for e in session.exec(select(RunEvent).order_by(RunEvent.id))]
        assert ids[0] is not None and ids[1] > ids[0]
