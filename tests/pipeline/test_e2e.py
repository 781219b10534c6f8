"""End to end: sample records → filesystemdb → UconDB stand-in over loopback, through the ledger."""

import hashlib
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from app.models import ErrorKind, Run, RunEvent, Stage, StageStatus, State
from app.pipeline import migrator
from app.pipeline.blob import PackedBlob, unpack
from app.pipeline.context import PipelineContext
from app.pipeline.runner import WorkRequest, run_work
from app.runrecords.sample import stop_run
from app.stores.artdaqdb.dialect import dumps, loads
from app.stores.artdaqdb.document import raw_block
from app.stores.artdaqdb.store import open_store
from app.ucondb_server.state import Fault
from tests.pipeline.conftest import ArchiveEnv

ENDED = [1000, 1001, 1002, 1003, 1004]
RUNNING = 1005


def ledger(env: ArchiveEnv) -> dict[tuple[int, Stage], StageStatus]:
    with Session(env.engine) as session:
        return {(r.run_number, r.stage): r for r in session.exec(select(StageStatus))}


def test_catch_up_archives_every_ended_run_once(archive_env: ArchiveEnv) -> None:
    ctx = archive_env.context()
    report = run_work(ctx, WorkRequest())
    assert report.failed_runs == []
    rows = ledger(archive_env)
    for run in ENDED:
        imported, migrated = rows[(run, Stage.IMPORT)], rows[(run, Stage.MIGRATE)]
        assert imported.state == State.DONE and migrated.state == State.DONE, run
        assert imported.entity_count and imported.content_hash
        assert migrated.blob_size and migrated.blob_md5 and migrated.ucondb_version_id
    assert rows[(RUNNING, Stage.IMPORT)].state == State.WAITING
    assert (RUNNING, Stage.MIGRATE) not in rows
    assert archive_env.ucondb_versions() == {str(run): 1 for run in ENDED}
    assert sorted(open_store(archive_env.settings.artdaq_db.database_uri).list_runs().runs) == ENDED
    ctx.close()


def test_blob_holds_the_record_bytes(archive_env: ArchiveEnv) -> None:
    ctx = archive_env.context()
    run_work(ctx, WorkRequest(runs=None))
    blob = ctx.ucondb.download(1001)
    assert blob is not None
    files = dict(unpack(blob).files)
    process_files = [p.name for p in (archive_env.records / "1001").glob("*.fcl")]
    assert process_files
    for name in process_files:
        assert files[name] == (archive_env.records / "1001" / name).read_bytes()
    assert {"metadata.fcl", "boot.fcl", "RunHistory.fcl", "RunHistory2.fcl", "schema.fcl"} <= set(
        files
    )
    row = ledger(archive_env)[(1001, Stage.MIGRATE)]
    assert hashlib.md5(blob, usedforsecurity=False).hexdigest() == row.blob_md5
    ctx.close()


def test_rerun_is_a_no_op(archive_env: ArchiveEnv) -> None:
    ctx = archive_env.context()
    run_work(ctx, WorkRequest())
    db_root = Path(archive_env.settings.artdaq_db.database_uri.removeprefix("filesystemdb://"))
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in db_root.rglob("*") if p.is_file()}
    again = run_work(ctx, WorkRequest())
    assert again.stages[Stage.IMPORT].results == [] and again.stages[Stage.MIGRATE].results == []
    with Session(archive_env.engine) as session:  # operator asks for a re-import of one run
        row = session.get(StageStatus, (1002, Stage.IMPORT))
        row.state = State.PENDING
        session.add(row)
        session.commit()
    third = run_work(ctx, WorkRequest(stages=(Stage.IMPORT,)))
    assert third.stages[Stage.IMPORT].succeeded == [1002]
    assert "unchanged" in third.stages[Stage.IMPORT].results[0].message
    after = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in db_root.rglob("*") if p.is_file()}
    assert after == before
    assert archive_env.ucondb_versions() == {str(run): 1 for run in ENDED}
    ctx.close()


def test_stop_line_makes_a_running_run_archivable(archive_env: ArchiveEnv) -> None:
    ctx = archive_env.context()
    run_work(ctx, WorkRequest())
    stop_run(archive_env.records, RUNNING)
    report = run_work(ctx, WorkRequest())
    assert report.stages[Stage.IMPORT].succeeded == [RUNNING]
    assert report.stages[Stage.MIGRATE].succeeded == [RUNNING]
    files = dict(unpack(ctx.ucondb.download(RUNNING)).files)
    assert b"DAQInterface_stop_time" in files["RunHistory2.fcl"]
    ctx.close()


def test_bad_record_fails_alone_with_a_clear_error(archive_env: ArchiveEnv) -> None:
    bad = archive_env.records / "1003" / "tpc01.fcl"
    if not bad.exists():
        bad = next((archive_env.records / "1003").glob("*.fcl"))
    bad.chmod(0o644)
    bad.write_bytes(bad.read_bytes() + b"\nbroken: { unclosed: [1, 2\n")
    ctx = archive_env.context()
    report = run_work(ctx, WorkRequest())
    assert report.failed_runs == [1003]
    row = ledger(archive_env)[(1003, Stage.IMPORT)]
    assert row.state == State.FAILED  # a parse error does not go away by retrying
    assert row.error_kind == ErrorKind.FHICL
    assert f"1003/{bad.stem}.fcl:" in row.last_error
    assert "1003" not in archive_env.ucondb_versions()
    assert 1003 not in open_store(archive_env.settings.artdaq_db.database_uri).list_runs().runs
    assert archive_env.ucondb_versions() == {str(r): 1 for r in ENDED if r != 1003}
    ctx.close()


def test_missing_metadata_is_a_source_failure(archive_env: ArchiveEnv) -> None:
    ctx = archive_env.context()
    run_work(ctx, WorkRequest(scan=True, stages=()))
    target = archive_env.records / "1004" / "metadata.txt"
    target.chmod(0o644)
    target.unlink()
    report = run_work(ctx, WorkRequest(scan=False))
    assert 1004 in report.failed_runs
    row = ledger(archive_env)[(1004, Stage.IMPORT)]
    assert row.error_kind == ErrorKind.SOURCE and "metadata.txt" in row.last_error
    ctx.close()


def test_faulty_server_ends_with_everything_archived_once(archive_env: ArchiveEnv) -> None:
    state = archive_env.ucondb.state
    state.add_fault(Fault("error", endpoint="data", method="POST", rate=0.2, status=503))
    state.add_fault(Fault("drop_after_store", rate=0.3))
    ctx = archive_env.context()
    for _ in range(6):
        report = run_work(ctx, WorkRequest())
        rows = ledger(archive_env)
        if all(
            rows[(r, Stage.MIGRATE)].state == State.DONE
            for r in ENDED
            if (r, Stage.MIGRATE) in rows
        ):
            break
    rows = ledger(archive_env)
    assert all(rows[(r, Stage.MIGRATE)].state == State.DONE for r in ENDED), report
    assert archive_env.ucondb_versions() == {str(run): 1 for run in ENDED}
    assert max(rows[(r, Stage.MIGRATE)].attempts for r in ENDED) <= 5
    ctx.close()


def test_conflicting_key_is_left_for_an_operator(archive_env: ArchiveEnv) -> None:
    ctx = archive_env.context()
    ctx.ucondb.upload(1000, b"Start of Record\nsomething else entirely\n")
    report = run_work(ctx, WorkRequest())
    row = ledger(archive_env)[(1000, Stage.MIGRATE)]
    assert row.state == State.CONFLICT and row.error_kind == ErrorKind.CONFLICT
    assert 1000 in report.failed_runs
    assert archive_env.ucondb_versions()["1000"] == 1
    ctx.close()


def test_selection_and_dry_run(archive_env: ArchiveEnv) -> None:
    from app.runranges import parse_runs

    ctx = archive_env.context()
    dry = run_work(ctx, WorkRequest(dry_run=True))
    assert dry.candidates[Stage.IMPORT] == ENDED and dry.stages == {}
    some = run_work(ctx, WorkRequest(runs=parse_runs("1001-1002")))
    assert sorted(some.stages[Stage.IMPORT].succeeded) == [1001, 1002]
    assert sorted(some.stages[Stage.MIGRATE].succeeded) == [1001, 1002]
    limited = run_work(ctx, WorkRequest(stages=(Stage.IMPORT,), limit_per_stage=1))
    assert limited.stages[Stage.IMPORT].succeeded == [1000]
    incremental = run_work(ctx, WorkRequest(incremental=True))
    assert sorted(incremental.stages[Stage.IMPORT].succeeded) == [1003, 1004]
    ctx.close()


def test_events_tell_the_story(archive_env: ArchiveEnv) -> None:
    ctx = archive_env.context()
    run_work(ctx, WorkRequest())
    with Session(archive_env.engine) as session:
        events = session.exec(
            select(RunEvent).where(col(RunEvent.run_number) == 1000).order_by(col(RunEvent.id))
        ).all()
        run = session.get(Run, 1000)
    states = [(e.stage, e.to_state) for e in events if e.to_state]
    assert (Stage.IMPORT, "done") in states and (Stage.MIGRATE, "done") in states
    assert run is not None and run.archived_hash == run.content_hash
    ctx.close()


def test_cli_exit_codes(archive_env: ArchiveEnv, tmp_path: Path) -> None:
    config = archive_env.write_config(tmp_path / "config.yaml")
    s = archive_env.settings
    rra = [sys.executable, "-m", "app.cli"]
    ok = subprocess.run(
        [*rra, "run", "--config", str(config)], capture_output=True, text=True, check=False
    )
    assert ok.returncode == 0, ok.stderr
    assert "import: 5 done, 0 failed" in ok.stdout
    assert s.ucon_db.writer_password not in ok.stdout + ok.stderr
    shutil.rmtree(archive_env.records / "1005")
    (archive_env.records / "1006").mkdir()
    (archive_env.records / "1006" / "metadata.txt").write_text(
        "Config name: x\nDAQInterface stop time: Tue Oct  1 20:47:02 UTC 2024\n"
    )
    (archive_env.records / "1006" / "bad.fcl").write_text("a: [\n")
    failed = subprocess.run(
        [*rra, "import", "--config", str(config)], capture_output=True, text=True, check=False
    )
    assert failed.returncode == 1, failed.stdout + failed.stderr
    bad_syntax = subprocess.run(
        [*rra, "import", "--config", str(config), "--runs", "12-3"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad_syntax.returncode == 1 and "ends before it starts" in bad_syntax.stderr


def test_a_record_over_the_size_limit_fails_at_once(archive_env: ArchiveEnv) -> None:
    big = archive_env.records / "1001" / "huge.fcl"
    big.write_bytes(b"a: 1\n" * 40_000)  # 200 kB, over the limit set below
    settings = archive_env.settings.model_copy(
        update={
            "scanner": archive_env.settings.scanner.model_copy(update={"max_file_bytes": 100_000})
        }
    )
    ctx = PipelineContext(settings=settings, engine=archive_env.engine, owner="test")
    run_work(ctx, WorkRequest(stages=(Stage.IMPORT,)))
    row = ledger(archive_env)[(1001, Stage.IMPORT)]
    assert row.state == State.FAILED and row.attempts == 1  # retrying cannot shrink the file
    assert row.error_kind == ErrorKind.SOURCE and "per-file limit of 100000 bytes" in row.last_error
    assert ledger(archive_env)[(1000, Stage.IMPORT)].state == State.DONE
    ctx.close()


def test_sigint_stops_claiming_and_exits_130(archive_env: ArchiveEnv, tmp_path: Path) -> None:
    archive_env.ucondb.state.add_fault(Fault("delay", endpoint="data", method="POST", seconds=3))
    config = archive_env.write_config(tmp_path / "config.yaml")
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until the slow migration stage has begun
        migrating = ledger(archive_env).get((1000, Stage.MIGRATE))
        if migrating is not None and migrating.state == State.RUNNING:
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, output
    rows = ledger(archive_env)
    assert not [key for key, row in rows.items() if row.state == State.RUNNING]
    assert sum(
        row.state == State.DONE for (_, stage), row in rows.items() if stage == Stage.MIGRATE
    ) < len(ENDED)  # it stopped before the end


def test_migration_refuses_a_document_changed_after_import(archive_env: ArchiveEnv) -> None:
    ctx = archive_env.context()
    run_work(ctx, WorkRequest(stages=(Stage.IMPORT,)))
    database = Path(archive_env.settings.artdaq_db.database_uri.removeprefix("filesystemdb://"))
    for path in database.glob("*/*.json"):
        record = loads(path.read_text())
        if [r.get("name") for r in record.get("runs") or []] == ["1002"] and [
            e.get("name") for e in record.get("entities") or []
        ] == ["boot"]:
            origin = record.get("origin")
            origin[origin.index(("rawdata", origin.get("rawdata")))] = (
                "rawdata",
                raw_block(b"changed after the import\n"),
            )
            path.write_text(dumps(record))
            break
    else:
        raise AssertionError("no stored boot document for run 1002")
    run_work(ctx, WorkRequest(stages=(Stage.MIGRATE,), scan=False))
    row = ledger(archive_env)[(1002, Stage.MIGRATE)]
    assert row.error_kind == ErrorKind.ARTDAQDB
    assert "no longer holds the imported run: boot: 25 bytes" in (row.last_error or "")
    assert "1002" not in archive_env.ucondb_versions()
    assert ledger(archive_env)[(1001, Stage.MIGRATE)].state == State.DONE
    ctx.close()


def test_imports_can_run_in_threads_of_the_service(archive_env: ArchiveEnv) -> None:
    settings = archive_env.settings
    in_threads = settings.model_copy(
        update={"pipeline": settings.pipeline.model_copy(update={"import_in_processes": False})}
    )
    ctx = PipelineContext(settings=in_threads, engine=archive_env.engine, owner="threads")
    assert ctx.import_processes is None
    assert run_work(ctx, WorkRequest()).failed_runs == []
    assert archive_env.ucondb_versions() == {str(run): 1 for run in ENDED}
    ctx.close()


def test_one_migration_at_a_time_holds_a_record_and_its_blob(
    archive_env: ArchiveEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Packing holds a run's exported files and its blob at once (twice the record); with two
    migrate workers only one packs at a time, while the other exports, uploads or verifies."""
    archive_env.settings.pipeline.migrate_workers = 2
    packing, most = [0], [0]
    counting = threading.Lock()
    real_pack = migrator.pack

    def watched_pack(*args: Any, **kwargs: Any) -> PackedBlob:
        with counting:
            packing[0] += 1
            most[0] = max(most[0], packing[0])
        time.sleep(0.5)  # room for the other worker to start packing, were it allowed to
        try:
            return real_pack(*args, **kwargs)
        finally:
            with counting:
                packing[0] -= 1

    monkeypatch.setattr(migrator, "pack", watched_pack)
    ctx = archive_env.context()
    report = run_work(ctx, WorkRequest())
    ctx.close()
    assert report.failed_runs == []
    assert archive_env.ucondb_versions() == {str(run): 1 for run in ENDED}
    assert most[0] == 1
