"""The project's own temporary directories, under `pipeline.staging_dir` rather than the system's
temporary directory (legacy.md §30), each removed by its creator or, once that died, by the next.

Names carry the creator's pid, and each host has its own subdirectory, so that a work directory
shared between hosts never has one host judge another's processes.
"""

import os
import shutil
import socket
import tempfile
from pathlib import Path


class StagingError(OSError):
    """The staging area cannot be created; says which setting to fix."""


def _host_area(root: Path) -> Path:
    area = root / socket.gethostname()
    try:
        area.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise StagingError(
            exc.errno, f"pipeline.staging_dir {str(root)!r}: cannot create {str(area)!r}: {reason}"
        ) from None
    return area


def staging_directory(root: Path, purpose: str) -> tempfile.TemporaryDirectory[str]:
    """A new private (0700) directory for `purpose` (no `-` in it), removed by its `cleanup`."""
    return tempfile.TemporaryDirectory(prefix=f"{purpose}-{os.getpid()}-", dir=_host_area(root))


def remove_orphans(root: Path) -> list[Path]:
    """Remove this host's staging directories whose creator no longer runs (killed with -9, or
    its machine restarted); the ones removed."""
    removed = []
    for directory in _host_area(root).iterdir():
        parts = directory.name.rsplit("-", 2)
        if len(parts) == 3 and parts[1].isdigit() and not _alive(int(parts[1])):
            shutil.rmtree(directory, ignore_errors=True)
            removed.append(directory)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process
    return True
