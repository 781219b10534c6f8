"""Reconcile repairs the ledger from what the stores hold; legacy state seeds it once."""

import shutil
import subprocess
import sys
from pathlib import Path

from sqlmodel import Session, col, select

from app.models import LedgerMeta, RunEvent, Stage, StageStatus, State, StoreRun
from app.pipeline.reconcile import reconcile
from app.pipeline.runner import WorkRequest, run_work
from tests.pipeline.conftest import ArchiveEnv


def row(env: ArchiveEnv, run: int, stage: Stage) -> StageStatus | None:
    with Session(env.engine) as session:
        return session.get(StageStatus, (run, stage))


def test_reconcile_keeps_listings_and_requeues_what_vanished(archive_env: ArchiveEnv) -> None:
    ctx = archive_env.context()
    run_work(ctx, WorkRequest())
    report = reconcile(ctx)
    assert report.counts == {"artdaqdb": 5, "ucondb": 5} and report.errors == {}
    with Session(archive_env.engine) as session:
        held = session.exec(select(StoreRun.store, StoreRun.run_number)).all()
    assert sorted(held) == sorted(
        [("artdaqdb", r) for r in range(1000, 1005)] + [("ucondb", r) for r in range(1000, 1005)]
    )
    # a run disappears from artdaq_database behind the archiver's back
    db_root = Path(archive_env.settings.artdaq_db.database_uri.removeprefix("filesystemdb://"))
    shutil.rmtree(db_root)
    report = reconcile(ctx)
    assert sorted(report.drift[Stage.IMPORT].vanished) == list(range(1000, 1005))
    assert row(archive_env, 1000, Stage.IMPORT).state == State.PENDING
    assert row(archive_env, 1000, Stage.MIGRATE).state == State.DONE  # UconDB still holds it
    again = run_work(ctx, WorkRequest(stages=(Stage.IMPORT,)))
    assert sorted(again.stages[Stage.IMPORT].succeeded) == list(range(1000, 1005))
    ctx.close()


def test_reconcile_verifies_runs_the_ledger_lost(archive_env: ArchiveEnv) -> None:
    ctx = archive_env.context()
    run_work(ctx, WorkRequest())
    with Session(archive_env.engine) as session:  # the ledger forgets a migration
        lost = session.get(StageStatus, (1002, Stage.MIGRATE))
        lost.state = State.FAILED
        session.add(lost)
        session.commit()
    report = reconcile(ctx)
    assert report.drift[Stage.MIGRATE].requeued == [1002]
    verified = run_work(ctx, WorkRequest(stages=(Stage.MIGRATE,), scan=False))
    assert verified.stages[Stage.MIGRATE].succeeded == [1002]
    assert archive_env.ucondb_versions()["1002"] == 1  # found, verified, not uploaded again
    with Session(archive_env.engine) as session:
        events = session.exec(select(RunEvent).where(col(RunEvent.actor) == "reconcile")).all()
    assert any(e.run_number is None and "reconcile:" in (e.message or "") for e in events)
    ctx.close()


def test_reconcile_reports_a_store_it_cannot_list(archive_env: ArchiveEnv) -> None:
    from app.ucondb_server.state import Fault

    ctx = archive_env.context()
    run_work(ctx, WorkRequest())
    archive_env.ucondb.state.add_fault(Fault("error", endpoint="versions", status=503))
    report = reconcile(ctx)
    assert "ucondb" in report.errors and "503" in report.errors["ucondb"]
    assert report.counts == {"artdaqdb": 5}
    with Session(archive_env.engine) as session:
        outcome = session.get(LedgerMeta, "listing.ucondb")
    assert outcome is not None and outcome.value["error"]
    ctx.close()


def test_import_legacy_state_seeds_once(archive_env: ArchiveEnv, tmp_path: Path) -> None:
    config = archive_env.write_config(tmp_path / "config.yaml")
    work = Path(archive_env.settings.app.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    (work / "importer_state.json").write_text(
        '{\n  "last_contiguous_run": 999,\n  "last_attempted_run": 1003\n}'
    )
    (work / "import_failures.log").write_text("1003\n1001\n1003\n\n")
    rra = [sys.executable, "-m", "app.cli", "import-legacy-state", str(config)]
    first = subprocess.run(rra, capture_output=True, text=True, check=False)
    assert first.returncode == 0, first.stderr
    assert "2 new retry row(s)" in first.stdout and "migrator_state.json" in first.stdout
    assert row(archive_env, 1001, Stage.IMPORT).state == State.RETRY
    assert "import_failures.log" in row(archive_env, 1003, Stage.IMPORT).last_error
    with Session(archive_env.engine) as session:
        mark = session.get(LedgerMeta, "legacy_watermark.import")
        events_before = len(session.exec(select(RunEvent)).all())
    assert mark is not None and mark.value["last_contiguous_run"] == 999
    second = subprocess.run(rra, capture_output=True, text=True, check=False)
    assert second.returncode == 0 and "0 new retry row(s)" in second.stdout
    with Session(archive_env.engine) as session:
        assert len(session.exec(select(RunEvent)).all()) == events_before  # idempotent
    (work / "migrate_failures.log").write_text("1002\nnot-a-run\n")
    corrupt = subprocess.run(rra, capture_output=True, text=True, check=False)
    assert corrupt.returncode == 1
    assert "migrate_failures.log:2: 'not-a-run' is not a run number" in corrupt.stderr
