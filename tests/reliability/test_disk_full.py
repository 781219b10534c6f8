"""A full artdaq_database volume during a catch-up, then space coming back.

The volume is a real small file system: a tmpfs mounted on the filesystemdb root (root only;
the test skips, saying why, where mounting is not permitted). `RLIMIT_FSIZE` was the other
option, but it limits every file the process writes, so the SQLite ledger's WAL (several MB
after a few runs) would hit it before the store does; a tmpfs fills the store alone. Growing
it in place (`remount,size=`) keeps what was written, as freeing space on a real disk does.
"""

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.models import ErrorKind, Stage, State
from app.pipeline.runner import WorkRequest, run_work
from app.stores.artdaqdb.fsio import TEMP_PREFIX
from app.stores.artdaqdb.results import ExpectedFile
from tests.pipeline.conftest import ArchiveEnv
from tests.reliability.conftest import MakeArchive, rows

pytestmark = pytest.mark.slow

RUNS = 6
SMALL_VOLUME = "2600k"  # a sample run takes about 1 MB in the store: two or three fit
BACKOFF_SECONDS = 2.0


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, check=False)


@pytest.fixture
def small_volume(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of SMALL_VOLUME at `<tmp>/db_archive` (the archive's filesystemdb root)."""
    target = tmp_path / "db_archive"
    target.mkdir()
    done = _mount("-t", "tmpfs", "-o", f"size={SMALL_VOLUME},mode=0755", "tmpfs", str(target))
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield target
    finally:
        if subprocess.run(["umount", str(target)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(target)], check=False)


def grow(volume: Path) -> None:
    """Space comes back: the same file system, contents kept, 64 MB."""
    done = _mount("-o", "remount,size=64m", str(volume))
    assert done.returncode == 0, done.stderr


def stored_completely(env: ArchiveEnv, run: int) -> bool:
    """Whether artdaq_database holds every document the ledger says was imported, intact."""
    details = rows(env, Stage.IMPORT)[run].details or {}
    expected = {
        entity: ExpectedFile(d["size"], d["sha256"])
        for entity, d in details.get("documents", {}).items()
    }
    ctx = env.context()
    verified = ctx.store.verify_run(run, details["config_name"], expected)
    return bool(expected) and verified.complete


def test_full_store_fails_runs_cleanly_and_they_complete_once_space_returns(
    make_archive: MakeArchive, small_volume: Path
) -> None:
    env, runs = make_archive(
        runs=RUNS, pipeline={"backoff_base_seconds": BACKOFF_SECONDS, "max_attempts": 5}
    )
    ctx = env.context()
    run_work(ctx, WorkRequest())
    imported = rows(env, Stage.IMPORT)
    full = [run for run in runs if imported[run].state != State.DONE]
    archived = [run for run in runs if imported[run].state == State.DONE]
    assert full and archived, {run: imported[run].state for run in runs}
    for run in full:
        row = imported[run]
        assert row.state == State.RETRY and row.error_kind == ErrorKind.ARTDAQDB, row
        assert f"run {run}:" in row.last_error and "No space left on device" in row.last_error
    assert set(rows(env, Stage.MIGRATE)) == set(archived)
    assert set(env.ucondb_versions()) == {str(run) for run in archived}
    assert all(stored_completely(env, run) for run in archived)

    grow(small_volume)
    time.sleep(BACKOFF_SECONDS * 1.3)  # the retries' backoff, jitter included
    report = run_work(ctx, WorkRequest())
    ctx.close()
    assert report.failed_runs == []
    assert all(row.state == State.DONE for row in rows(env, Stage.IMPORT).values())
    assert all(row.state == State.DONE for row in rows(env, Stage.MIGRATE).values())
    assert env.ucondb_versions() == {str(run): 1 for run in runs}
    assert all(stored_completely(env, run) for run in runs)
    assert list(small_volume.glob(f"{TEMP_PREFIX}*")) == []
