"""The service's clock: APScheduler 3 triggers the periodic ticks; durable state is the ledger.

On PostgreSQL each tick holds a transaction-scoped advisory lock, so with several replicas a
tick runs once; the others skip it. A tick may also ask for one early extra run (a follow-up,
e.g. a scan when a settling run becomes ready); it goes through the same guard.
"""

import contextlib
import logging
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.config import ScheduleSection

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tick:
    """One periodic task: its id, when it fires, and what it does."""

    name: str
    trigger: BaseTrigger
    action: Callable[[], object]
    description: str


def triggers(schedule: ScheduleSection) -> dict[str, BaseTrigger]:
    """When each tick fires, from the `schedule` settings."""
    return {
        "scan": IntervalTrigger(seconds=schedule.pipeline_interval_seconds, timezone=UTC),
        "reconcile": IntervalTrigger(seconds=schedule.reconcile_interval_seconds, timezone=UTC),
        "retry-sweep": IntervalTrigger(seconds=schedule.retry_sweep_interval_seconds, timezone=UTC),
        "daily-summary": CronTrigger.from_crontab(schedule.daily_summary_cron, timezone=UTC),
    }


def run_once_across_replicas(engine: Engine, name: str, action: Callable[[], object]) -> bool:
    """Run `action` unless another replica holds this tick's advisory lock (PostgreSQL only).

    Returns whether it ran.
    """
    if engine.dialect.name != "postgresql":
        action()
        return True
    key = zlib.crc32(f"rra-tick:{name}".encode())
    with engine.connect() as connection, connection.begin():
        got = connection.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key}).scalar()
        if not got:
            log.debug("tick %s is running on another replica; skipped", name)
            return False
        action()
        return True


def make_scheduler(engine: Engine, ticks: list[Tick]) -> BackgroundScheduler:
    """A background scheduler with one job per tick, each guarded across replicas."""
    scheduler = BackgroundScheduler(timezone=UTC)
    for tick in ticks:
        scheduler.add_job(
            run_once_across_replicas,
            tick.trigger,
            args=(engine, tick.name, tick.action),
            id=tick.name,
            name=tick.description,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
    return scheduler


class FollowUp:
    """At most one pending early run of a tick: a tick that knows when its work will be due
    asks for it instead of waiting for its next regular run."""

    def __init__(self, scheduler: BackgroundScheduler, engine: Engine, tick: Tick) -> None:
        self.scheduler = scheduler
        self.engine = engine
        self.tick = tick
        self.job_id = f"{tick.name}-follow-up"
        self._lock = threading.Lock()

    def request(self, at: datetime) -> bool:
        """Run the tick once at `at`, unless the tick is paused or runs by then anyway, or an
        earlier follow-up is pending (only the earliest is kept). Returns whether it was set."""
        with self._lock:
            regular = self.tick_next_run()
            pending = self.pending()
            if not self.scheduler.running or regular is None or regular <= at:
                return False
            if pending is not None and pending <= at:
                return False
            self.scheduler.add_job(
                run_follow_up,
                DateTrigger(at, timezone=UTC),
                args=(self,),
                id=self.job_id,
                name=f"follow-up: {self.tick.description}",
                replace_existing=True,
                max_instances=2,  # a running follow-up sets the next, which may be due at once
                coalesce=True,
                misfire_grace_time=None,
            )
            log.debug("%s follow-up set for %s", self.tick.name, at.isoformat())
            return True

    def cancel(self) -> None:
        """Drop the pending follow-up, if any (the tick was paused)."""
        with self._lock, contextlib.suppress(JobLookupError):
            self.scheduler.remove_job(self.job_id)

    def pending(self) -> datetime | None:
        """When the pending follow-up runs, if one is pending."""
        return getattr(self.scheduler.get_job(self.job_id), "next_run_time", None)

    def tick_next_run(self) -> datetime | None:
        """The tick's next regular run; None while it is paused."""
        return getattr(self.scheduler.get_job(self.tick.name), "next_run_time", None)


def run_follow_up(follow_up: FollowUp) -> bool:
    """The follow-up job: the tick's action under the tick's replica guard, unless operators
    paused the tick meanwhile. Returns whether it ran."""
    if follow_up.tick_next_run() is None:
        log.debug("%s follow-up skipped: the tick is paused", follow_up.tick.name)
        return False
    tick = follow_up.tick
    return run_once_across_replicas(follow_up.engine, tick.name, tick.action)
