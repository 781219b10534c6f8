"""`rra legacy` end to end with a legacy config.yaml: each mode, its log lines and exit code."""

import fcntl
import subprocess
import sys
from pathlib import Path

import pytest

from app.ucondb_server.state import Fault
from tests.pipeline.conftest import ArchiveEnv

LINE = " - app.legacy - "


def legacy(config: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "legacy", str(config), *flags],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def messages(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The message part of the legacy log lines on stdout."""
    return [
        line.split(LINE, 1)[1].split(" - ", 1)[1]
        for line in result.stdout.splitlines()
        if LINE in line
    ]


@pytest.fixture
def config(archive_env: ArchiveEnv, tmp_path: Path) -> Path:
    return archive_env.write_config(tmp_path / "config.yaml")


def test_help_aliases(config: Path) -> None:
    for flag in ("/?", "/h", "/help", "--help"):
        result = legacy(config, flag)
        assert result.returncode == 0 and "--retry-failed-import" in result.stdout


def test_modes_are_exclusive(config: Path) -> None:
    result = legacy(config, "--import-only", "--migrate-only")
    assert result.returncode == 2 and "not allowed with argument" in result.stderr


def test_full_pipeline_incremental(config: Path, archive_env: ArchiveEnv) -> None:
    result = legacy(config, "--incremental")
    lines = messages(result)
    assert result.returncode == 0, result.stdout + result.stderr
    assert lines[:4] == ["=" * 70, "Run Record Archiver Starting", f"Config: {config}", "=" * 70]
    assert "=== Execution Mode: Full Pipeline (Incremental) ===" in lines
    assert "STAGE: Import - Importing runs from filesystem to ArtdaqDB" in lines
    assert "STAGE: Migration - Migrating runs from ArtdaqDB to UconDB" in lines
    assert "✓ Run 1000 imported successfully" in lines
    assert "✓ Run 1004 migrated successfully" in lines
    assert "✓ Import Stage completed successfully (exit code: 0)" in lines
    assert lines[-2:] == ["✓ EXECUTION COMPLETED SUCCESSFULLY", "Archiver execution complete."]
    assert archive_env.ucondb_versions() == {str(r): 1 for r in range(1000, 1005)}
    assert archive_env.settings.ucon_db.writer_password not in result.stdout + result.stderr


def test_batch_size_caps_a_full_execution(archive_env: ArchiveEnv, tmp_path: Path) -> None:
    config = archive_env.write_config(tmp_path / "c.yaml", app={"batch_size": 1})
    result = legacy(config, "--import-only", "--incremental")
    assert result.returncode == 0
    imported = [m for m in messages(result) if m.endswith("imported successfully")]
    assert imported == ["✓ Run 1000 imported successfully"]
    assert "=== Execution Mode: Import Only (Incremental) ===" in messages(result)


def test_failure_exit_code_and_retry_mode(config: Path, archive_env: ArchiveEnv) -> None:
    bad = next((archive_env.records / "1002").glob("*.fcl"))
    bad.chmod(0o644)
    original = bad.read_bytes()
    bad.write_bytes(original + b"\nbroken: [\n")
    failed = legacy(config, "--import-only")
    assert failed.returncode == 1
    assert "✗ Import Stage completed with failures (exit code: 1)" in messages(failed)
    assert "✗ EXECUTION COMPLETED WITH FAILURES (exit code: 1)" in messages(failed)
    assert any(m.startswith("✗ Run 1002 import failed: run 1002: 1002/") for m in messages(failed))
    bad.write_bytes(original)
    retried = legacy(config, "--retry-failed-import")
    assert retried.returncode == 0, retried.stdout
    assert "=== Execution Mode: Retry Failed Imports ===" in messages(retried)
    assert "STAGE: Import Recovery - Retrying failed imports" in messages(retried)
    assert "✓ Run 1002 imported successfully" in messages(retried)


def test_report_status_and_compare_state(config: Path) -> None:
    assert legacy(config).returncode == 0
    result = legacy(config, "--compare-state")
    lines = messages(result)
    assert result.returncode == 0
    assert "RUN RECORD ARCHIVER - STATUS REPORT" in lines and "STATE COMPARISON" in lines
    assert "  Total Runs:      6" in lines  # six run directories, one still running
    assert "  Last Contiguous Run: 1004" in lines
    assert "1. Run IMPORTER: 1 run(s) on filesystem not in artdaqDB (range: 1005-1005)" in lines
    assert "WARNING" not in result.stdout.split("STATE COMPARISON")[0].split(" - app.legacy - ")[-1]


def test_report_says_when_a_source_fails(config: Path, archive_env: ArchiveEnv) -> None:
    assert legacy(config).returncode == 0
    archive_env.ucondb.state.add_fault(Fault("error", endpoint="versions", status=503))
    result = legacy(config, "--report-status")
    assert result.returncode == 1
    assert any("✗ UconDB query failed" in line for line in result.stdout.splitlines())


def test_recover_state(config: Path) -> None:
    assert legacy(config).returncode == 0
    result = legacy(config, "--recover-migrate-state")
    assert result.returncode == 0
    assert any("0 vanished" in m for m in messages(result))


def test_lock_held_by_another_archiver(config: Path, archive_env: ArchiveEnv) -> None:
    lock_file = Path(archive_env.settings.app.work_dir) / ".archiver.lock"
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    lock_file.write_text("12345\n")
    with lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = legacy(config, "--import-only")
    assert result.returncode == 1
    assert "holds the lock file" in result.stdout
    assert lock_file.read_text() == "12345\n"  # never truncated


def test_refuses_a_stage_while_a_service_owns_the_sqlite_ledger(
    config: Path, archive_env: ArchiveEnv
) -> None:
    from app.db import lock_sqlite_ledger

    url = str(archive_env.settings.database.url)
    if not url.startswith("sqlite"):
        pytest.skip("replicas share a PostgreSQL ledger; only a SQLite ledger has an owner")
    owner = lock_sqlite_ledger(url)  # what a running `rra serve` holds
    try:
        refused = legacy(config, "--import-only")
        report = legacy(config, "--report-status")
    finally:
        assert owner is not None
        owner.close()
    assert refused.returncode == 1
    assert (
        "another rra service" in refused.stdout
        and "Error Type: LedgerLockedError" in refused.stdout
    )
    assert report.returncode == 0 and "END OF STATUS REPORT" in report.stdout


def test_a_staging_area_that_cannot_be_created_is_named_and_nothing_runs(
    archive_env: ArchiveEnv, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("")
    bad = archive_env.write_config(
        tmp_path / "bad.yaml", pipeline={"staging_dir": str(tmp_path / "a-file" / "staging")}
    )
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "run", "--config", str(bad)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr
    assert "pipeline.staging_dir" in done.stderr and "Not a directory" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert archive_env.ucondb_versions() == {}
