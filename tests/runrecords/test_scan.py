"""The scanner: readiness in the ledger, anomalies, incremental rescans, archived-content checks.

Times are controlled: the scan's `now` is a day ahead of the real clock, and every file's mtime
is set relative to it, so ctimes (which only the real clock sets) are always long settled.
"""

import os
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine, select

from app.models import Readiness, Run, RunEvent, SourceAnomaly, Stage, StageStatus, State
from app.runrecords import scan as scan_module
from app.runrecords.listing import RunRecordsDirError
from app.runrecords.metadata import format_daq_time
from app.runrecords.reader import hash_record
from app.runrecords.readiness import ScanPolicy
from app.runrecords.scan import ScanResult, scan_records
from app.timeutil import utcnow

NOW = utcnow().replace(microsecond=0) + timedelta(days=1)
POLICY = ScanPolicy()
SETTLED = NOW - timedelta(minutes=30)

CONFIG = b"Config name: Physics_General_thr390_Overlays00015\nComponent #0: tpc01\n"


def start_line(when: datetime) -> bytes:
    return f"\nDAQInterface start time: {format_daq_time(when)}\n".encode()


def stop_line(when: datetime) -> bytes:
    return f"\nDAQInterface stop time: {format_daq_time(when)}\n".encode()


ENDED = CONFIG + start_line(NOW - timedelta(hours=2)) + stop_line(NOW - timedelta(hours=1))
RUNNING = CONFIG + start_line(NOW - timedelta(hours=1))


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """The one ledger engine of this module (swap here for a shared PostgreSQL fixture)."""
    engine = create_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "run_records"
    path.mkdir()
    (path / ".record_directory_info").write_text("inode: 1\n")
    return path


def set_times(path: Path, when: datetime) -> None:
    os.utime(path, (when.timestamp(), when.timestamp()), follow_symlinks=False)


def make_run(
    root: Path,
    name: str,
    metadata: bytes | None = ENDED,
    *,
    partition: int | None = None,
    extra: dict[str, bytes] | None = None,
    mtime: datetime = SETTLED,
) -> Path:
    """A run directory with DAQInterface's files; every mtime (dir last) set to `mtime`."""
    path = root / name
    path.mkdir()
    files = {"boot.txt": b"DAQ setup script: /x\n", "tpc01.fcl": b"daq: {}\n"}
    if metadata is not None:
        files["metadata.txt"] = metadata
    if partition is not None:
        files["environment.txt"] = f"export DAQINTERFACE_PARTITION_NUMBER={partition}\n".encode()
    files.update(extra or {})
    for file_name, data in files.items():
        target = path / file_name
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(data)
        set_times(target, mtime)
        set_times(target.parent, mtime)
    set_times(path, mtime)
    return path


def append(path: Path, data: bytes, when: datetime) -> None:
    """DAQInterface's append, at a controlled time; the directory mtime is untouched."""
    with path.open("ab") as handle:
        handle.write(data)
    set_times(path, when)


def scan(session: Session, root: Path, now: datetime = NOW, **policy: object) -> ScanResult:
    chosen = ScanPolicy(**policy) if policy else POLICY  # type: ignore[arg-type]
    result = scan_records(session, root, policy=chosen, now=now)
    session.commit()
    return result


def readiness_of(session: Session) -> dict[str, str]:
    return {str(run.run_number): run.readiness.value for run in session.exec(select(Run))}


def anomalies_of(session: Session) -> dict[str, str]:
    return {row.name: row.reason for row in session.exec(select(SourceAnomaly))}


def import_rows(session: Session) -> dict[int, StageStatus]:
    rows = session.exec(select(StageStatus).where(StageStatus.stage == Stage.IMPORT))
    return {row.run_number: row for row in rows}


def events_of(session: Session, run: int) -> list[RunEvent]:
    return list(session.exec(select(RunEvent).where(RunEvent.run_number == run)))


# --- the corpus: every entry with the reason or readiness it must get -------------------------

Case = tuple[str, Callable[[Path], None], str]


def _symlink(name: str, target: str) -> Callable[[Path], None]:
    return lambda root: (root / name).symlink_to(target)


def _fifo(name: str) -> Callable[[Path], None]:
    return lambda root: os.mkfifo(root / name)


def _file(name: str) -> Callable[[Path], None]:
    return lambda root: (root / name).write_bytes(b"not a run\n")


def _dir(name: str) -> Callable[[Path], None]:
    return lambda root: (root / name).mkdir()


def _run(name: str, metadata: bytes | None = ENDED, **kwargs: object) -> Callable[[Path], None]:
    return lambda root: make_run(root, name, metadata, **kwargs)  # type: ignore[arg-type]


def _recent_entry(name: str, entry: str) -> Callable[[Path], None]:
    """A settled, stopped run in which one entry changed 10 s before the scan."""

    def build(root: Path) -> None:
        path = make_run(root, name, extra={entry: b"late\n"})
        set_times(path / entry, NOW - timedelta(seconds=10))
        if "/" in entry:
            set_times(path / entry.split("/")[0], SETTLED)
        set_times(path, SETTLED)

    return build


def _metadata_is_a_directory(name: str) -> Callable[[Path], None]:
    def build(root: Path) -> None:
        path = make_run(root, name, None)
        (path / "metadata.txt").mkdir()
        set_times(path, SETTLED)

    return build


OLD = NOW - timedelta(days=3)
CORPUS: list[Case] = [
    ("101", _run("101"), "ready"),
    ("102", _run("102", CONFIG + stop_line(NOW - timedelta(hours=1))), "ready"),
    ("103", _run("103", ENDED + stop_line(NOW - timedelta(minutes=50))), "ready"),
    ("104", _run("104", ENDED.rstrip(b"\n")), "in_progress"),
    ("105", _run("105", RUNNING, partition=105), "in_progress"),
    ("106", _run("106", CONFIG + start_line(NOW - timedelta(hours=49))), "never_stopped"),
    (
        "107",
        _run("107", CONFIG + b"\nDAQInterface start time: garbled\n", mtime=OLD),
        "never_stopped",
    ),
    ("108", _run("108", RUNNING, partition=3), "never_stopped"),
    ("109", _run("109", ENDED, partition=3), "ready"),
    ("110", _run("110", CONFIG, mtime=NOW - timedelta(hours=2)), "never_started"),
    ("111", _run("111", CONFIG, partition=4, mtime=NOW - timedelta(minutes=5)), "never_started"),
    ("112", _run("112", None, partition=4), "no_metadata"),
    ("113", _run("113", CONFIG, mtime=NOW - timedelta(minutes=5)), "in_progress"),
    ("114", _metadata_is_a_directory("114"), "no_metadata"),
    ("115", _run("115", b"Config name: caf\xe9\xff\n" + ENDED[len(CONFIG) :]), "ready"),
    ("116", _run("116", ENDED.replace(b"\n", b"\r\n")), "ready"),
    (
        "117",
        _run("117", RUNNING + b"daqinterface stop time: Tue Oct  1 20:47:02 UTC 2024\n"),
        "in_progress",
    ),
    (
        "118",
        _run("118", RUNNING + b" DAQInterface stop time: Tue Oct  1 20:47:02 UTC 2024\n"),
        "in_progress",
    ),
    ("119", _run("119", RUNNING + b"DAQInterface stop time:\n"), "in_progress"),
    ("120", _recent_entry("120", "rc_info_stop.txt"), "in_progress"),
    ("121", _recent_entry("121", "old/tpc01.fcl"), "in_progress"),
    ("122", _recent_entry("122", ".metadata.txt.swp"), "in_progress"),
    ("123", _run("123", b"", mtime=OLD), "never_started"),
    ("124", _symlink("124", "101"), "ready"),
    ("125", _run("125", ENDED + b"Total events: 183422\n"), "ready"),
    ("126", _run("126", ENDED, extra={"notes.log": b"x", "rc_info_start.txt": b"k: v\n"}), "ready"),
    ("127", _dir("127"), "no_metadata"),
    (str(2**31 - 1), _run(str(2**31 - 1)), "ready"),
    ("0130", _run("0130"), "non_canonical_name"),
    ("00", _dir("00"), "non_canonical_name"),
    ("0", _dir("0"), "out_of_range"),
    (str(2**31), _run(str(2**31)), "out_of_range"),
    ("17512.bak", _run("17512.bak"), "not_a_run_number"),
    ("tmp", _dir("tmp"), "not_a_run_number"),
    ("²", _dir("²"), "not_a_run_number"),
    ("١٢٣", _dir("١٢٣"), "not_a_run_number"),
    ("+5", _dir("+5"), "not_a_run_number"),
    ("12\\x0a", _dir("12\n"), "not_a_run_number"),
    ("12\\xff", _dir(os.fsdecode(b"12\xff")), "not_a_run_number"),
    ("131", _file("131"), "not_a_directory"),
    ("132", _fifo("132"), "not_a_directory"),
    ("133", _symlink("133", "/"), "symlink_outside"),
    ("134", _symlink("134", "../elsewhere"), "symlink_outside"),
    ("135", _symlink("135", "."), "symlink_outside"),
    ("136", _symlink("136", "136"), "unreadable"),
    ("137", _symlink("137", "missing"), "unreadable"),
    ("138", _symlink("138", "131"), "not_a_directory"),
]
NOT_RUNS = {"two_dots": "..", "hidden": ".hidden_run"}


def build_corpus(root: Path) -> None:
    (root.parent / "elsewhere").mkdir(exist_ok=True)
    for _, build, _ in CORPUS:
        build(root)
    make_run(root, ".hidden_run")
    (root / ".nfs000001").write_bytes(b"x")


def test_corpus_of_unusual_entries(session: Session, root: Path) -> None:
    build_corpus(root)
    result = scan(session, root)
    expected = {name: outcome for name, _, outcome in CORPUS}
    found = readiness_of(session) | anomalies_of(session)
    assert found == expected
    assert len(CORPUS) >= 25
    assert sorted(a.name for a in result.anomalies) == sorted(anomalies_of(session))
    assert result.counts()["new"] == len(readiness_of(session))


def test_corpus_reasons_and_details_are_specific(session: Session, root: Path) -> None:
    build_corpus(root)
    scan(session, root)
    runs = {run.run_number: run for run in session.exec(select(Run))}
    assert "run 109 of partition 3" in (runs[108].readiness_reason or "")
    assert "run 112 of partition 4" in (runs[111].readiness_reason or "")
    assert "newline" in (runs[104].readiness_reason or "")
    assert "settling" in (runs[120].readiness_reason or "")
    assert runs[114].readiness_reason == "metadata.txt is unreadable: Is a directory"
    assert runs[127].readiness_reason == "metadata.txt is missing"
    assert runs[115].config_name == "caf.."
    assert runs[101].config_name == "Physics_General_thr390_Overlays00015"
    assert runs[127].config_name is None
    assert runs[103].stop_time == format_daq_time(NOW - timedelta(minutes=50))
    assert runs[109].partition == 3 and runs[101].partition is None
    assert runs[126].file_count == 5
    details = {row.name: row.detail for row in session.exec(select(SourceAnomaly))}
    assert details["0130"] == "leading zeros: not a run (it could shadow run 130)"
    assert details["133"] == "symbolic link to /"
    assert details["131"] == "a regular file, not a run directory"
    assert details["132"] == "a named pipe, not a run directory"


def test_corpus_pipeline_rows_and_events(session: Session, root: Path) -> None:
    build_corpus(root)
    scan(session, root)
    rows = import_rows(session)
    for run in session.exec(select(Run)):
        row = rows[run.run_number]
        if run.readiness is Readiness.READY:
            assert (row.state, row.next_attempt_at) == (State.PENDING, NOW)
        else:
            assert (row.state, row.next_attempt_at) == (State.WAITING, None)
        messages = [e.to_state for e in events_of(session, run.run_number)]
        assert run.readiness.value in messages and row.state.value in messages
    anomaly_events = session.exec(select(RunEvent).where(RunEvent.run_number.is_(None))).all()
    assert len(anomaly_events) == len(anomalies_of(session))
    assert all(e.actor == "scanner" for e in session.exec(select(RunEvent)))


def test_unreadable_run_directory_does_not_stop_the_scan(session: Session, root: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root can read any directory")
    make_run(root, "200")
    locked = make_run(root, "201")
    locked.chmod(0)
    try:
        scan(session, root)
    finally:
        locked.chmod(0o755)
    assert readiness_of(session) == {"200": "ready", "201": "unreadable"}
    assert anomalies_of(session) == {"201": "unreadable"}
    scan(session, root, NOW + timedelta(seconds=1))
    assert readiness_of(session)["201"] == "ready"
    assert anomalies_of(session) == {}


def test_directory_that_fails_to_list_is_unreadable(
    session: Session, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same path as a permission problem, independent of the user running the tests."""
    make_run(root, "210")
    make_run(root, "211")
    real = scan_module.summarize_run_dir

    def refusing(path: Path) -> object:
        if path.name == "211":
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(scan_module, "summarize_run_dir", refusing)
    result = scan(session, root)
    assert readiness_of(session) == {"210": "ready", "211": "unreadable"}
    assert anomalies_of(session) == {"211": "unreadable"}
    assert (211, "unreadable: run directory unreadable: Permission denied") in result.flagged
    assert import_rows(session)[211].state is State.WAITING
    monkeypatch.setattr(scan_module, "summarize_run_dir", real)
    scan(session, root, NOW + timedelta(seconds=1))
    assert readiness_of(session)["211"] == "ready"
    assert anomalies_of(session) == {}


@pytest.mark.parametrize("problem", ["missing", "file"])
def test_missing_run_records_directory(session: Session, tmp_path: Path, problem: str) -> None:
    path = tmp_path / "records"
    if problem == "file":
        path.write_text("x")
    with pytest.raises(RunRecordsDirError, match=str(path)):
        scan_records(session, path, policy=POLICY, now=NOW)


# --- readiness through time --------------------------------------------------------------------


def test_settle_period_then_ready(session: Session, root: Path) -> None:
    path = make_run(root, "300", RUNNING, partition=1)
    scan(session, root)
    stopped_at = NOW + timedelta(seconds=5)
    append(path / "metadata.txt", stop_line(stopped_at), stopped_at)
    result = scan(session, root, stopped_at + timedelta(seconds=20))
    assert readiness_of(session) == {"300": "in_progress"}
    assert result.ready == []
    assert import_rows(session)[300].state is State.WAITING
    result = scan(session, root, stopped_at + timedelta(seconds=60))
    assert result.ready == [300]
    row = import_rows(session)[300]
    assert (row.state, row.next_attempt_at) == (State.PENDING, stopped_at + timedelta(seconds=60))
    transitions = [(e.stage, e.from_state, e.to_state) for e in events_of(session, 300)]
    assert (Stage.IMPORT, "waiting", "pending") in transitions
    assert (None, "in_progress", "ready") in transitions


def test_scan_reports_when_the_first_settling_run_becomes_ready(
    session: Session, root: Path
) -> None:
    make_run(root, "300", RUNNING, partition=1)
    late, early = make_run(root, "301", RUNNING, partition=2), make_run(root, "302", RUNNING)
    assert scan(session, root).next_settled_at is None  # running runs have no settle deadline
    append(late / "metadata.txt", stop_line(NOW), NOW + timedelta(seconds=30))
    append(early / "metadata.txt", stop_line(NOW), NOW + timedelta(seconds=10))
    result = scan(session, root, NOW + timedelta(seconds=40))
    assert result.next_settled_at == NOW + timedelta(seconds=70)
    result = scan(session, root, NOW + timedelta(seconds=75))
    assert result.ready == [302]
    assert result.next_settled_at == NOW + timedelta(seconds=90)
    result = scan(session, root, NOW + timedelta(seconds=90))
    assert (result.ready, result.next_settled_at) == ([301], None)


def test_running_run_becomes_never_stopped_when_a_later_run_starts(
    session: Session, root: Path
) -> None:
    make_run(root, "400", RUNNING, partition=2)
    scan(session, root)
    make_run(root, "401", RUNNING, partition=2)
    result = scan(session, root, NOW + timedelta(seconds=1))
    assert readiness_of(session) == {"400": "never_stopped", "401": "in_progress"}
    assert [run for run, _ in result.flagged] == [400]
    assert import_rows(session)[400].state is State.WAITING


def test_released_or_auto_archived_dead_runs_become_pending(session: Session, root: Path) -> None:
    make_run(root, "500", CONFIG + start_line(NOW - timedelta(hours=50)))
    make_run(root, "501", CONFIG, mtime=NOW - timedelta(hours=3))
    scan(session, root)
    assert {r.state for r in import_rows(session).values()} == {State.WAITING}
    run = session.get(Run, 500)
    assert run is not None
    run.released = True
    session.commit()
    scan(session, root, NOW + timedelta(seconds=1))
    rows = import_rows(session)
    assert (rows[500].state, rows[501].state) == (State.PENDING, State.WAITING)
    scan(session, root, NOW + timedelta(seconds=2), archive_never_stopped=True)
    assert import_rows(session)[501].state is State.PENDING


def test_rows_past_pending_are_never_touched(session: Session, root: Path) -> None:
    path = make_run(root, "600")
    scan(session, root)
    for state in (
        State.RUNNING,
        State.DONE,
        State.RETRY,
        State.FAILED,
        State.CONFLICT,
        State.EXCLUDED,
    ):
        row = import_rows(session)[600]
        row.state = state
        session.commit()
        append(path / "metadata.txt", b"x", NOW)
        scan(session, root, NOW + timedelta(seconds=1))
        assert readiness_of(session) == {"600": "in_progress"}
        assert import_rows(session)[600].state is state
        append(path / "metadata.txt", b"\n", NOW - timedelta(hours=1))
        scan(session, root, NOW + timedelta(seconds=2))
        assert readiness_of(session) == {"600": "ready"}


def test_pending_run_that_changes_goes_back_to_waiting(session: Session, root: Path) -> None:
    path = make_run(root, "650")
    scan(session, root)
    assert import_rows(session)[650].state is State.PENDING
    (path / "rc_info_stop.txt").write_bytes(b"k: v\n")
    set_times(path / "rc_info_stop.txt", NOW)
    set_times(path, NOW)
    scan(session, root, NOW + timedelta(seconds=1))
    assert import_rows(session)[650].state is State.WAITING
    scan(session, root, NOW + timedelta(seconds=61))
    assert import_rows(session)[650].state is State.PENDING


# --- incremental rescans -----------------------------------------------------------------------


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Paths the scanner opens for reading (metadata.txt, environment.txt) and re-hashes."""
    seen: list[str] = []
    real_read = scan_module._read_capped
    real_hash = scan_module.hash_record

    def counting_read(path: Path, limit: int) -> bytes:
        seen.append(f"{path.parent.name}/{path.name}")
        return real_read(path, limit)

    def counting_hash(path: Path) -> str:
        seen.append(f"{path.name}/hash")
        return real_hash(path)

    monkeypatch.setattr(scan_module, "_read_capped", counting_read)
    monkeypatch.setattr(scan_module, "hash_record", counting_hash)
    return seen


def test_unchanged_runs_are_not_read_again(session: Session, root: Path, reads: list[str]) -> None:
    for number in range(700, 710):
        make_run(root, str(number), partition=1)
    make_run(root, "710", RUNNING, partition=1)
    make_run(root, "711", ENDED, partition=5, mtime=NOW - timedelta(seconds=5))
    first = scan(session, root)
    assert "700/metadata.txt" in reads and "710/metadata.txt" in reads
    reads.clear()
    second = scan(session, root, NOW + timedelta(seconds=1))
    assert reads == []
    assert second.counts() == {
        "new": 0,
        "ready": 0,
        "waiting": 2,
        "flagged": 0,
        "vanished": 0,
        "anomalies": 0,
        "unchanged": 12,
    }
    assert first.counts()["new"] == 12
    make_run(root, "712", RUNNING, partition=1)
    third = scan(session, root, NOW + timedelta(seconds=2))
    assert sorted(reads) == ["712/environment.txt", "712/metadata.txt"]
    assert third.new == [712]
    assert readiness_of(session)["710"] == "never_stopped"
    assert readiness_of(session)["711"] == "in_progress"
    reads.clear()
    fourth = scan(session, root, NOW + timedelta(seconds=60))
    assert reads == []
    assert fourth.ready == [711]


def test_time_alone_moves_an_unchanged_run(session: Session, root: Path, reads: list[str]) -> None:
    make_run(root, "800", CONFIG + start_line(NOW - timedelta(hours=47)))
    scan(session, root)
    reads.clear()
    result = scan(session, root, NOW + timedelta(hours=2))
    assert reads == []
    assert readiness_of(session) == {"800": "never_stopped"}
    assert [run for run, _ in result.flagged] == [800]


def test_metadata_change_is_read_again(session: Session, root: Path, reads: list[str]) -> None:
    path = make_run(root, "900", RUNNING)
    scan(session, root)
    reads.clear()
    append(
        path / "metadata.txt", stop_line(NOW - timedelta(minutes=10)), NOW - timedelta(minutes=5)
    )
    scan(session, root, NOW + timedelta(seconds=1))
    assert "900/metadata.txt" in reads
    assert readiness_of(session) == {"900": "ready"}
    run = session.get(Run, 900)
    assert run is not None and run.stop_time == format_daq_time(NOW - timedelta(minutes=10))


def test_unfinished_append_is_rechecked_without_rereading(
    session: Session, root: Path, reads: list[str]
) -> None:
    path = make_run(root, "950", ENDED.rstrip(b"\n"))
    scan(session, root)
    reads.clear()
    scan(session, root, NOW + timedelta(seconds=1))
    assert reads == [] and readiness_of(session) == {"950": "in_progress"}
    append(path / "metadata.txt", b"\n", SETTLED)
    scan(session, root, NOW + timedelta(seconds=2))
    assert readiness_of(session) == {"950": "ready"}


# --- archived runs ----------------------------------------------------------------------------


def archive(session: Session, root: Path, number: int) -> None:
    """What the import stage records: the archived hash, and its row done."""
    run = session.get(Run, number)
    assert run is not None
    run.archived_hash = run.content_hash = hash_record(root / str(number))
    import_rows(session)[number].state = State.DONE
    session.commit()


def test_changed_after_archive_is_flagged_not_reimported(
    session: Session, root: Path, reads: list[str]
) -> None:
    path = make_run(root, "1000")
    scan(session, root)
    archive(session, root, 1000)
    reads.clear()
    scan(session, root, NOW + timedelta(seconds=1))
    assert reads == []
    append(path / "metadata.txt", stop_line(NOW), NOW - timedelta(hours=1))
    result = scan(session, root, NOW + timedelta(seconds=2))
    assert "1000/hash" in reads
    run = session.get(Run, 1000)
    assert run is not None and run.changed_after_archive
    assert run.content_hash != run.archived_hash
    assert result.flagged == [(1000, "changed_after_archive")]
    assert import_rows(session)[1000].state is State.DONE
    assert any(
        "content changed after archive" in (e.message or "") for e in events_of(session, 1000)
    )
    again = scan(session, root, NOW + timedelta(seconds=3))
    assert again.flagged == []


def test_touched_but_identical_archived_run_is_not_flagged(
    session: Session, root: Path, reads: list[str]
) -> None:
    path = make_run(root, "1100")
    scan(session, root)
    archive(session, root, 1100)
    set_times(path, NOW - timedelta(minutes=20))
    scan(session, root, NOW + timedelta(seconds=1))
    assert "1100/hash" in reads
    run = session.get(Run, 1100)
    assert run is not None and not run.changed_after_archive


# --- vanishing and anomalies over time --------------------------------------------------------


def test_vanished_run_keeps_its_row_and_comes_back(session: Session, root: Path) -> None:
    path = make_run(root, "1200")
    scan(session, root)
    (root / "1200.moved").mkdir()
    path.rename(root / "1200.moved" / "x")
    result = scan(session, root, NOW + timedelta(seconds=1))
    run = session.get(Run, 1200)
    assert run is not None and not run.present and run.readiness is Readiness.VANISHED
    assert result.vanished == [1200]
    assert import_rows(session)[1200].state is State.WAITING
    (root / "1200.moved" / "x").rename(path)
    scan(session, root, NOW + timedelta(seconds=2))
    run = session.get(Run, 1200)
    assert run is not None and run.present and run.readiness is Readiness.READY
    assert import_rows(session)[1200].state is State.PENDING


def test_anomalies_are_updated_and_cleared(session: Session, root: Path) -> None:
    (root / "01300").mkdir()
    (root / "1301").write_text("x")
    scan(session, root)
    assert anomalies_of(session) == {"01300": "non_canonical_name", "1301": "not_a_directory"}
    first_seen = session.get(SourceAnomaly, "1301")
    assert first_seen is not None and first_seen.first_seen_at == NOW
    (root / "01300").rmdir()
    scan(session, root, NOW + timedelta(seconds=1))
    assert anomalies_of(session) == {"1301": "not_a_directory"}
    row = session.get(SourceAnomaly, "1301")
    assert row is not None
    assert (row.first_seen_at, row.last_seen_at) == (NOW, NOW + timedelta(seconds=1))
    cleared = session.exec(select(RunEvent).where(RunEvent.message.contains("01300"))).all()
    assert [e.message for e in cleared][-1].endswith("cleared (entry gone or fixed)")


def test_scan_does_not_commit(engine: Engine, root: Path) -> None:
    make_run(root, "1400")
    with Session(engine) as session:
        scan_records(session, root, policy=POLICY, now=NOW)
        session.rollback()
    with Session(engine) as session:
        assert session.exec(select(Run)).all() == []


def test_last_scanned_at_moves_for_present_runs(session: Session, root: Path) -> None:
    make_run(root, "1500")
    scan(session, root)
    scan(session, root, NOW + timedelta(minutes=5))
    run = session.get(Run, 1500)
    assert run is not None
    assert (run.first_seen_at, run.last_scanned_at) == (NOW, NOW + timedelta(minutes=5))
