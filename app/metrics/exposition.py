"""The `/metrics` text: the process's counters and, given the ledger, gauges read from it at
scrape time (backlog, newest archived run, last scan), so they are right even for work done by
other processes or replicas sharing the ledger."""

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from app.metrics.ledger import backlog, last_scan_time, newest_archived, state_counts
from app.metrics.prometheus import REGISTRY
from app.models import Stage, State

log = logging.getLogger(__name__)

# The classic text format: every Prometheus server version reads it; our names need no escaping.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4


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
