"""The service's clock: APScheduler 3 triggers the periodic ticks; durable state is the ledger.

On PostgreSQL each tick holds a transaction-scoped advisory lock, so with several replicas a
tick runs once; the others skip it.
"""

import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
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
