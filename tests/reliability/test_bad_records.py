"""A corpus of bad run records in one directory with good ones: each bad entry fails alone (or is
classified, for odd ones) with its expected readiness, anomaly reason or error kind and message,
and every good run beside them is archived and verified.

The corpus is `sample_defects` (what real directories collect) plus `sample_bad` (what breaks
readers). Root reads every file whatever its mode, so "unreadable" is made in other ways: a
symbolic-link loop, links that lead outside the run or nowhere, a directory where metadata.txt
belongs, an oversized metadata.txt.
"""

import contextlib
import os
import re
import threading
import time
from pathlib import Path

import pytest
from sqlmodel import Session, select

from app.models import ErrorKind, Readiness, Run, SourceAnomaly, Stage, StageStatus, State
from app.pipeline.runner import WorkRequest, run_work, scan
from app.runrecords.listing import printable_name
from app.runrecords.sample_bad import sample_bad_entries, write_bad_entries
from app.runrecords.sample_defects import SampleDefect, sample_defects
from app.stores.artdaqdb.store import open_store
from app.timeutil import utcnow
from tests.pipeline.conftest import ArchiveEnv
from tests.reliability.conftest import MakeArchive, rows

pytestmark = pytest.mark.slow

GOOD_RUNS = 6
FIRST_RUN = 1000
FIRST_BAD = 1500
MIN_CORPUS = 30
ARCHIVED = "archived"
FHICL_AT = r"run {run}: {run}/[\w.]+\.fcl:\d+:\d+: "

# What import does with each corpus entry the scanner finds ready: archive it, or fail it (state
# `failed`: either not retryable, or retried until the attempt budget ran out) with this kind
# and a message matching this pattern.
OUTCOMES: dict[str, str | tuple[ErrorKind, str]] = {
    "non_utf8": ARCHIVED,
    "truncated_fhicl": (ErrorKind.FHICL, FHICL_AT + "unexpected end of file"),
    "empty_files": ARCHIVED,
    "duplicate_stop": ARCHIVED,
    "stop_without_start": ARCHIVED,
    "subdirectory": ARCHIVED,
    "hidden_files": ARCHIVED,
    "external_run_control": ARCHIVED,
    "label_collision": (ErrorKind.SOURCE, r"both metadata\.fcl and the metadata\.txt"),
    "crlf_settings": ARCHIVED,
    "total_events": ARCHIVED,
    "extra_files": ARCHIVED,
    "binary_fcl": (ErrorKind.FHICL, FHICL_AT + "unexpected character"),
    "nul_in_fcl": (ErrorKind.FHICL, FHICL_AT + "unprintable character"),
    "include_in_fcl": ARCHIVED,
    "deep_nesting": (ErrorKind.FHICL, FHICL_AT),
    "sparse_300mb": (ErrorKind.SOURCE, r"tpc99\.fcl: file is larger than the per-file limit"),
    "symlink_out": (ErrorKind.SOURCE, r"tpc98\.fcl: symbolic link leads outside the run"),
    "dangling_link": (ErrorKind.SOURCE, r"tpc97\.fcl: cannot be read: No such file"),
    "schema_in_record": (ErrorKind.SOURCE, r"the record contains schema\.fcl"),
    "txt_and_fcl": (ErrorKind.SOURCE, r"both boot\.fcl and the boot\.txt"),
    "no_config_name": ARCHIVED,
    "garbage_stop_time": ARCHIVED,
    "max_run_number": ARCHIVED,
}


def corpus() -> list[SampleDefect]:
    return sample_defects(FIRST_RUN, GOOD_RUNS) + sample_bad_entries(FIRST_BAD)


def drain_everything(env: ArchiveEnv) -> None:
    """Scan and run both stages until nothing is due (bounded: retries have no backoff here)."""
    ctx = env.context()
    for _ in range(3):
        report = run_work(ctx, WorkRequest())
        if not any(result.results for result in report.stages.values()):
            break
    ctx.close()


def check_entry(
    entry: SampleDefect,
    run_dirs: set[int],
    runs: dict[int, Run],
    anomalies: dict[str, SourceAnomaly],
    imported: dict[int, StageStatus],
    migrated: dict[int, StageStatus],
) -> list[str]:
    """What is wrong with one entry's outcome (empty when it is as expected)."""
    name = entry.name
    if name not in {str(number) for number in run_dirs}:
        anomaly = anomalies.get(printable_name(name))
        if anomaly is None or anomaly.reason != entry.expected:
            return [f"{entry.defect}: anomaly {anomaly and anomaly.reason} != {entry.expected}"]
        return []
    run = runs.get(int(name))
    if run is None or run.readiness != entry.expected:
        return [f"{entry.defect}: readiness {run and run.readiness} != {entry.expected}"]
    number = int(name)
    row = imported.get(number)
    if entry.expected != Readiness.READY:
        if (row is not None and row.state != State.WAITING) or number in migrated:
            return [f"{entry.defect}: not ready but import is {row and row.state}"]
        if entry.expected == Readiness.UNREADABLE and anomalies.get(name) is None:
            return [f"{entry.defect}: unreadable run without an anomaly"]
        return []
    outcome = OUTCOMES[entry.defect]
    if outcome == ARCHIVED:
        done = row is not None and row.state == State.DONE and number in migrated
        if not done or migrated[number].state != State.DONE:
            return [f"{entry.defect}: not archived: {row and (row.state, row.last_error)}"]
        return []
    kind, pattern = outcome
    problems = []
    if row is None or row.state != State.FAILED or row.error_kind != kind:
        problems.append(f"{entry.defect}: import {row and (row.state, row.error_kind)} != {kind}")
    elif not re.search(pattern.format(run=number), row.last_error or ""):
        problems.append(f"{entry.defect}: message {row.last_error!r} !~ {pattern!r}")
    if number in migrated:
        problems.append(f"{entry.defect}: failed import but a migrate row exists")
    return problems


def test_each_bad_record_fails_alone_and_good_runs_archive(make_archive: MakeArchive) -> None:
    env, numbers = make_archive(runs=GOOD_RUNS, defects=True, seed=3)
    numbers += write_bad_entries(env.records, first_number=FIRST_BAD, now=utcnow())
    entries = corpus()
    assert len(entries) >= MIN_CORPUS
    drain_everything(env)
    with Session(env.engine) as session:
        runs = {run.run_number: run for run in session.exec(select(Run))}
        anomalies = {a.name: a for a in session.exec(select(SourceAnomaly))}
    imported, migrated = rows(env, Stage.IMPORT), rows(env, Stage.MIGRATE)
    problems = [
        p
        for e in entries
        for p in check_entry(e, set(numbers), runs, anomalies, imported, migrated)
    ]
    assert problems == []
    good = list(range(FIRST_RUN, FIRST_RUN + GOOD_RUNS))
    archived = sorted(run for run, row in migrated.items() if row.state == State.DONE)
    assert set(good) <= set(archived)
    expected_archived = {int(e.name) for e in entries if OUTCOMES.get(e.defect) == ARCHIVED}
    assert set(archived) == set(good) | expected_archived
    assert env.ucondb_versions() == {str(run): 1 for run in archived}
    stored = open_store(env.settings.artdaq_db.database_uri).list_runs().runs
    assert sorted(stored) == archived
    no_name = imported[int(next(e.name for e in entries if e.defect == "no_config_name"))]
    assert no_name.details["config_name"] == "standard"


def test_too_deeply_nested_fhicl_names_the_file(make_archive: MakeArchive) -> None:
    env, _ = make_archive(runs=1)
    (run,) = write_bad_entries(
        env.records, first_number=FIRST_BAD, now=utcnow(), only={"deep_nesting"}
    )
    drain_everything(env)
    row = rows(env, Stage.IMPORT)[run]
    assert row.state == State.FAILED and row.error_kind == ErrorKind.FHICL
    assert re.search(FHICL_AT.format(run=run), row.last_error or ""), row.last_error


@pytest.mark.parametrize("name", ["metadata.txt", "environment.txt"])
def test_named_pipe_in_a_run_does_not_hang_the_scan(make_archive: MakeArchive, name: str) -> None:
    env, runs = make_archive(runs=2)
    pipe = env.records / str(runs[-1]) / name
    pipe.chmod(0o644)
    pipe.unlink()
    os.mkfifo(pipe)
    ctx = env.context()
    scanning = threading.Thread(target=scan, args=(ctx,), daemon=True)
    scanning.start()
    scanning.join(timeout=5)
    hung = scanning.is_alive()
    release_readers(pipe, scanning)
    ctx.close()
    assert not hung, f"the scan blocked on {pipe}"


def release_readers(pipe: Path, thread: threading.Thread, timeout: float = 30) -> None:
    """Open and close the pipe for writing until the blocked reader gives up (it reads EOF)."""
    deadline = time.monotonic() + timeout
    while thread.is_alive() and time.monotonic() < deadline:
        with contextlib.suppress(OSError):  # ENXIO: no reader waiting right now
            os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(timeout=0.05)
    assert not thread.is_alive(), "the scan thread could not be released"
