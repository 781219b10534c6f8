"""Run sets (migration 0002): filled from an existing 0001 ledger on upgrade, then kept exact by
the ledger's triggers through inserts, updates and deletes of any shape, on both backends."""

from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, inspect, text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app import migrate
from app.db import make_engine
from app.models import Run, RunSetWord, Stage, StageStatus, State, StoreRun
from app.timeutil import utcnow

STATES = [state.value for state in State]
STAGES = [stage.value for stage in Stage]
RUN_DEFAULTS = {"readiness": "ready", "changed_after_archive": False, "released": False}


def stored_sets(session: Session) -> dict[str, set[int]]:
    """The run sets as kept in `run_sets`."""
    found: dict[str, set[int]] = {}
    for name, word, bits in session.execute(
        select(RunSetWord.name, RunSetWord.word, RunSetWord.bits)
    ):
        unsigned = bits & (2**64 - 1)
        members = {word * 64 + bit for bit in range(64) if unsigned >> bit & 1}
        found.setdefault(name, set()).update(members)
    return {name: runs for name, runs in found.items() if runs}


def expected_sets(session: Session) -> dict[str, set[int]]:
    """The run sets by their definition, from the tables."""
    found: dict[str, set[int]] = {}
    for number, present, reason in session.execute(
        select(Run.run_number, Run.present, Run.excluded_reason)
    ):
        if present:
            found.setdefault("runs:present", set()).add(number)
        if reason is not None:
            found.setdefault("runs:excluded", set()).add(number)
    for store, number in session.execute(select(StoreRun.store, StoreRun.run_number)):
        found.setdefault(f"stores:{store}", set()).add(number)
    for number, stage, state in session.execute(
        select(StageStatus.run_number, StageStatus.stage, StageStatus.state)
    ):
        if state in (State.DONE, State.EXCLUDED):
            found.setdefault(f"stage:{Stage(stage).value}:{State(state).value}", set()).add(number)
    return found


def seed_0001(engine: Engine) -> None:
    """A ledger written by the previous release: runs across word edges, bit 63, a stray run."""
    now = utcnow()
    numbers = [*range(60, 140), 191, 192, 2**40]
    with Session(engine) as session:
        session.execute(
            insert(Run),
            [
                {
                    **RUN_DEFAULTS,
                    "run_number": n,
                    "present": n % 3 != 0,
                    "excluded_reason": "gone" if n % 7 == 0 else None,
                    "first_seen_at": now,
                    "last_scanned_at": now,
                }
                for n in numbers
            ],
        )
        session.execute(
            insert(StoreRun),
            [{"store": "artdaqdb", "run_number": n, "seen_at": now} for n in numbers[::2]],
        )
        session.execute(
            insert(StageStatus),
            [
                {
                    "run_number": n,
                    "stage": stage,
                    "state": STATES[n % len(STATES)],
                    "updated_at": now,
                }
                for n in numbers
                for stage in STAGES
            ],
        )
        session.commit()


def test_upgrade_from_0001_fills_the_run_sets_and_downgrade_removes_them(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate.upgrade(engine, "0001")
    seed_0001(engine)
    migrate.upgrade(engine)
    with Session(engine) as session:
        assert stored_sets(session) == expected_sets(session)
        assert stored_sets(session)["runs:present"] >= {2**40, 191, 64, 127}
        session.execute(update(Run).where(col(Run.run_number) == 64).values(present=False))
        session.commit()
        assert 64 not in stored_sets(session)["runs:present"]
    config = migrate.alembic_config(engine)
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
        connection.commit()
    assert "run_sets" not in inspect(engine).get_table_names()
    with Session(engine) as session:
        session.execute(update(Run).values(present=True))
        session.execute(delete(StageStatus))
        session.commit()
    engine.dispose()


def test_triggers_exist_at_head(engine: Engine) -> None:
    """A later migration that rebuilds one of these tables on SQLite would drop them."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            query = "SELECT tgname FROM pg_trigger WHERE tgname LIKE 'run_sets_%'"
        else:
            query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        names = set(connection.execute(text(query)).scalars())
    expected = {
        f"run_sets_{table}_{event}"
        for table in ("runs", "store_runs", "stage_status")
        for event in ("insert", "delete", "update")
    }
    assert expected <= names


runs = st.integers(0, 300)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("scan"), st.sets(runs, max_size=40), st.sets(runs, max_size=8)),
        st.tuples(st.just("vanish"), runs, runs),
        st.tuples(st.just("list"), st.sampled_from(["artdaqdb", "ucondb"]), st.sets(runs)),
        st.tuples(st.just("state"), runs, runs, st.sampled_from(STATES)),
        st.tuples(st.just("stage"), st.sampled_from(STAGES), st.sets(runs, max_size=30)),
        st.tuples(st.just("renumber"), runs, st.integers(301, 400)),
        st.tuples(st.just("forget"), runs, runs),
    ),
    max_size=12,
)


def apply(session: Session, operation: tuple) -> None:  # type: ignore[type-arg]
    """One write of the kind the service makes, often many rows in one statement."""
    kind, *args = operation
    now = utcnow()
    if kind == "scan":
        found, excluded = args
        known = set(session.execute(select(Run.run_number)).scalars())
        new = [
            {"run_number": n, "excluded_reason": "x" if n in excluded else None}
            for n in sorted(found - known)
        ]
        if new:
            rows = [
                {
                    **RUN_DEFAULTS,
                    **row,
                    "present": True,
                    "first_seen_at": now,
                    "last_scanned_at": now,
                }
                for row in new
            ]
            session.execute(insert(Run), rows)
        session.execute(
            update(Run).where(col(Run.run_number).in_(excluded)).values(excluded_reason="op")
        )
    elif kind == "vanish":
        low, high = sorted(args)
        session.execute(
            update(Run).where(col(Run.run_number).between(low, high)).values(present=False)
        )
    elif kind == "list":
        store, listed = args
        session.execute(delete(StoreRun).where(col(StoreRun.store) == store))
        if listed:
            rows = [{"store": store, "run_number": n, "seen_at": now} for n in sorted(listed)]
            session.execute(insert(StoreRun), rows)
    elif kind == "state":
        low, high, state = args
        lo, hi = sorted((low, high))
        session.execute(
            update(StageStatus)
            .where(col(StageStatus.run_number).between(lo, hi))
            .values(state=state, updated_at=now)
        )
    elif kind == "stage":
        stage, numbers = args
        existing = set(
            session.execute(
                select(StageStatus.run_number).where(col(StageStatus.stage) == stage)
            ).scalars()
        )
        rows = [
            {"run_number": n, "stage": stage, "state": STATES[n % len(STATES)], "updated_at": now}
            for n in sorted(numbers - existing)
        ]
        if rows:
            session.execute(insert(StageStatus), rows)
    elif kind == "renumber":
        old, new = args
        taken = session.get(Run, new) is not None
        if not taken:
            session.execute(update(Run).where(col(Run.run_number) == old).values(run_number=new))
    else:
        low, high = sorted(args)
        session.execute(delete(StageStatus).where(col(StageStatus.run_number).between(low, high)))
        session.execute(delete(Run).where(col(Run.run_number).between(low, high)))


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(batch=operations)
def test_any_writes_keep_the_run_sets_exact(engine: Engine, batch: list) -> None:  # type: ignore[type-arg]
    with Session(engine) as session:
        for operation in batch:
            apply(session, operation)
            session.flush()
        assert stored_sets(session) == expected_sets(session)
        session.rollback()
