"""Crash and scale-out trials with real processes: SIGKILL during a catch-up, and replicas
sharing one PostgreSQL ledger. The UconDB side is the project's stand-in over loopback (a test
double: the real server cannot run here); everything else is real."""

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import Session, col, func, select

from app.models import Stage, StageStatus, State
from tests.conftest import PG_ENV
from tests.pipeline.conftest import FOLDER, PASSWORD, USER, ArchiveEnv, make_settings

pytestmark = pytest.mark.slow

CRASH_RUNS = int(os.environ.get("RRA_CRASH_RUNS", "200"))
CRASH_KILLS = int(os.environ.get("RRA_CRASH_KILLS", "20"))
REPLICA_RUNS = int(os.environ.get("RRA_REPLICA_RUNS", "300"))


def write_config(env: ArchiveEnv, path: Path) -> Path:
    """Short leases so rows of a killed worker come back quickly; a generous attempt budget,
    since a run may be caught by several kills."""
    return env.write_config(
        path,
        app={"run_process_retries": 30},
        pipeline={"lease_seconds": 3, "backoff_max_seconds": 1},
    )


def start_worker(config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "run", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def ledger_states(env: ArchiveEnv) -> Counter[tuple[Stage, State]]:
    with Session(env.engine) as session:
        rows = session.exec(
            select(StageStatus.stage, StageStatus.state, func.count()).group_by(
                col(StageStatus.stage), col(StageStatus.state)
            )
        ).all()
    return Counter({(stage, state): n for stage, state, n in rows})


def finish(env: ArchiveEnv, config: Path, runs: int, deadline_s: float = 900) -> None:
    """Run workers to completion until every run is done in both stages (bounded)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        states = ledger_states(env)
        if states[(Stage.MIGRATE, State.DONE)] == runs:
            return
        proc = start_worker(config)
        proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        if states == ledger_states(env):
            time.sleep(1.0)  # rows of a killed worker wait for their lease to expire
    raise AssertionError(f"not finished: {ledger_states(env)}")


def assert_exactly_once(env: ArchiveEnv, runs: list[int]) -> None:
    states = ledger_states(env)
    assert states[(Stage.IMPORT, State.DONE)] == len(runs), states
    assert states[(Stage.MIGRATE, State.DONE)] == len(runs), states
    assert not any(state == State.RUNNING for (_, state) in states), states
    assert env.ucondb_versions() == {str(run): 1 for run in runs}
    with Session(env.engine) as session:
        unverified = session.exec(
            select(StageStatus).where(
                (col(StageStatus.stage) == Stage.MIGRATE) & col(StageStatus.blob_md5).is_(None)
            )
        ).all()
    assert unverified == []


@pytest.fixture
def big_env(tmp_path: Path, db_url: str, request: pytest.FixtureRequest):
    from app import migrate
    from app.db import make_engine
    from app.demo import DEMO_SCHEMA
    from app.runrecords.sample import write_sample_records
    from app.ucondb_server.runner import serve_in_background
    from app.ucondb_server.state import make_state

    runs = request.param
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "schema.fcl").write_text(DEMO_SCHEMA)
    numbers = write_sample_records(tmp_path / "records", runs=runs, running=0, seed=11)
    state = make_state(folders=[FOLDER], users={USER: PASSWORD}, seed=5)
    with serve_in_background(state) as server:
        engine = make_engine(db_url)
        migrate.upgrade(engine)
        env = ArchiveEnv(
            tmp_path,
            tmp_path / "records",
            make_settings(tmp_path, db_url, server.base_url),
            engine,
            server,
        )
        try:
            yield env, numbers
        finally:
            engine.dispose()


@pytest.mark.parametrize("big_env", [CRASH_RUNS], indirect=True)
def test_sigkill_during_catch_up_loses_and_duplicates_nothing(big_env, tmp_path: Path) -> None:
    env, runs = big_env
    config = write_config(env, tmp_path / "config.yaml")
    rng = random.Random(2026)
    kills = 0
    while kills < CRASH_KILLS:
        proc = start_worker(config)
        time.sleep(rng.uniform(0.3, 2.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
    finish(env, config, len(runs))
    assert kills >= CRASH_KILLS
    assert_exactly_once(env, runs)


@pytest.mark.skipif(
    not os.environ.get(PG_ENV), reason="several processes share a ledger only on PostgreSQL"
)
@pytest.mark.parametrize("big_env", [REPLICA_RUNS], indirect=True)
def test_three_replicas_share_the_work_and_upload_each_run_once(big_env, tmp_path: Path) -> None:
    env, runs = big_env
    config = write_config(env, tmp_path / "config.yaml")
    replicas = [start_worker(config) for _ in range(3)]
    for proc in replicas:
        assert proc.wait(timeout=1800) in (0, 1)
    finish(env, config, len(runs))
    assert_exactly_once(env, runs)
    stored = Counter(
        r.query for r in env.ucondb.state.requests("data") if r.method == "POST" and r.status == 200
    )
    assert all(count == 1 for count in stored.values()) and len(stored) == len(runs)
