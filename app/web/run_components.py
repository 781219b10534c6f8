"""A run's components (its BoardReaders), read from the run directory's `metadata.txt`: the
ledger keeps the configuration name and times, not the component list."""

import os
import stat
from pathlib import Path

from app.runrecords.metadata import parse_metadata


def run_components(run_dir: Path, *, max_bytes: int) -> tuple[str, ...] | None:
    """The `Component #i:` labels of `metadata.txt`; None when it is missing, not a regular
    file (a symlink or a pipe is never followed or waited on), unreadable or larger than
    `max_bytes` (the page then says the list is unavailable)."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
    try:
        descriptor = os.open(run_dir / "metadata.txt", flags)
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as handle:
        try:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                return None
            data = handle.read(max_bytes + 1)
        except OSError:
            return None
    if len(data) > max_bytes:
        return None
    return parse_metadata(data).components
