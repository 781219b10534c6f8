"""The running service: continuous workers archive a run after its stop line; jobs and the
schedule over REST; ticks guarded across replicas."""

import re
import time
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session

from app.auth.tokens import create_token
from app.main import create_app
from app.models import Stage, StageStatus, State, TokenScope
from app.runrecords.sample import stop_run
from app.scheduler import run_once_across_replicas, triggers
from tests.pipeline.conftest import ArchiveEnv

RUNNING = 1005


def wait_for(predicate, timeout: float = 60.0) -> bool:
    """Poll the ledger until `predicate()` holds (bounded; the service works in the background)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def state_of(env: ArchiveEnv, run: int, stage: Stage) -> State | None:
    with Session(env.engine) as session:
        row = session.get(StageStatus, (run, stage))
        return row.state if row else None


def operator_token(env: ArchiveEnv) -> dict[str, str]:
    with Session(env.engine) as session:
        issued = create_token(session, name="ops", scope=TokenScope.OPERATE)
        session.commit()
    return {"Authorization": f"Bearer {issued.secret}"}


def test_service_archives_a_run_once_it_stops(archive_env: ArchiveEnv) -> None:
    settings = archive_env.settings.model_copy(
        update={
            "schedule": archive_env.settings.schedule.model_copy(
                update={"pipeline_interval_seconds": 1}
            )
        }
    )
    with TestClient(create_app(settings)):
        assert wait_for(lambda: state_of(archive_env, 1004, Stage.MIGRATE) == State.DONE)
        assert state_of(archive_env, RUNNING, Stage.IMPORT) == State.WAITING
        stop_run(archive_env.records, RUNNING)
        assert wait_for(lambda: state_of(archive_env, RUNNING, Stage.MIGRATE) == State.DONE)
    assert archive_env.ucondb_versions()[str(RUNNING)] == 1


def test_jobs_api_runs_a_stage_and_refuses_a_duplicate(archive_env: ArchiveEnv) -> None:
    app = create_app(archive_env.settings, background=False)
    with TestClient(app) as client:
        headers = operator_token(archive_env)
        assert client.post("/api/jobs", json={"kind": "run"}).status_code == 401
        bad = client.post("/api/jobs", json={"kind": "run", "runs": "9-1"}, headers=headers)
        assert bad.status_code == 422
        created = client.post("/api/jobs", json={"kind": "import"}, headers=headers)
        assert created.status_code == 202, created.text
        job_id = created.json()["id"]
        assert created.headers["location"] == f"/api/jobs/{job_id}"
        second = client.post("/api/jobs", json={"kind": "run"}, headers=headers)
        if second.status_code == 409:  # the first may already have finished on a fast machine
            assert second.json()["detail"]["job_id"] == job_id
        assert wait_for(
            lambda: client.get(f"/api/jobs/{job_id}").json()["state"] in ("succeeded", "failed")
        )
        job = client.get(f"/api/jobs/{job_id}").json()
        assert job["state"] == "succeeded", job
        assert job["done"] == 5 and job["failed"] == 0 and job["requested_by"] == "ops"
        assert "import: 5 done" in job["message"]
        listed = client.get("/api/jobs").json()
        assert any(j["id"] == job_id for j in listed)
        assert client.get("/api/jobs/999999").status_code == 404
        assert client.post(f"/api/jobs/{job_id}/cancel", headers=headers).status_code == 409


def test_schedule_and_status(archive_env: ArchiveEnv) -> None:
    app = create_app(archive_env.settings)
    with TestClient(app) as client:
        headers = operator_token(archive_env)
        entries = {e["id"]: e for e in client.get("/api/schedule").json()}
        assert {
            "scan",
            "reconcile",
            "retry-sweep",
            "daily-summary",
            "worker-import",
            "worker-migrate",
        } <= set(entries)
        assert entries["scan"]["paused"] is False
        paused = client.post("/api/schedule/reconcile/pause", headers=headers)
        assert paused.status_code == 200 and paused.json()["paused"] is True
        assert (
            client.post("/api/schedule/reconcile/resume", headers=headers).json()["paused"] is False
        )
        worker = client.post("/api/schedule/worker-migrate/pause", headers=headers).json()
        assert worker["paused"] is True
        assert client.post("/api/schedule/nope/pause", headers=headers).status_code == 404
        assert client.post("/api/schedule/scan/pause").status_code == 401
        assert wait_for(lambda: state_of(archive_env, 1004, Stage.IMPORT) == State.DONE)
        ready = client.get("/readyz").json()
        assert ready["status"] == "ready", ready
        assert {"database", "filesystem", "artdaqdb", "ucondb"} <= set(ready["checks"])
        status = client.get("/api/status").json()
        assert status["newest_run_seen"] == RUNNING
        assert status["stages"]["import"]["newest_archived_run"] == 1004
        assert status["last_scan_at"] is not None


def test_triggers_follow_the_settings(archive_env: ArchiveEnv) -> None:
    when = triggers(archive_env.settings.schedule)
    start = datetime(2026, 1, 1, 5, 0, tzinfo=UTC)
    assert (when["scan"].get_next_fire_time(start, start) - start).total_seconds() in (0, 60)
    nxt = when["daily-summary"].get_next_fire_time(None, start)
    assert (nxt.hour, nxt.minute) == (6, 0)


def test_a_tick_runs_once_across_replicas(archive_env: ArchiveEnv) -> None:
    if archive_env.engine.dialect.name != "postgresql":
        pytest.skip("the advisory tick lock exists on PostgreSQL only")
    ran: list[str] = []

    def inner() -> None:
        ran.append("second")

    def outer() -> None:
        ran.append("first")
        assert run_once_across_replicas(archive_env.engine, "scan", inner) is False

    assert run_once_across_replicas(archive_env.engine, "scan", outer) is True
    assert ran == ["first"]
    with archive_env.engine.connect() as connection:
        assert (
            connection.execute(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
            ).scalar()
            == 0
        )


def test_operator_releases_a_run_that_never_stopped(archive_env: ArchiveEnv) -> None:
    from datetime import timedelta

    from app.models import Readiness, Run
    from app.pipeline.runner import WorkRequest, run_work
    from app.runrecords.metadata import format_daq_time
    from app.timeutil import utcnow

    settings = archive_env.settings.model_copy(
        update={
            "scanner": archive_env.settings.scanner.model_copy(update={"max_run_duration_hours": 1})
        }
    )
    metadata = archive_env.records / str(RUNNING) / "metadata.txt"
    metadata.chmod(0o644)
    started = format_daq_time(utcnow() - timedelta(hours=5))  # the DAQ died 5 hours ago
    metadata.write_text(
        re.sub(
            r"DAQInterface start time: .*",
            f"DAQInterface start time: {started}",
            metadata.read_text(),
        )
    )
    app = create_app(settings, background=False)
    with TestClient(app) as client:
        headers = operator_token(archive_env)
        ctx = app.state.service.runner.ctx
        run_work(ctx, WorkRequest(stages=()))
        with Session(archive_env.engine) as session:
            assert session.get(Run, RUNNING).readiness == Readiness.NEVER_STOPPED
        assert state_of(archive_env, RUNNING, Stage.IMPORT) == State.WAITING
        refused = client.post("/api/runs/1000/release", json={"reason": "x"}, headers=headers)
        assert refused.status_code == 409 and "only never_stopped" in refused.json()["detail"]
        assert client.post(f"/api/runs/{RUNNING}/release", json={"reason": "x"}).status_code == 401
        done = client.post(
            f"/api/runs/{RUNNING}/release",
            json={"reason": "DAQ crashed; archive what we have"},
            headers=headers,
        )
        assert done.status_code == 200 and done.json()["changed"] == ["import"]
        run_work(ctx, WorkRequest(runs=None, scan=False))
    assert state_of(archive_env, RUNNING, Stage.MIGRATE) == State.DONE
