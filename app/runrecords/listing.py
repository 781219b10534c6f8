"""Listing `<run_records_dir>`: which entries are run directories, and why the others are not.

One `os.scandir` pass plus one `stat` per entry; nothing inside a run directory is opened here.
Every odd entry becomes an `Anomaly` (run-records.md §5) so that no name can stop a scan.
"""

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from app.runrecords.runnumbers import MAX_RUN_NUMBER, AnomalyReason, is_hidden, run_number_from_name

ANOMALY_NAME_CHARS = 512
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class RunRecordsDirError(Exception):
    """The run-records directory itself is missing, not a directory, or cannot be listed."""


@dataclass(frozen=True)
class RunEntry:
    """A run directory (possibly reached through a symlink that stays inside the root)."""

    number: int
    path: Path
    dir_mtime_ns: int


@dataclass(frozen=True)
class Anomaly:
    """An entry that is not a usable run; `name` is printable (undecodable bytes escaped)."""

    name: str
    reason: AnomalyReason
    detail: str


@dataclass(frozen=True)
class Listing:
    """The run directories by number, and the anomalies, of one listing pass."""

    runs: dict[int, RunEntry]
    anomalies: list[Anomaly]


def list_run_records(root: Path) -> Listing:
    """Classify every non-hidden entry of the run-records directory."""
    try:
        with os.scandir(root) as listing:
            entries = list(listing)
        real_root = Path(os.path.realpath(root))
    except OSError as exc:
        raise RunRecordsDirError(
            f"run-records directory {root} cannot be listed: {exc.strerror or exc}"
        ) from exc
    runs: dict[int, RunEntry] = {}
    anomalies: list[Anomaly] = []
    for entry in entries:
        if is_hidden(entry.name):
            continue
        try:
            outcome = _classify(entry, real_root)
        except OSError as exc:
            outcome = _anomaly(entry.name, AnomalyReason.UNREADABLE, exc.strerror or str(exc))
        if isinstance(outcome, RunEntry):
            runs[outcome.number] = outcome
        else:
            anomalies.append(outcome)
    return Listing(runs=runs, anomalies=anomalies)


def printable_name(name: str) -> str:
    """A directory-entry name as it can be stored and shown on one line: undecodable bytes and
    control characters as `\\xNN`, at most `ANOMALY_NAME_CHARS` characters."""
    text = os.fsencode(name).decode("utf-8", "backslashreplace")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)[:ANOMALY_NAME_CHARS]


def _classify(entry: os.DirEntry[str], real_root: Path) -> RunEntry | Anomaly:
    number = run_number_from_name(entry.name)
    if number is AnomalyReason.NON_CANONICAL_NAME:
        return _anomaly(
            entry.name, number, f"leading zeros: not a run (it could shadow run {int(entry.name)})"
        )
    if isinstance(number, AnomalyReason):
        return _anomaly(entry.name, number, _NAME_DETAIL[number])
    if entry.is_symlink():
        target = Path(os.path.realpath(entry.path))
        if target == real_root or not target.is_relative_to(real_root):
            return _anomaly(entry.name, AnomalyReason.SYMLINK_OUTSIDE, f"symbolic link to {target}")
        if not target.exists():
            return _anomaly(
                entry.name, AnomalyReason.UNREADABLE, f"symbolic link target {target} is missing"
            )
    info = entry.stat()
    if not stat.S_ISDIR(info.st_mode):
        return _anomaly(entry.name, AnomalyReason.NOT_A_DIRECTORY, _kind(info.st_mode))
    return RunEntry(number=number, path=Path(entry.path), dir_mtime_ns=info.st_mtime_ns)


def _anomaly(name: str, reason: AnomalyReason, detail: str) -> Anomaly:
    return Anomaly(name=printable_name(name), reason=reason, detail=detail)


def _kind(mode: int) -> str:
    for test, kind in (
        (stat.S_ISREG, "a regular file"),
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return f"{kind}, not a run directory"
    return "not a run directory"


_NAME_DETAIL = {
    AnomalyReason.OUT_OF_RANGE: f"run numbers go from 1 to {MAX_RUN_NUMBER}",
    AnomalyReason.NOT_A_RUN_NUMBER: "not a decimal run number",
}
