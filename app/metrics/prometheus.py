"""Prometheus counters and histograms the pipeline feeds, in one registry for the life of the
process; `exposition` adds the ledger gauges at scrape time. Import worker processes load this
module, so it stays free of the ORM."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector

from app.vocabulary import Stage, State

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
