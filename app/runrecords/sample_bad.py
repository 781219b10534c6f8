"""A corpus of bad and odd run-record entries beyond `sample_defects`, for reliability tests.

Where `sample_defects` holds what real record directories collect over the years, this corpus
adds what breaks readers: binary and mis-encoded files, a 300 MB (sparse) file, symbolic-link
loops and links that lead nowhere or outside, files where directories belong, stop lines that
only look like stop lines, and names at the edges of the run-number rules. Each entry says what
the scanner should record for it (a readiness value for run directories, an anomaly reason for
other entries); what the pipeline then does with a ready one is the tests' business.

Every run directory gets a DAQInterface partition of its own, so no entry changes another's
readiness (a later run of the same partition would).
"""

import os
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from app.runrecords.sample_defects import SampleDefect
from app.runrecords.sample_record import (
    METADATA,
    SMALL_ARTDAQ,
    SMALL_CONFIGS,
    RunPlan,
    record_files,
    write_run,
)

BAD_PARTITION_BASE = 100
SPARSE_BYTES = 300 * 1024 * 1024
_CONFIG = "Calibration_PMT_LED00003"

Files = dict[str, bytes]


@dataclass(frozen=True)
class _RunEntry:
    code: str
    description: str
    expected: str
    build: Callable[[Path, RunPlan], None]


@dataclass(frozen=True)
class _OtherEntry:
    name: str
    code: str
    description: str
    expected: str
    build: Callable[[Path, datetime], None]
    run_directory: bool = False


def bad_plan(number: int, partition: int, now: datetime) -> RunPlan:
    """An ended run three days old with small process documents (the corpus stays quick)."""
    start = (now - timedelta(days=3)).replace(microsecond=0)
    return RunPlan(
        number=number,
        config=_CONFIG,
        boardreaders=tuple(sorted(SMALL_CONFIGS[_CONFIG])),
        artdaq=SMALL_ARTDAQ,
        partition=partition,
        config_time=start - timedelta(seconds=45),
        start_time=start,
        stop_times=(start + timedelta(minutes=40),),
        file_bytes=3000,
    )


def sample_bad_entries(first_number: int) -> list[SampleDefect]:
    """The corpus entries: run directories numbered from `first_number`, then other names."""
    entries = [
        SampleDefect(str(first_number + index), e.code, e.description, e.expected)
        for index, e in enumerate(_RUNS)
    ]
    entries += [SampleDefect(e.name, e.code, e.description, e.expected) for e in _OTHERS]
    return entries


def write_bad_entries(
    dest: Path, *, first_number: int, now: datetime, only: Collection[str] | None = None
) -> list[int]:
    """Write the corpus entries (those whose code is in `only`, if given) into `dest`; returns
    the numbers of the run directories written."""
    numbers = []
    for index, entry in enumerate(_RUNS):
        if only is None or entry.code in only:
            number = first_number + index
            entry.build(dest / str(number), bad_plan(number, BAD_PARTITION_BASE + index, now))
            numbers.append(number)
    for other in _OTHERS:
        if only is None or other.code in only:
            other.build(dest / other.name, now)
            if other.run_directory:
                numbers.append(int(other.name))
    return numbers


def _files(change: Callable[[RunPlan, Files], None]) -> Callable[[Path, RunPlan], None]:
    """A run written as DAQInterface would, with its files changed first."""

    def build(path: Path, plan: RunPlan) -> None:
        files = record_files(plan)
        change(plan, files)
        write_run(path, files, plan)

    return build


def _after(extra: Callable[[Path, RunPlan], None]) -> Callable[[Path, RunPlan], None]:
    """A normal run, then `extra` done in its directory; the directory keeps its old times."""

    def build(path: Path, plan: RunPlan) -> None:
        write_run(path, record_files(plan), plan)
        extra(path, plan)
        started = (plan.start_time or plan.config_time).timestamp()
        os.utime(path, (started, started))

    return build


def _first_process(plan: RunPlan) -> str:
    return f"{plan.boardreaders[0]}.fcl"


def _binary_fcl(plan: RunPlan, files: Files) -> None:
    files[_first_process(plan)] = bytes(range(256)) * 16


def _utf16_metadata(plan: RunPlan, files: Files) -> None:
    files[METADATA] = files[METADATA].decode().encode("utf-16")


def _indented_stop(plan: RunPlan, files: Files) -> None:
    files[METADATA] = files[METADATA].replace(b"\nDAQInterface stop", b"\n   DAQInterface stop")


def _lowercase_stop(plan: RunPlan, files: Files) -> None:
    files[METADATA] = files[METADATA].replace(b"DAQInterface stop", b"daqinterface stop")


def _garbage_stop_time(plan: RunPlan, files: Files) -> None:
    text = files[METADATA].decode()
    head, _, _ = text.rpartition("DAQInterface stop time:")
    files[METADATA] = (head + "DAQInterface stop time: sometime after the beam dump\n").encode()


def _no_config_name(plan: RunPlan, files: Files) -> None:
    lines = files[METADATA].splitlines(keepends=True)
    files[METADATA] = b"".join(line for line in lines if not line.startswith(b"Config name:"))


def _schema_in_record(plan: RunPlan, files: Files) -> None:
    files["schema.fcl"] = b"artdaq_processes: []\n"


def _txt_and_fcl(plan: RunPlan, files: Files) -> None:
    files["boot.fcl"] = b'DAQ_setup_script: "/tmp/setup.sh"\n'


def _include_fcl(plan: RunPlan, files: Files) -> None:
    name = _first_process(plan)
    files[name] = b'#include "common_settings.fcl"\n' + files[name]


def _deep_nesting(plan: RunPlan, files: Files) -> None:
    depth = 3000
    files[_first_process(plan)] = b"deep: " + b"{ a: " * depth + b"1" + b" }" * depth + b"\n"


def _nul_in_fcl(plan: RunPlan, files: Files) -> None:
    name = _first_process(plan)
    files[name] = files[name] + b'\nstray: "before\x00after"\n'


def _sparse_fcl(path: Path, plan: RunPlan) -> None:
    target = path / "tpc99.fcl"
    with target.open("wb") as handle:
        handle.truncate(SPARSE_BYTES)


def _symlink_loop(path: Path, plan: RunPlan) -> None:
    (path / "loop.fcl").symlink_to("loop.fcl")


def _symlink_out(path: Path, plan: RunPlan) -> None:
    (path / "tpc98.fcl").symlink_to("/etc/hostname")


def _dangling_link(path: Path, plan: RunPlan) -> None:
    (path / "tpc97.fcl").symlink_to("tpc97-gone.fcl")


def _empty_directory(path: Path, plan: RunPlan) -> None:
    path.mkdir()
    started = (plan.start_time or plan.config_time).timestamp()
    os.utime(path, (started, started))


def _empty_metadata(plan: RunPlan, files: Files) -> None:
    files[METADATA] = b""


def _metadata_directory(path: Path, plan: RunPlan) -> None:
    metadata = path / METADATA
    metadata.unlink()
    metadata.mkdir()


def _huge_metadata(path: Path, plan: RunPlan) -> None:
    metadata = path / METADATA
    metadata.chmod(0o644)
    with metadata.open("r+b") as handle:
        handle.truncate(17 * 1024 * 1024)


def _link_to_run(target: str) -> Callable[[Path, datetime], None]:
    return lambda path, now: path.symlink_to(target)


def _fifo(path: Path, now: datetime) -> None:
    os.mkfifo(path)


def _plain_dir(path: Path, now: datetime) -> None:
    path.mkdir()


def _run_at(path: Path, now: datetime) -> None:
    """A complete ended run at the number the name says, in a partition of its own."""
    plan = bad_plan(int(path.name), BAD_PARTITION_BASE - 1, now)
    write_run(path, record_files(plan), plan)


_RUNS: tuple[_RunEntry, ...] = (
    _RunEntry("binary_fcl", "a process .fcl holding binary bytes", "ready", _files(_binary_fcl)),
    _RunEntry("nul_in_fcl", "a NUL byte inside a FHiCL string", "ready", _files(_nul_in_fcl)),
    _RunEntry(
        "include_in_fcl",
        "#include in a process .fcl (fhicl-dump never writes one)",
        "ready",
        _files(_include_fcl),
    ),
    _RunEntry("deep_nesting", "a table nested 3000 levels deep", "ready", _files(_deep_nesting)),
    _RunEntry("sparse_300mb", "a 300 MB (sparse) process .fcl", "ready", _after(_sparse_fcl)),
    _RunEntry(
        "symlink_loop",
        "a .fcl that is a symbolic link to itself (stat fails: the run cannot be summarised)",
        "unreadable",
        _after(_symlink_loop),
    ),
    _RunEntry(
        "symlink_out",
        "a .fcl linking outside the run directory (/etc/hostname)",
        "ready",
        _after(_symlink_out),
    ),
    _RunEntry(
        "dangling_link",
        "a .fcl linking to a file that does not exist",
        "ready",
        _after(_dangling_link),
    ),
    _RunEntry(
        "schema_in_record", "a schema.fcl inside the record", "ready", _files(_schema_in_record)
    ),
    _RunEntry("txt_and_fcl", "boot.txt and a boot.fcl beside it", "ready", _files(_txt_and_fcl)),
    _RunEntry(
        "no_config_name",
        "metadata.txt without its Config name line",
        "ready",
        _files(_no_config_name),
    ),
    _RunEntry(
        "garbage_stop_time",
        "a stop line whose date is not a date",
        "ready",
        _files(_garbage_stop_time),
    ),
    _RunEntry(
        "empty_directory", "a run directory with nothing in it", "no_metadata", _empty_directory
    ),
    _RunEntry(
        "metadata_is_directory",
        "metadata.txt is a directory",
        "no_metadata",
        _after(_metadata_directory),
    ),
    _RunEntry(
        "huge_metadata",
        "metadata.txt of 17 MB (zeros appended)",
        "no_metadata",
        _after(_huge_metadata),
    ),
    _RunEntry(
        "empty_metadata",
        "metadata.txt of 0 bytes, directory days old",
        "never_started",
        _files(_empty_metadata),
    ),
    _RunEntry(
        "utf16_metadata",
        "metadata.txt re-encoded as UTF-16",
        "never_started",
        _files(_utf16_metadata),
    ),
    _RunEntry(
        "indented_stop",
        "stop line indented (not at line start), run days old",
        "never_stopped",
        _files(_indented_stop),
    ),
    _RunEntry(
        "lowercase_stop",
        "stop line in lower case, run days old",
        "never_stopped",
        _files(_lowercase_stop),
    ),
)

_OTHERS: tuple[_OtherEntry, ...] = (
    _OtherEntry(
        "2147483647",
        "max_run_number",
        "the largest run number, a complete run",
        "ready",
        _run_at,
        run_directory=True,
    ),
    _OtherEntry(
        "2147483648", "above_max", "one above the largest run number", "out_of_range", _plain_dir
    ),
    _OtherEntry("00", "double_zero", "the name 00", "non_canonical_name", _plain_dir),
    _OtherEntry("-5", "negative", "a negative number", "not_a_run_number", _plain_dir),
    _OtherEntry("+12", "plus_sign", "a number with a plus sign", "not_a_run_number", _plain_dir),
    _OtherEntry("12 ", "trailing_space", "a number and a space", "not_a_run_number", _plain_dir),
    _OtherEntry("13\n", "newline_name", "a number and a newline", "not_a_run_number", _plain_dir),
    _OtherEntry("1e3", "exponent", "1e3", "not_a_run_number", _plain_dir),
    _OtherEntry(
        "2000000001",
        "fifo_named_like_run",
        "a named pipe with a run-number name",
        "not_a_directory",
        _fifo,
    ),
    _OtherEntry(
        "2000000002",
        "self_link",
        "a symbolic link to itself",
        "unreadable",
        _link_to_run("2000000002"),
    ),
    _OtherEntry(
        "2000000003",
        "dangling_run_link",
        "a symbolic link to a missing directory",
        "unreadable",
        _link_to_run("no-such-run"),
    ),
)
