"""The service's follow-up scan: a run stopped while the scan interval is long is scanned and
archived once its settle period ends, not at the next tick; a paused scan tick gets none."""

import time

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.config import Settings
from app.main import create_app
from app.models import Run, Stage, State
from app.runrecords.sample import stop_run
from app.scheduler import run_follow_up
from app.timeutil import utcnow
from tests.pipeline.conftest import ArchiveEnv
from tests.pipeline.test_service import RUNNING, operator_token, state_of, wait_for

SETTLE_SECONDS = 3
INTERVAL_SECONDS = 3600


def long_interval(env: ArchiveEnv) -> Settings:
    """Scan once an hour, settle for a few seconds: only a follow-up can scan in between."""
    settings = env.settings
    return settings.model_copy(
        update={
            "schedule": settings.schedule.model_copy(
                update={"pipeline_interval_seconds": INTERVAL_SECONDS}
            ),
            "scanner": settings.scanner.model_copy(update={"settle_seconds": SETTLE_SECONDS}),
        }
    )


def last_scanned(env: ArchiveEnv, run: int) -> float:
    with Session(env.engine) as session:
        row = session.get(Run, run)
        assert row is not None
        return row.last_scanned_at.timestamp()


def test_a_stopped_run_is_archived_by_the_follow_up_not_the_next_tick(
    archive_env: ArchiveEnv,
) -> None:
    app = create_app(long_interval(archive_env))
    with TestClient(app):
        runner = app.state.service.runner
        follow_up = runner.scan_follow_up
        assert wait_for(lambda: state_of(archive_env, 1004, Stage.MIGRATE) == State.DONE)
        regular = follow_up.tick_next_run()
        stop_run(archive_env.records, RUNNING)
        runner.scan_tick()  # a regular scan while the run settles
        assert state_of(archive_env, RUNNING, Stage.IMPORT) == State.WAITING
        at = follow_up.pending()
        assert at is not None and utcnow() < at < regular
        assert wait_for(lambda: state_of(archive_env, RUNNING, Stage.MIGRATE) == State.DONE)
        assert last_scanned(archive_env, RUNNING) >= at.timestamp()  # scanned by the follow-up
        assert follow_up.tick_next_run() == regular  # the regular tick did not run
        assert wait_for(lambda: follow_up.pending() is None)  # nothing settles: no more scans
    assert archive_env.ucondb_versions()[str(RUNNING)] == 1


def test_a_paused_scan_tick_suppresses_follow_ups(archive_env: ArchiveEnv) -> None:
    app = create_app(long_interval(archive_env))
    with TestClient(app) as client:
        runner = app.state.service.runner
        follow_up = runner.scan_follow_up
        headers = operator_token(archive_env)
        assert wait_for(lambda: state_of(archive_env, 1004, Stage.MIGRATE) == State.DONE)
        stop_run(archive_env.records, RUNNING)
        runner.scan_tick()
        at = follow_up.pending()
        assert at is not None
        scan_entry = next(e for e in client.get("/api/schedule").json() if e["id"] == "scan")
        assert scan_entry["next_run_at"] == at.isoformat()  # operators see the early scan

        paused = client.post("/api/schedule/scan/pause", headers=headers)
        assert paused.status_code == 200 and paused.json()["paused"] is True
        assert follow_up.pending() is None
        while utcnow() < at:  # the run has settled by now
            time.sleep(0.1)
        assert run_follow_up(follow_up) is False  # a follow-up firing anyway does not scan
        assert state_of(archive_env, RUNNING, Stage.IMPORT) == State.WAITING

        resumed = client.post("/api/schedule/scan/resume", headers=headers)
        assert resumed.json()["paused"] is False
        assert run_follow_up(follow_up) is True
        assert wait_for(lambda: state_of(archive_env, RUNNING, Stage.MIGRATE) == State.DONE)
