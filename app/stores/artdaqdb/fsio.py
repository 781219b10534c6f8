"""Locked, atomic file writes inside a filesystemdb root (artdaqdb.md §5.7, §7).

Lock and temporary files live directly in `<root>`: the C++ tools ignore regular files there,
while anything inside a collection directory would be read as a document by the rebuild tool.
"""

import fcntl
import os
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = ".archiver.lock"
TEMP_PREFIX = ".archiver-tmp-"
FILE_MODE = 0o644


@contextmanager
def database_lock(root: Path, *, exclusive: bool) -> Iterator[None]:
    """Hold the project's per-database `flock` (exclusive for writers, shared for readers).

    Each call opens its own file description, so threads of one process exclude each other too.
    """
    fd = os.open(root / LOCK_NAME, os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


def fsync_directory(directory: Path) -> None:
    """Make a rename in `directory` durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(root: Path, target: Path, data: bytes) -> None:
    """Write `target` via a temporary file in `root`, fsync, rename, fsync the directory.

    A crash leaves either the old file or the new one at `target`, plus at most one stray
    temporary file in `root`, which `remove_stale_temporaries` deletes under the lock.
    """
    temporary = stage(root, data)
    sync_files([temporary])
    install(temporary, target)
    fsync_directory(target.parent)


def stage(root: Path, data: bytes) -> Path:
    """Write `data` to a new temporary file in `root` (a writer holding many documents keeps
    paths, not texts, until it installs them); `sync_files` makes them durable before that."""
    temporary = root / f"{TEMP_PREFIX}{secrets.token_hex(8)}.json"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def sync_files(paths: Iterable[Path]) -> None:
    """fsync files written earlier: one after the other once all are written, so the file
    system commits them together instead of once per file."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def install(temporary: Path, target: Path) -> None:
    """Rename a synced staged file into place; `fsync_directory` of the target's directory,
    once after a batch of renames, makes them durable."""
    try:
        temporary.replace(target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def remove_stale_temporaries(root: Path) -> list[Path]:
    """Delete temporary files left by a crashed writer; call only under the exclusive lock."""
    removed = []
    for path in root.glob(f"{TEMP_PREFIX}*"):
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed
