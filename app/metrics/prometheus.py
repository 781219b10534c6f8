"""Prometheus metrics: counters and histograms the pipeline feeds, gauges read from the ledger.

The counters live in one module-level registry for the life of the process. The ledger gauges
(backlog, newest archived run, last scan) are computed at scrape time, so they are right even
for work done by other processes or replicas sharing the ledger.
"""

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from app.metrics.ledger import backlog, last_scan_time, newest_archived, state_counts
from app.models import Stage, State

log = logging.getLogger(__name__)

# The classic text format: every Prometheus server version reads it; our names need no escaping.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)

_ATTEMPT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)
_OPERATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
_NEEDS_OPERATOR = (State.FAILED, State.CONFLICT)
LEASE_LOST = "lease_lost"

PROCESSED = Counter(
    "rra_runs_processed",
    "Attempts whose outcome was recorded (or whose lease was lost), by stage.",
    ["stage"],
    registry=REGISTRY,
)
FAILED = Counter(
    "rra_runs_failed",
    "Attempts that left the run failed or in conflict (an operator must act), by stage.",
    ["stage"],
    registry=REGISTRY,
)
RETRIED = Counter(
    "rra_runs_retried",
    "Attempts that failed and scheduled another attempt (state retry), by stage.",
    ["stage"],
    registry=REGISTRY,
)
ATTEMPT_SECONDS = Histogram(
    "rra_attempt_duration_seconds",
    "Duration of one stage attempt, by stage and the state it ended in.",
    ["stage", "outcome"],
    buckets=_ATTEMPT_BUCKETS,
    registry=REGISTRY,
)
OPERATION_SECONDS = Histogram(
    "rra_store_operation_duration_seconds",
    "Latency of artdaq_database and UconDB operations, by operation (legacy Carbon name).",
    ["operation"],
    buckets=_OPERATION_BUCKETS,
    registry=REGISTRY,
)
for _stage in Stage:
    for _counter in (PROCESSED, FAILED, RETRIED):
        _counter.labels(stage=_stage.value)


def observe_attempt(stage: Stage | str, outcome_state: State | None, seconds: float) -> None:
    """Count one finished attempt; `outcome_state` None means the lease was lost meanwhile."""
    stage_value = Stage(stage).value
    outcome = outcome_state.value if outcome_state is not None else LEASE_LOST
    PROCESSED.labels(stage=stage_value).inc()
    if outcome_state in _NEEDS_OPERATOR:
        FAILED.labels(stage=stage_value).inc()
    elif outcome_state == State.RETRY:
        RETRIED.labels(stage=stage_value).inc()
    ATTEMPT_SECONDS.labels(stage=stage_value, outcome=outcome).observe(seconds)


_collected = threading.local()


def observe_operation(name: str, seconds: float) -> None:
    """Record the latency of one store operation (e.g. `UconDBClient.upload_blob`)."""
    OPERATION_SECONDS.labels(operation=name).observe(seconds)
    observed = getattr(_collected, "operations", None)
    if observed is not None:
        observed.append((name, seconds))


@contextmanager
def collected_operations() -> Iterator[list[tuple[str, float]]]:
    """Also list this thread's observations, for a worker process to hand them to its parent
    (whose registry `/metrics` serves)."""
    _collected.operations = observed = []
    try:
        yield observed
    finally:
        _collected.operations = None


class LedgerCollector(Collector):
    """Gauges read from the ledger at each scrape (a few short aggregate queries)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "rra_ledger_up", "1 when the ledger could be read for the gauges of this scrape."
        )
        try:
            with Session(self.engine) as session:
                counts = state_counts(session)
                newest = newest_archived(session)
                scanned = last_scan_time(session)
        except SQLAlchemyError as exc:
            log.warning("metrics: ledger unreadable at scrape: %s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from _stage_gauges(counts, newest)
        scan = GaugeMetricFamily(
            "rra_last_scan_timestamp_seconds",
            "Unix time at which the last successful scan of the run-records directory ended.",
        )
        if scanned is not None:
            scan.add_metric([], scanned.timestamp())
        yield scan


def _stage_gauges(
    counts: dict[Stage, dict[State, int]], newest: dict[Stage, int]
) -> Iterator[Metric]:
    rows = GaugeMetricFamily(
        "rra_stage_runs", "Ledger rows per stage and state.", labels=["stage", "state"]
    )
    pending = GaugeMetricFamily(
        "rra_stage_backlog",
        "Runs a stage still has to process (pending, retry or running).",
        labels=["stage"],
    )
    archived = GaugeMetricFamily(
        "rra_newest_archived_run",
        "Highest run number the stage has finished; absent while it has finished none.",
        labels=["stage"],
    )
    for stage, by_state in counts.items():
        for state, count in by_state.items():
            rows.add_metric([stage.value, state.value], count)
        pending.add_metric([stage.value], backlog(by_state))
        if stage in newest:
            archived.add_metric([stage.value], newest[stage])
    yield from (rows, pending, archived)


def render(engine: Engine | None) -> bytes:
    """The text exposition: process counters and, given the ledger engine, its gauges."""
    text = generate_latest(REGISTRY)
    if engine is not None:
        text += generate_latest(LedgerCollector(engine))
    return text
