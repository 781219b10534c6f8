"""The tools backend, driven against stand-in executables.

The real bulkloader, bulkdownloader and conftool.py (C++ artdaq_database builds) cannot run
here. These tests put small scripts on a temporary PATH (tests/artdaqdb/fake_artdaq_tools.py)
that record their arguments and environment and reproduce the documented exit behaviours.
"""

import json
import os
import socket
import tempfile
import time
from pathlib import Path

import pytest
from adb_helpers import expected_of, small_run_files
from fake_artdaq_tools import install

from app.stores.artdaqdb.errors import ArtdaqStoreError
from app.stores.artdaqdb.results import EntityStatus, FileSource, Outcome
from app.stores.artdaqdb.store import open_store
from app.stores.artdaqdb.toolrunner import STAGING, ToolRunner, ToolTimeoutError
from app.stores.artdaqdb.tools import ToolsStore

URI = "mongodb://archiver:s3cret-pw@db.example:27017/sbnd_db_archive?replicaSet=rs0"
RH2 = b'DAQInterface_start_time: "a"\nDAQInterface_stop_time: "b"\n'


@pytest.fixture
def fake_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH with the stand-in tools first; returns the call log."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    install(bin_dir)
    state = tmp_path / "state"
    state.mkdir()
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_TOOL_LOG", str(log))
    monkeypatch.setenv("FAKE_TOOL_STATE_DIR", str(state))
    monkeypatch.delenv("ARTDAQ_DATABASE_URI", raising=False)
    monkeypatch.delenv("FAKE_FAIL_ENTITIES", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the default staging area
    return log


def _calls(log: Path, tool: str | None = None) -> list[dict]:
    if not log.exists():
        return []
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    return [call for call in calls if tool is None or call["tool"] == tool]


def _store(**options: object) -> ToolsStore:
    built = open_store(URI, use_tools=True, tools_timeout=60, **options)
    assert isinstance(built, ToolsStore)
    return built


def test_archive_calls_bulkloader_with_argument_lists_schema_last(fake_tools: Path) -> None:
    store = _store(tools_threads=3)
    files = small_run_files()
    result = store.archive_run(12500, "Physics00015", files)
    assert result.outcome is Outcome.INSERTED
    loads = _calls(fake_tools, "bulkloader")
    assert [call["argv"][2:] for call in loads] == [
        ["-r", "12500", "-c", "Physics00015", "-t", "3"]
    ] * 2
    assert all(call["argv"][0] == "-p" and call["uri"] == URI for call in loads)
    assert "ARTDAQ_DATABASE_URI" not in os.environ
    assert store.list_runs().runs == (12500,)
    assert {(d.collection, d.entity) for d in store.run_documents(12500)} == {
        ("RunHistory", "boot"),
        ("RunHistory", "metadata"),
        ("SystemLayout", "schema"),
    }


def test_identical_reimport_calls_no_loader(fake_tools: Path) -> None:
    store = _store()
    files = small_run_files()
    store.archive_run(5, "standard", files)
    again = store.archive_run(5, "standard", files)
    assert again.outcome is Outcome.UNCHANGED
    assert len(_calls(fake_tools, "bulkloader")) == 2


def test_partial_bulkloader_failure_is_reported_then_completed(
    fake_tools: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store()
    files = {**small_run_files(), "tpc01": b"a: 1\n"}
    monkeypatch.setenv("FAKE_FAIL_ENTITIES", "tpc01")
    with pytest.raises(ArtdaqStoreError, match=r"(?s)exited 1 .*Failed to load 1 file"):
        store.archive_run(6, "standard", files)
    monkeypatch.delenv("FAKE_FAIL_ENTITIES")
    result = store.archive_run(6, "standard", files)
    assert result.outcome is Outcome.COMPLETED
    statuses = {entity.entity: entity.status for entity in result.entities}
    assert statuses == {
        "boot": EntityStatus.UNCHANGED,
        "metadata": EntityStatus.UNCHANGED,
        "tpc01": EntityStatus.WRITTEN,
        "schema": EntityStatus.WRITTEN,
    }


def test_changed_content_is_a_conflict_without_loading(fake_tools: Path) -> None:
    store = _store()
    files = small_run_files()
    store.archive_run(7, "standard", files)
    result = store.archive_run(7, "standard", {**files, "boot": b"a: 2\n", "new": b"b: 1\n"})
    assert result.outcome is Outcome.CONFLICT
    assert {e.entity: e.status for e in result.entities}["new"] is EntityStatus.NOT_WRITTEN
    assert len(_calls(fake_tools, "bulkloader")) == 2
    other = store.archive_run(7, "other", files)
    assert other.outcome is Outcome.FOREIGN_CONFIGURATION and other.foreign == ("7/standard",)


def test_stop_update_uses_numbered_versions(fake_tools: Path) -> None:
    store = _store()
    files = small_run_files()
    store.archive_run(8, "standard", files)
    first = store.update_run_stop(8, "standard", RH2, files["schema"])
    assert (first.outcome, first.version) == (Outcome.INSERTED, "8/standardv1")
    writes = [
        call["argv"]
        for call in _calls(fake_tools, "conftool.py")
        if call["argv"][0] == "write_document"
    ]
    assert [json.loads(argv[1])["filter"]["version"] for argv in writes] == ["8/standardv1"] * 2
    assert writes[0][2] == RH2.decode()
    again = store.update_run_stop(8, "standard", RH2, files["schema"])
    assert (again.outcome, again.version) == (Outcome.UNCHANGED, "8/standardv1")
    later = store.update_run_stop(8, "standard", RH2.replace(b'"b"', b'"c"'), files["schema"])
    assert later.version == "8/standardv2"
    assert store.update_run_stop(9, "standard", RH2, b"").outcome is Outcome.MISSING_BASE


def test_export_checks_the_files_against_the_composition(
    fake_tools: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = _store()
    files = {**small_run_files(), "tpc01": b"a: 1\n"}
    store.archive_run(9, "Physics00015", files)
    exported = store.export_run(9, "Physics00015")
    assert sorted(exported.files) == sorted(f"{entity}.fcl" for entity in files)
    assert {entry.source for entry in exported.manifest} == {FileSource.REGENERATED}
    assert b"a: 1" in exported.files["tpc01.fcl"]
    monkeypatch.setenv("FAKE_FAIL_ENTITIES", "tpc01")
    with pytest.raises(
        ArtdaqStoreError, match=r"exited 0 but did not export \['RunHistory/tpc01'\]"
    ):
        store.export_run(9, "Physics00015")
    verdict = store.verify_run(9, "Physics00015", expected_of(files))
    assert verdict.complete and len(verdict.unverifiable) == len(files)
    missing = store.verify_run(
        9, "Physics00015", {**expected_of(files), **expected_of({"RunHistory2": RH2})}
    )
    assert [issue.entity for issue in missing.missing] == ["RunHistory2"]


def test_tool_exit_codes_are_explained(fake_tools: Path, tmp_path: Path) -> None:
    runner = ToolRunner(uri=URI, timeout=60)
    assert runner.run(["bulkloader", "-r", "1", "-c", "x"]).returncode == 129
    assert runner.run(["bulkloader", "-p", "/tmp", "-r", "1"]).returncode == 130
    assert runner.run(["bulkloader", "-p", "/tmp", "-c", "x"]).returncode == 131
    assert runner.run(["bulkloader", "-z"]).returncode == 128
    empty = tmp_path / "empty"
    empty.mkdir()
    died = runner.run(["bulkloader", "-p", STAGING, "-r", "1", "-c", "x"], staging=empty)
    assert died.returncode < 0


def test_timeout_kills_the_whole_process_group(fake_tools: Path, tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    runner = ToolRunner(uri=URI, timeout=1)
    with pytest.raises(ToolTimeoutError, match="did not finish within 1 s"):
        runner.run(["slowtool", str(pid_file)])
    child = int(pid_file.read_text())
    for _ in range(100):
        if not _alive(child):
            break
        time.sleep(0.05)
    else:
        pytest.fail("the tool's child process survived the timeout")


def _alive(pid: int) -> bool:
    """True while `pid` runs (a zombie left for init to reap counts as dead)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_remote_tools_over_ssh_keep_the_uri_off_command_lines(
    fake_tools: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_SSH_REQUIRE_STRICT", "1")
    store = _store(remote_host="daq-host.example")
    files = {**small_run_files(), "tpc01": b"a: 1\n"}
    assert store.archive_run(10, "standard", files).outcome is Outcome.INSERTED
    assert store.export_run(10, "standard").files["tpc01.fcl"].count(b"a: 1") == 1
    ssh_calls = _calls(fake_tools, "ssh")
    assert ssh_calls and all("s3cret-pw" not in json.dumps(call["argv"]) for call in ssh_calls)
    assert all(
        call["argv"][:4] == ["-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"]
        for call in ssh_calls
    )
    assert all(call["uri"] == URI for call in _calls(fake_tools, "bulkloader"))
    monkeypatch.setenv("FAKE_FAIL_ENTITIES", "boot")
    with pytest.raises(ArtdaqStoreError, match="exited 1"):
        store.archive_run(11, "standard", files)
    assert "s3cret-pw" not in store.description


def test_config_values_never_reach_a_shell(
    fake_tools: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    hostile = "x;$(touch${IFS}pwned)`touch${IFS}pwned2`'"
    for options in ({}, {"remote_host": "daq-host.example"}):
        store = _store(**options)
        run = 12 if not options else 13
        assert store.archive_run(run, hostile, small_run_files()).outcome is Outcome.INSERTED
        assert store.export_run(run, hostile).files
    assert not list(tmp_path.glob("pwned*")) and not list(Path("/").glob("pwned*"))
    loaded = [call["argv"][5] for call in _calls(fake_tools, "bulkloader")]
    assert set(loaded) == {hostile}


def test_errors_never_show_the_database_password(fake_tools: Path) -> None:
    store = _store()
    with pytest.raises(ArtdaqStoreError) as error:
        store.export_run(99, "standard")
    assert "s3cret-pw" not in str(error.value)
    runner = ToolRunner(uri=URI, timeout=60)
    broken = runner.run(["conftool.py", "nonsense", "{}"])
    assert broken.returncode == 1 and "s3cret-pw" not in broken.stdout + broken.command


def test_a_stopped_run_is_archived_then_updated(fake_tools: Path) -> None:
    store = _store()
    files = small_run_files()
    archived, updated = store.archive_stopped_run(10, "standard", files, RH2)
    assert archived.outcome is Outcome.INSERTED and updated is not None
    assert (updated.outcome, updated.version) == (Outcome.INSERTED, "10/standardv1")
    changed = {**files, "boot": b"a: 2\n"}
    conflict, none = store.archive_stopped_run(10, "standard", changed, RH2)
    assert conflict.outcome is Outcome.CONFLICT and none is None


def test_tool_files_are_staged_in_the_staging_area_and_removed(
    fake_tools: Path, tmp_path: Path
) -> None:
    staging = tmp_path / "staging"
    store = _store(staging=staging)
    store.archive_run(12500, "Physics00015", small_run_files())
    store.export_run(12500, "Physics00015")
    calls = _calls(fake_tools, "bulkloader") + _calls(fake_tools, "bulkdownloader")
    assert {call["tool"] for call in calls} == {"bulkloader", "bulkdownloader"}
    area = staging / socket.gethostname()
    assert all(Path(call["argv"][1]).parent == area for call in calls)
    assert list(area.iterdir()) == []
