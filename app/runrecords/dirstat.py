"""Cheap facts about a run directory from `stat` alone: settle time, file count, size.

The settle rule (run-records.md §4) looks at the mtime and ctime of the directory and of every
entry below it, hidden ones included; counting follows what `reader` archives.
"""

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from app.runrecords.runnumbers import is_hidden


@dataclass(frozen=True)
class DirSummary:
    """Newest mtime/ctime anywhere in the directory, and the archivable files' count and bytes."""

    newest_change_ns: int
    file_count: int
    total_bytes: int


def summarize_run_dir(run_dir: Path) -> DirSummary:
    """Stat the directory tree without following links; raises OSError if it cannot be listed."""
    top = run_dir.stat()
    newest = max(top.st_mtime_ns, top.st_ctime_ns)
    count = 0
    size = 0
    with os.scandir(run_dir) as listing:
        entries = list(listing)
    for entry in entries:
        try:
            link = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        newest = max(newest, link.st_mtime_ns, link.st_ctime_ns)
        if stat.S_ISDIR(link.st_mode):
            newest = max(newest, _newest_below(Path(entry.path)))
        elif not is_hidden(entry.name) and entry.is_file():
            count += 1
            size += entry.stat().st_size
    return DirSummary(newest_change_ns=newest, file_count=count, total_bytes=size)


def _newest_below(directory: Path) -> int:
    """Newest mtime/ctime inside a subdirectory (DAQInterface makes none, so this is rare)."""
    newest = 0
    try:
        with os.scandir(directory) as listing:
            entries = list(listing)
    except OSError:
        return newest
    for entry in entries:
        try:
            link = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        newest = max(newest, link.st_mtime_ns, link.st_ctime_ns)
        if stat.S_ISDIR(link.st_mode):
            newest = max(newest, _newest_below(Path(entry.path)))
    return newest
