"""Concurrent writers (threads and processes) and writers killed with SIGKILL at random points."""

import fcntl
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TypeVar

import pytest
from adb_helpers import expected_of, small_run_files
from adb_writer import run_files

from app.stores.artdaqdb import fs_export, fs_verify, fsio
from app.stores.artdaqdb.fsio import LOCK_NAME
from app.stores.artdaqdb.index import invariant_problems, parse_index, read_index
from app.stores.artdaqdb.layout import INDEX_NAME, collections
from app.stores.artdaqdb.rebuild import rebuild_indexes
from app.stores.artdaqdb.results import Outcome
from app.stores.artdaqdb.store import open_store

WRITER = Path(__file__).with_name("adb_writer.py")
CRASH_ROUNDS = 6
OID_FILE = re.compile(r"[0-9a-f]{24}\.json")
T = TypeVar("T")


def _writer(uri: str, first: int, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WRITER), uri, str(first), str(count)],
        stdout=subprocess.PIPE,
        text=True,
    )


def _indexes(root: Path) -> dict[str, dict]:
    return {name: read_index(root / name / INDEX_NAME) for name in collections(root)}


def _assert_clean_tree(root: Path) -> None:
    """Only collections in the root; only index.json and <oid>.json inside them."""
    assert set(collections(root)) <= {"RunHistory", "SystemLayout", "SystemMetadata"}
    for name in collections(root):
        for path in (root / name).iterdir():
            assert path.name == INDEX_NAME or OID_FILE.fullmatch(path.name), path


def test_threads_writing_different_runs_lose_no_index_entry(store, db_root: Path) -> None:
    runs = range(1, 25)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(lambda run: store.archive_run(run, "standard", run_files(run)), runs)
        )
    assert all(result.ok for result in results)
    assert store.list_runs().runs == tuple(runs)
    run_history = read_index(db_root / "RunHistory" / INDEX_NAME)
    assert len(run_history["ouid"]) == 24 * 12 and invariant_problems(run_history) == []


def test_processes_writing_different_runs_lose_no_index_entry(db_uri: str, db_root: Path) -> None:
    writers = [_writer(db_uri, 1 + 8 * number, 8) for number in range(3)]
    for writer in writers:
        writer.communicate(timeout=120)
        assert writer.returncode == 0
    store = open_store(db_uri)
    assert store.list_runs().runs == tuple(range(1, 25))
    before = _indexes(db_root)
    assert all(invariant_problems(index) == [] for index in before.values())
    assert len(before["RunHistory"]["ouid"]) == 24 * 12
    rebuild_indexes(db_root)
    assert _indexes(db_root) == before


def test_writer_killed_at_random_points_leaves_a_readable_recoverable_store(
    db_uri: str, db_root: Path
) -> None:
    chance = random.Random()
    store = open_store(db_uri)
    first = 1
    for _ in range(CRASH_ROUNDS):
        writer = _writer(db_uri, first, 1000)
        assert writer.stdout is not None and writer.stdout.readline() == "ready\n"
        time.sleep(chance.uniform(0.02, 0.4))
        writer.send_signal(signal.SIGKILL)
        output, _ = writer.communicate()
        done = [int(line.split()[0]) for line in output.splitlines()]
        touched = range(first, (max(done) if done else first) + 2)
        _assert_clean_tree(db_root)
        listed = set(store.list_runs().runs)
        assert set(done) <= listed
        for run in touched:
            verdict = store.verify_run(run, "standard", expected_of(run_files(run)))
            if run in done:
                assert verdict.complete, verdict
            else:
                assert verdict.complete or verdict.missing, verdict
        for run in touched:
            assert store.archive_run(run, "standard", run_files(run)).ok
        first = touched[-1] + 1
    final = _indexes(db_root)
    assert all(invariant_problems(index) == [] for index in final.values())
    assert set(store.list_runs().runs) == set(range(1, first))
    rebuild_indexes(db_root)
    assert _indexes(db_root) == final
    assert parse_index((db_root / "RunHistory" / INDEX_NAME).read_text()) == final["RunHistory"]


def _writer_could_lock(root: Path) -> bool:
    """Whether a project writer could take the exclusive lock right now."""
    fd = os.open(root / LOCK_NAME, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def test_verify_and_export_read_documents_without_holding_writers_back(
    db_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(db_uri)
    files = small_run_files()
    store.archive_run(17, "standard", files)
    root = Path(db_uri.removeprefix("filesystemdb://"))
    could_write: list[bool] = []

    def watched(read: Callable[..., T]) -> Callable[..., T]:
        def reading(*args: Any, **kwargs: Any) -> T:
            could_write.append(_writer_could_lock(root))
            return read(*args, **kwargs)

        return reading

    monkeypatch.setattr(fs_verify, "read_record", watched(fs_verify.read_record))
    monkeypatch.setattr(fs_export, "_raw", watched(fs_export._raw))
    assert store.verify_run(17, "standard", expected_of(files)).complete
    assert set(store.export_run(17, "standard").files) == {f"{e}.fcl" for e in files}
    assert len(could_write) == 2 * len(files) and all(could_write)


def test_a_sweep_removes_abandoned_temporaries_and_keeps_those_a_live_writer_holds(
    tmp_path: Path,
) -> None:
    abandoned = fsio.stage(tmp_path, b"left by a writer that died")
    with ExitStack() as hold:
        held = fsio.stage(tmp_path, b"staged ahead of the lock", hold=hold)
        assert fsio.remove_stale_temporaries(tmp_path) == [abandoned]
        assert held.read_bytes() == b"staged ahead of the lock"
    assert fsio.remove_stale_temporaries(tmp_path) == [held]  # its writer let go


def test_a_temporary_swept_before_its_writer_locked_it_is_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_flock = fcntl.flock
    swept: list[Path] = []

    def sweep_first(fd: int, operation: int) -> None:
        if not swept:  # another writer's sweep gets there between creation and flock
            path = Path(f"/proc/self/fd/{fd}").readlink()
            swept.append(path)
            path.unlink()
        real_flock(fd, operation)

    monkeypatch.setattr(fsio.fcntl, "flock", sweep_first)
    with ExitStack() as hold:
        staged = fsio.stage(tmp_path, b"data", hold=hold)
        assert staged != swept[0]
        assert staged.read_bytes() == b"data"
        assert list(tmp_path.glob(f"{fsio.TEMP_PREFIX}*")) == [staged]


def test_records_are_staged_and_synced_before_the_writer_waits_for_the_lock(
    db_uri: str,
) -> None:
    store = open_store(db_uri)
    root = Path(db_uri.removeprefix("filesystemdb://"))
    store.archive_run(1, "standard", small_run_files())  # the database exists
    files = small_run_files()
    fd = os.open(root / LOCK_NAME, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another writer holds the database
    with ThreadPoolExecutor(1) as pool:
        archiving = pool.submit(store.archive_run, 2, "standard", files)
        deadline = time.monotonic() + 30
        while len(list(root.glob(f"{fsio.TEMP_PREFIX}*"))) < len(files):
            assert time.monotonic() < deadline, "nothing staged while the lock was held"
            time.sleep(0.01)
        assert not archiving.done()
        os.close(fd)
        assert archiving.result(timeout=30).outcome is Outcome.INSERTED
    assert not list(root.glob(f"{fsio.TEMP_PREFIX}*"))
    assert store.verify_run(2, "standard", expected_of(files)).complete
