"""Import attempts in worker processes: outcomes, failures and timings cross back intact, and a
worker that dies fails only its own attempt."""

import gc
import os
import signal
import socket
import subprocess
import sys
import time
import weakref
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.config import Settings
from app.metrics.prometheus import REGISTRY, observe_operation
from app.models import ErrorKind, Stage
from app.pipeline import import_processes
from app.pipeline.claims import Claim
from app.pipeline.driver import StageFailure, StageOutcome
from app.pipeline.import_processes import ImportProcesses
from app.pipeline.store_context import StoreContext
from tests.pipeline.conftest import make_settings


def _claim(run: int) -> Claim:
    return Claim(run, Stage.IMPORT, 1, "test", datetime.now(UTC))


def report_pid(ctx: StoreContext, claim: Claim) -> StageOutcome:
    observe_operation("Test.worker_operation", 0.25)
    return StageOutcome(f"{os.getpid()}", {"run_dir": str(ctx.run_dir(claim.run))})


def refuse(ctx: StoreContext, claim: Claim) -> StageOutcome:
    raise StageFailure(ErrorKind.FHICL, f"run {claim.run}: refused", retryable=False)


def break_down(ctx: StoreContext, claim: Claim) -> StageOutcome:
    raise KeyError("boom")


def die(ctx: StoreContext, claim: Claim) -> StageOutcome:
    os._exit(3)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, "sqlite://", "http://127.0.0.1:9")


@pytest.fixture
def processes(settings: Settings) -> Iterator[ImportProcesses]:
    pool = ImportProcesses(settings, workers=2)
    try:
        yield pool
    finally:
        pool.close()


def _observed() -> float:
    labels = {"operation": "Test.worker_operation"}
    return REGISTRY.get_sample_value("rra_store_operation_duration_seconds_count", labels) or 0.0


def test_work_runs_in_another_process_with_the_settings(
    processes: ImportProcesses, settings: Settings
) -> None:
    before = _observed()
    outcome = processes.run(report_pid, _claim(1234))
    assert outcome.message != str(os.getpid())
    assert outcome.fields == {"run_dir": str(settings.source_files.run_records_dir / "1234")}
    assert _observed() == before + 1


def test_failures_keep_their_kind_and_retryability(processes: ImportProcesses) -> None:
    with pytest.raises(StageFailure) as refused:
        processes.run(refuse, _claim(7))
    assert (refused.value.kind, refused.value.retryable) == (ErrorKind.FHICL, False)
    assert refused.value.message == "run 7: refused"
    with pytest.raises(StageFailure) as broken:
        processes.run(break_down, _claim(8))
    assert broken.value.kind == ErrorKind.INTERNAL and broken.value.retryable
    assert broken.value.message == "internal error: KeyError: 'boom'"


class _Node:
    """Something that can refer to itself."""

    link: "_Node | None" = None


def test_an_attempt_runs_without_the_collector_and_collects_its_cycles_after(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(import_processes, "_context", StoreContext(settings))
    seen: list[bool] = []
    left: list[weakref.ref[_Node]] = []

    def leave_a_cycle(ctx: StoreContext, claim: Claim) -> StageOutcome:
        seen.append(gc.isenabled())
        node = _Node()
        node.link = node
        left.append(weakref.ref(node))
        if claim.run == 2:
            raise StageFailure(ErrorKind.FHICL, "refused", retryable=False)
        return StageOutcome("done", {})

    done, _ = import_processes._attempt(leave_a_cycle, _claim(1))
    assert gc.isenabled() and left[0]() is None
    failed, _ = import_processes._attempt(leave_a_cycle, _claim(2))
    assert gc.isenabled()  # also after a failure (whose traceback still holds its cycle)
    assert seen == [False, False]
    assert isinstance(done, StageOutcome)
    assert isinstance(failed, StageFailure) and failed.kind == ErrorKind.FHICL


def test_a_dead_worker_fails_its_attempt_and_the_next_one_gets_a_new_pool(
    processes: ImportProcesses,
) -> None:
    with pytest.raises(StageFailure) as died:
        processes.run(die, _claim(9))
    assert died.value.kind == ErrorKind.INTERNAL and died.value.retryable
    assert "worker process died" in died.value.message
    assert processes.run(report_pid, _claim(10)).message.isdigit()


ORPHAN_SCRIPT = """
import os, signal, sys
from datetime import UTC, datetime
from app.models import Stage
from app.pipeline.claims import Claim
from app.pipeline.import_processes import ImportProcesses
from tests.pipeline.conftest import make_settings
from tests.pipeline.test_import_processes import report_pid

settings = make_settings(__import__("pathlib").Path(sys.argv[1]), "sqlite://", "http://127.0.0.1:9")
pool = ImportProcesses(settings, workers=1)
print(pool.run(report_pid, Claim(1, Stage.IMPORT, 1, "t", datetime.now(UTC))).message, flush=True)
print(pool.shared_conversions, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_workers_exit_and_drop_the_shared_conversions_when_their_parent_is_killed(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", ORPHAN_SCRIPT, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=Path(__file__).parents[2],
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    worker, shared = done.stdout.split()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _alive(int(worker)):
        time.sleep(0.1)
    assert not _alive(int(worker))
    assert not Path(shared).exists()


def test_the_workers_share_one_private_conversion_directory_removed_on_close(
    settings: Settings,
) -> None:
    pool = ImportProcesses(settings, workers=2)
    shared = pool.shared_conversions
    try:
        assert shared.is_dir() and shared.stat().st_mode & 0o777 == 0o700
        assert processes_share(pool, shared)
    finally:
        pool.close()
    assert not shared.exists()


def processes_share(pool: ImportProcesses, shared: Path) -> bool:
    """Whether a worker's context points its conversion cache at `shared`."""
    return pool.run(report_shared, _claim(11)).message == str(shared)


def report_shared(ctx: StoreContext, claim: Claim) -> StageOutcome:
    return StageOutcome(str(ctx.shared_conversions), {})


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_what_a_worker_loads_holds_no_orm_and_no_application() -> None:
    """A spawned worker imports `_attempt`'s and `import_run`'s modules, and its parent's main
    script again (for `rra`, the `app.cli` entry point): none may pull in the ORM or the web
    and CLI frameworks, which would double each worker's memory."""
    code = (
        "import sys, app.cli, app.pipeline.import_processes, app.pipeline.import_work\n"
        "heavy = ('sqlmodel', 'sqlalchemy', 'fastapi', 'typer')\n"
        "print(sorted(name for name in heavy if name in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "[]"


def test_shared_conversions_live_in_the_staging_area_and_dead_pipelines_lose_theirs(
    settings: Settings,
) -> None:
    assert settings.pipeline.staging_dir is not None
    area = settings.pipeline.staging_dir / socket.gethostname()
    area.mkdir(parents=True)
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    orphaned = area / f"conversions-{gone.stdout.strip()}-abc"
    living = area / f"conversions-{os.getpid()}-def"
    orphaned.mkdir()
    living.mkdir()
    pool = ImportProcesses(settings, workers=1)
    try:
        assert not orphaned.exists() and living.is_dir()
        assert pool.shared_conversions.parent == area
        assert pool.shared_conversions.stat().st_mode & 0o777 == 0o700
    finally:
        pool.close()
    assert not pool.shared_conversions.exists()
