"""`GET /metrics`: pipeline counters and ledger gauges, parsed with the Prometheus parser."""

from datetime import timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from metrics_support import make_settings
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.db import make_engine
from app.main import create_app
from app.metrics import observe_attempt
from app.metrics.exposition import render
from app.metrics.prometheus import REGISTRY
from app.metrics.timing import timed
from app.models import Run, Stage, StageStatus, State
from app.timeutil import utcnow

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def counter(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def seed(engine: Engine) -> float:
    scanned = utcnow().replace(microsecond=0) - timedelta(minutes=3)
    with Session(engine) as session:
        states = {1: State.DONE, 2: State.DONE, 3: State.DONE, 4: State.PENDING}
        states |= {5: State.RETRY, 6: State.RUNNING, 7: State.FAILED, 8: State.WAITING}
        for run, state in states.items():
            session.add(StageStatus(run_number=run, stage=Stage.IMPORT, state=state))
            session.add(Run(run_number=run, last_scanned_at=scanned))
        session.add(Run(run_number=9, present=False, last_scanned_at=scanned - timedelta(days=1)))
        session.add(StageStatus(run_number=1, stage=Stage.MIGRATE, state=State.DONE))
        session.add(StageStatus(run_number=2, stage=Stage.MIGRATE, state=State.CONFLICT))
        session.commit()
    return scanned.timestamp()


def test_scrape_reports_counters_and_ledger_gauges(
    tmp_path: Path, db_url: str, engine: Engine
) -> None:
    scanned = seed(engine)
    before = counter("rra_runs_processed_total", stage="migrate")
    observe_attempt(Stage.MIGRATE, State.DONE, 1.5)
    with timed(None, "UconDBClient.get_data"):
        pass
    with TestClient(create_app(make_settings(tmp_path, db_url), background=False)) as client:
        response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = parse(response.text)
    assert samples[("rra_ledger_up", ())] == 1
    assert samples[("rra_stage_backlog", (("stage", "import"),))] == 3
    assert samples[("rra_stage_backlog", (("stage", "migrate"),))] == 0
    assert samples[("rra_newest_archived_run", (("stage", "import"),))] == 3
    assert samples[("rra_newest_archived_run", (("stage", "migrate"),))] == 1
    assert samples[("rra_stage_runs", (("stage", "import"), ("state", "failed")))] == 1
    assert samples[("rra_stage_runs", (("stage", "migrate"), ("state", "conflict")))] == 1
    assert samples[("rra_stage_runs", (("stage", "migrate"), ("state", "pending")))] == 0
    assert samples[("rra_last_scan_timestamp_seconds", ())] == scanned
    assert samples[("rra_runs_processed_total", (("stage", "migrate"),))] == before + 1
    bucket = ("rra_attempt_duration_seconds_bucket", (("le", "2.5"), ("outcome", "done"),
                                                      ("stage", "migrate")))  # fmt: skip
    assert samples[bucket] >= 1
    latency = (
        "rra_store_operation_duration_seconds_count",
        (("operation", "UconDBClient.get_data"),),
    )
    assert samples[latency] >= 1


def test_outcomes_feed_the_right_counters() -> None:
    names = ("rra_runs_processed_total", "rra_runs_failed_total", "rra_runs_retried_total")
    before = [counter(n, stage="import") for n in names]
    lost = counter("rra_attempt_duration_seconds_count", stage="import", outcome="lease_lost")
    for outcome in (State.DONE, State.RETRY, State.FAILED, State.CONFLICT, None):
        observe_attempt("import", outcome, 0.2)
    after = [counter(n, stage="import") for n in names]
    assert [a - b for a, b in zip(after, before, strict=True)] == [5, 2, 1]
    assert counter("rra_attempt_duration_seconds_count", stage="import", outcome="lease_lost") == (
        lost + 1
    )


def test_empty_ledger_has_no_newest_run_and_no_scan_time(engine: Engine) -> None:
    samples = parse(render(engine).decode())
    assert samples[("rra_stage_backlog", (("stage", "import"),))] == 0
    assert not any(name == "rra_newest_archived_run" for name, _ in samples)
    assert not any(name == "rra_last_scan_timestamp_seconds" for name, _ in samples)


def test_an_unreadable_ledger_still_scrapes(tmp_path: Path) -> None:
    unmigrated = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    try:
        samples = parse(render(unmigrated).decode())
    finally:
        unmigrated.dispose()
    assert samples[("rra_ledger_up", ())] == 0
    assert ("rra_runs_processed_total", (("stage", "import"),)) in samples
