"""Follow-ups: one early extra run of a tick, coalesced to the earliest, honouring the tick's
pause, the replica guard and shutdown."""

import threading
import time
from collections.abc import Iterator
from datetime import UTC, timedelta

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine

from app.scheduler import FollowUp, Tick, make_scheduler, run_follow_up, run_once_across_replicas
from app.timeutil import utcnow

INTERVAL = 3600


class Counter:
    """The tick's action: counts its runs so a test can wait for one."""

    def __init__(self) -> None:
        self.runs = 0
        self.ran = threading.Event()

    def __call__(self) -> None:
        self.runs += 1
        self.ran.set()


@pytest.fixture
def action() -> Counter:
    return Counter()


@pytest.fixture
def tick(action: Counter) -> Tick:
    return Tick("scan", IntervalTrigger(seconds=INTERVAL, timezone=UTC), action, "count")


@pytest.fixture
def scheduler(engine: Engine, tick: Tick) -> Iterator[BackgroundScheduler]:
    """A running scheduler whose only tick, `scan`, is an hour away."""
    scheduler = make_scheduler(engine, [tick])
    scheduler.start()
    yield scheduler
    if scheduler.running:
        scheduler.shutdown(wait=False)


@pytest.fixture
def follow_up(scheduler: BackgroundScheduler, engine: Engine, tick: Tick) -> FollowUp:
    return FollowUp(scheduler, engine, tick)


def follow_up_jobs(scheduler: BackgroundScheduler) -> list[str]:
    return [job.id for job in scheduler.get_jobs() if job.id != "scan"]


def test_follow_ups_coalesce_to_the_earliest(
    scheduler: BackgroundScheduler, follow_up: FollowUp
) -> None:
    soon = utcnow() + timedelta(minutes=5)
    assert follow_up.request(soon + timedelta(seconds=30)) is True
    assert follow_up.request(soon) is True  # earlier: replaces the pending one
    assert follow_up.request(soon + timedelta(seconds=10)) is False  # later: the earlier stays
    assert follow_up.request(soon) is False
    assert follow_up_jobs(scheduler) == ["scan-follow-up"]
    assert follow_up.pending() == soon


def test_no_follow_up_when_the_tick_comes_first(follow_up: FollowUp) -> None:
    regular = follow_up.tick_next_run()
    assert regular is not None
    assert follow_up.request(regular) is False
    assert follow_up.request(regular + timedelta(seconds=1)) is False
    assert follow_up.pending() is None


def test_follow_up_runs_the_tick_once_then_is_gone(
    scheduler: BackgroundScheduler, follow_up: FollowUp, action: Counter
) -> None:
    for delay in (1.5, 1.0, 2.0):
        follow_up.request(utcnow() + timedelta(seconds=delay))
    assert action.ran.wait(30)
    deadline = time.monotonic() + 30
    while follow_up.pending() is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert follow_up.pending() is None and follow_up_jobs(scheduler) == []
    assert action.runs == 1
    assert follow_up.tick_next_run() is not None  # the regular tick is untouched


def test_a_paused_tick_gets_no_follow_up_and_a_pending_one_does_not_run(
    scheduler: BackgroundScheduler, follow_up: FollowUp, action: Counter
) -> None:
    assert follow_up.request(utcnow() + timedelta(minutes=5)) is True
    scheduler.pause_job("scan")
    assert follow_up.request(utcnow() + timedelta(minutes=1)) is False
    assert run_follow_up(follow_up) is False  # one that fires anyway (pause raced with it)
    follow_up.cancel()
    follow_up.cancel()  # nothing pending: no error
    assert follow_up.pending() is None
    assert action.runs == 0
    scheduler.resume_job("scan")
    assert run_follow_up(follow_up) is True and action.runs == 1


def test_no_follow_up_after_shutdown(scheduler: BackgroundScheduler, follow_up: FollowUp) -> None:
    scheduler.shutdown(wait=False)
    assert follow_up.request(utcnow() + timedelta(minutes=1)) is False


def test_follow_up_takes_the_ticks_replica_guard(
    engine: Engine, follow_up: FollowUp, action: Counter
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the advisory tick lock exists on PostgreSQL only")
    skipped: list[bool] = []
    # another replica is running this tick: its follow-up here is skipped, not run twice
    assert run_once_across_replicas(
        engine, "scan", lambda: skipped.append(run_follow_up(follow_up))
    )
    assert skipped == [False] and action.runs == 0
    assert run_follow_up(follow_up) is True and action.runs == 1
