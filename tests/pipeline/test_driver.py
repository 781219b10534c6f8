"""The claim/lease/outcome machinery with an in-test stage (no external system involved)."""

import threading
import time
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.models import ErrorKind, RunEvent, Stage, StageStatus, State
from app.pipeline.claims import Claim, claim_due, reap_expired
from app.pipeline.driver import (
    DrainOptions,
    StageDefinition,
    StageFailure,
    StageOutcome,
    drain,
)
from app.pipeline.ledger import RetryPolicy, operator_retry
from app.timeutil import utcnow

POLICY = RetryPolicy(max_attempts=3, base_seconds=0.0, max_seconds=0.0, jitter=0.0)


def seed(engine: Engine, runs: range, state: State = State.PENDING) -> None:
    with Session(engine) as session:
        for run in runs:
            session.add(
                StageStatus(
                    run_number=run, stage=Stage.IMPORT, state=state, next_attempt_at=utcnow()
                )
            )
        session.commit()


def rows(engine: Engine) -> dict[int, StageStatus]:
    with Session(engine) as session:
        return {r.run_number: r for r in session.exec(select(StageStatus))}


def definition(process, complete=None) -> StageDefinition:
    return StageDefinition(Stage.IMPORT, process, complete or (lambda *_: None))


def options(**kw) -> DrainOptions:
    return DrainOptions(**{"owner": "test-worker", "workers": 4, "policy": POLICY, **kw})


def test_every_due_run_processed_exactly_once(engine: Engine) -> None:
    seed(engine, range(1, 41))
    seen: Counter[int] = Counter()
    lock = threading.Lock()

    def process(claim: Claim) -> StageOutcome:
        with lock:
            seen[claim.run] += 1
        return StageOutcome("ok", {"entity_count": claim.run})

    result = drain(engine, definition(process), options(), stop=threading.Event())
    assert sorted(result.succeeded) == list(range(1, 41))
    assert set(seen.values()) == {1}
    final = rows(engine)
    assert {r.state for r in final.values()} == {State.DONE}
    assert final[7].entity_count == 7 and final[7].attempts == 1 and final[7].lease_owner is None


def test_failures_back_off_then_fail_after_budget(engine: Engine) -> None:
    seed(engine, range(1, 3))

    def process(claim: Claim) -> StageOutcome:
        raise StageFailure(ErrorKind.SOURCE, f"run {claim.run}: metadata.txt missing")

    # with no backoff the retries are due at once, so one drain spends the whole budget
    first = drain(engine, definition(process), options(), stop=threading.Event())
    assert Counter(first.failed) == {1: 3, 2: 3}
    assert [r.state for r in first.results if r.run == 1] == [
        State.RETRY,
        State.RETRY,
        State.FAILED,
    ]
    final = rows(engine)[1]
    assert final.state == State.FAILED
    assert final.attempts == 3
    assert final.error_kind == ErrorKind.SOURCE
    assert final.last_error == "run 1: metadata.txt missing"
    # a failed row waits for an operator: nothing more is claimed
    assert drain(engine, definition(process), options(), stop=threading.Event()).results == []
    with Session(engine) as session:
        row = session.get(StageStatus, (1, Stage.IMPORT))
        assert operator_retry(session, row, actor="operator:alice", now=utcnow())
        session.commit()
    again = drain(
        engine, definition(lambda c: StageOutcome("ok")), options(), stop=threading.Event()
    )
    assert again.succeeded == [1]
    assert rows(engine)[1].attempts == 4  # attempts only ever grow


def test_backoff_delays_the_next_attempt(engine: Engine) -> None:
    seed(engine, range(1, 2))
    slow = RetryPolicy(max_attempts=5, base_seconds=3600, max_seconds=7200, jitter=0.0)

    def process(claim: Claim) -> StageOutcome:
        raise StageFailure(ErrorKind.UCONDB, "server answered 503")

    drain(engine, definition(process), options(policy=slow), stop=threading.Event())
    row = rows(engine)[1]
    assert row.state == State.RETRY
    assert row.next_attempt_at - utcnow() > timedelta(minutes=59)
    assert (
        drain(engine, definition(process), options(policy=slow), stop=threading.Event()).results
        == []
    )


def test_unexpected_exception_is_internal_and_others_carry_on(engine: Engine) -> None:
    seed(engine, range(1, 6))

    def process(claim: Claim) -> StageOutcome:
        if claim.run == 3:
            raise KeyError("boom")
        return StageOutcome("ok")

    result = drain(engine, definition(process), options(), stop=threading.Event())
    assert sorted(result.succeeded) == [1, 2, 4, 5]
    row = rows(engine)[3]
    assert row.error_kind == ErrorKind.INTERNAL and "KeyError" in row.last_error


def test_conflict_is_not_retried(engine: Engine) -> None:
    seed(engine, range(1, 2))

    def process(claim: Claim) -> StageOutcome:
        raise StageFailure(ErrorKind.CONFLICT, "key 1 holds different bytes", retryable=False)

    drain(engine, definition(process), options(), stop=threading.Event())
    assert rows(engine)[1].state == State.CONFLICT


def test_expired_lease_is_reaped(engine: Engine) -> None:
    seed(engine, range(1, 2))
    now = utcnow()
    with Session(engine) as session:
        claims = claim_due(
            session, Stage.IMPORT, owner="crashed", limit=5, lease_seconds=1, now=now
        )
        session.commit()
    assert [c.run for c in claims] == [1]
    with Session(engine) as session:
        assert (
            reap_expired(session, policy=POLICY, now=now + timedelta(seconds=5), actor="reaper")
            == 1
        )
        session.commit()
    row = rows(engine)[1]
    assert row.state == State.RETRY and "lease of crashed expired" in row.last_error


def test_lost_lease_discards_the_outcome(engine: Engine) -> None:
    seed(engine, range(1, 2))

    def process(claim: Claim) -> StageOutcome:
        with Session(engine) as session:  # another worker reaps and re-claims meanwhile
            reap_expired(session, policy=POLICY, now=utcnow() + timedelta(hours=1), actor="r")
            session.commit()
        return StageOutcome("ok")

    result = drain(engine, definition(process), options(), stop=threading.Event())
    assert result.results[0].state is None
    assert rows(engine)[1].state == State.RETRY


def test_stop_lets_inflight_finish_and_claims_nothing_more(engine: Engine) -> None:
    seed(engine, range(1, 21))
    stop = threading.Event()

    def process(claim: Claim) -> StageOutcome:
        stop.set()
        time.sleep(0.05)
        return StageOutcome("ok")

    result = drain(engine, definition(process), options(workers=2, claim_batch=2), stop=stop)
    assert result.interrupted
    assert 1 <= len(result.succeeded) <= 2
    states = Counter(r.state for r in rows(engine).values())
    assert states[State.RUNNING] == 0
    assert states[State.PENDING] == 20 - len(result.succeeded)


def test_stop_deadline_releases_stuck_work(engine: Engine) -> None:
    seed(engine, range(1, 2))
    stop = threading.Event()
    gate = threading.Event()

    def process(claim: Claim) -> StageOutcome:
        stop.set()
        gate.wait(10)
        return StageOutcome("late")

    result = drain(engine, definition(process), options(shutdown_grace_seconds=0.2), stop=stop)
    gate.set()
    assert result.released == [1]
    row = rows(engine)[1]
    assert row.state == State.RETRY and row.lease_owner is None


def test_events_record_every_transition(engine: Engine) -> None:
    seed(engine, range(1, 2))
    drain(
        engine,
        definition(lambda c: StageOutcome("imported 3 documents")),
        options(),
        stop=threading.Event(),
    )
    with Session(engine) as session:
        events = session.exec(
            select(RunEvent).where(col(RunEvent.run_number) == 1).order_by(col(RunEvent.id))
        ).all()
    assert [(e.from_state, e.to_state) for e in events] == [(None, "running"), ("running", "done")]
    assert events[-1].message == "imported 3 documents" and events[-1].actor == "test-worker"
    assert isinstance(events[-1].at, datetime)


def test_where_limits_the_claim(engine: Engine) -> None:
    seed(engine, range(1, 11))
    result = drain(
        engine,
        definition(lambda c: StageOutcome("ok")),
        options(where=col(StageStatus.run_number) >= 8),
        stop=threading.Event(),
    )
    assert sorted(result.succeeded) == [8, 9, 10]


def test_a_drain_following_another_takes_new_rows_until_that_one_has_ended(
    engine: Engine,
) -> None:
    seed(engine, range(1, 3))
    upstream_over = threading.Event()
    seen: list[int] = []

    def process(claim: Claim) -> StageOutcome:
        seen.append(claim.run)
        if claim.run == 1:  # the stage feeding this one makes more rows due, then ends
            seed(engine, range(10, 12))
            upstream_over.set()
        return StageOutcome("ok", {})

    follow = options(workers=1, poll_seconds=0.05, until=upstream_over)
    result = drain(engine, definition(process), follow, stop=threading.Event())
    assert sorted(seen) == [1, 2, 10, 11]
    assert not result.interrupted
    assert {r.state for r in rows(engine).values()} == {State.DONE}


def test_a_following_drain_waits_for_rows_while_the_other_one_runs(engine: Engine) -> None:
    upstream_over = threading.Event()

    def feed() -> None:
        time.sleep(0.3)
        seed(engine, range(5, 7))
        upstream_over.set()

    feeder = threading.Thread(target=feed)
    feeder.start()
    follow = options(poll_seconds=0.05, until=upstream_over)
    result = drain(
        engine, definition(lambda c: StageOutcome("ok", {})), follow, stop=threading.Event()
    )
    feeder.join()
    assert sorted(result.succeeded) == [5, 6]
