"""UconDB misbehaving under a catch-up and under the running service: 20 % 5xx answers on every
endpoint, uploads stored and then dropped, and 5 s stalls against a 2 s client timeout (the
stalled upload is stored after the client gave up on it). Every run must end verified, within
its attempt budget, with exactly one version per key holding the bytes the ledger recorded."""

import hashlib
import time
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.models import Stage, State
from app.pipeline.runner import WorkRequest, run_work
from app.runrecords.sample import stop_run
from app.ucondb_server.state import Fault
from tests.pipeline.conftest import ArchiveEnv
from tests.reliability.conftest import MakeArchive, rows

pytestmark = pytest.mark.slow

MAX_ATTEMPTS = 10
STALL_SECONDS = 5.0
CLIENT_TIMEOUT_SECONDS = 2.0


def misbehave(env: ArchiveEnv) -> None:
    """The faults of this file; stalls and drops are counted so that they certainly happen."""
    state = env.ucondb.state
    state.add_fault(Fault("stall", endpoint="data", method="POST", seconds=STALL_SECONDS, times=2))
    state.add_fault(Fault("stall", endpoint="data", method="GET", seconds=STALL_SECONDS, times=1))
    state.add_fault(Fault("drop_after_store", times=2))
    state.add_fault(Fault("error", rate=0.2, status=503))


def faulty_archive(
    make_archive: MakeArchive, runs: int, running: int = 0
) -> tuple[ArchiveEnv, list[int]]:
    env, numbers = make_archive(
        runs=runs,
        running=running,
        ucon_db={"timeout_seconds": CLIENT_TIMEOUT_SECONDS, "connect_timeout_seconds": 1},
        pipeline={"max_attempts": MAX_ATTEMPTS, "backoff_max_seconds": 1},
    )
    misbehave(env)
    return env, numbers


def wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


def all_migrated(env: ArchiveEnv, runs: list[int]) -> bool:
    migrated = rows(env, Stage.MIGRATE)
    return all(run in migrated and migrated[run].state == State.DONE for run in runs)


def assert_archived_once(env: ArchiveEnv, runs: list[int]) -> None:
    """Done within budget, one version per key, and that version holds the recorded bytes."""
    imported, migrated = rows(env, Stage.IMPORT), rows(env, Stage.MIGRATE)
    for run in runs:
        assert imported[run].state == State.DONE, (run, imported[run].last_error)
        assert migrated[run].state == State.DONE, (run, migrated[run].last_error)
        assert migrated[run].attempts <= MAX_ATTEMPTS
    assert env.ucondb_versions() == {str(run): 1 for run in runs}
    ctx = env.context()
    for run in runs:
        data = ctx.ucondb.download(run)
        assert data is not None
        assert hashlib.md5(data, usedforsecurity=False).hexdigest() == migrated[run].blob_md5
    ctx.close()


def assert_faults_fired(env: ArchiveEnv) -> None:
    requests = env.ucondb.state.requests()
    assert any(r.status == 503 for r in requests)
    uploads = [r for r in requests if r.endpoint == "data" and r.method == "POST"]
    assert sum(1 for r in uploads if r.authenticated and r.status is None) >= 2  # dropped/stalled
    assert not [f for f in env.ucondb.state.faults if f.times]  # every counted fault was used


def test_catch_up_ends_verified_through_errors_drops_and_stalls(make_archive: MakeArchive) -> None:
    env, runs = faulty_archive(make_archive, runs=8)
    ctx = env.context()
    for _ in range(8):
        run_work(ctx, WorkRequest())
        if all_migrated(env, runs):
            break
        time.sleep(1.0)  # a failed attempt's backoff (at most 1 s here)
    ctx.close()
    assert_faults_fired(env)
    env.ucondb.state.clear_faults()
    assert_archived_once(env, runs)


def test_running_service_archives_through_faults(make_archive: MakeArchive) -> None:
    env, runs = faulty_archive(make_archive, runs=6, running=2)
    ended, still_running = runs[:4], runs[4:]
    settings = env.settings.model_copy(
        update={
            "schedule": env.settings.schedule.model_copy(update={"pipeline_interval_seconds": 1})
        }
    )
    with TestClient(create_app(settings)):
        assert wait_for(lambda: all_migrated(env, ended), timeout=120), rows(env, Stage.MIGRATE)
        for run in still_running:
            stop_run(env.records, run)
        assert wait_for(lambda: all_migrated(env, runs), timeout=120), rows(env, Stage.MIGRATE)
    assert_faults_fired(env)
    env.ucondb.state.clear_faults()
    assert_archived_once(env, runs)
