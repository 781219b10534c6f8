"""Locked, atomic file writes inside a filesystemdb root (artdaqdb.md §5.7, §7).

Lock and temporary files live directly in `<root>`: the C++ tools ignore regular files there,
while anything inside a collection directory would be read as a document by the rebuild tool.
"""

import fcntl
import os
import secrets
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
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


def stage(root: Path, data: bytes, *, hold: ExitStack | None = None) -> Path:
    """Write `data` to a new temporary file in `root` (a writer holding many documents keeps
    paths, not texts, until it installs them); `sync_files` makes them durable before that.

    Under the exclusive lock no other writer sweeps temporaries. A writer staging *before* it
    takes the lock passes `hold`: the file then stays open under an exclusive `flock` until
    `hold` closes, which tells every sweep (`remove_stale_temporaries`) that its writer lives.
    """
    temporary, fd = _new_temporary(root, held=hold is not None)
    try:
        with os.fdopen(fd, "wb", closefd=hold is None) as handle:
            handle.write(data)
    except BaseException:
        temporary.unlink(missing_ok=True)
        if hold is not None:
            os.close(fd)
        raise
    if hold is not None:
        hold.callback(os.close, fd)
    return temporary


def _new_temporary(root: Path, *, held: bool) -> tuple[Path, int]:
    """Create a temporary file; when `held`, locked, and never one a sweep already removed
    (a sweep may open and delete it between its creation and the `flock`)."""
    while True:
        temporary = root / f"{TEMP_PREFIX}{secrets.token_hex(8)}.json"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        if not held:
            return temporary, fd
        fcntl.flock(fd, fcntl.LOCK_EX)
        if os.fstat(fd).st_nlink:
            return temporary, fd
        os.close(fd)


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
    """Delete temporary files left by a crashed or failed writer; call only under the exclusive
    lock. A temporary still `flock`ed was staged ahead of the lock by a live writer: kept."""
    removed = []
    for path in root.glob(f"{TEMP_PREFIX}*"):
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            path.unlink(missing_ok=True)  # before the flock goes: see `_new_temporary`
        except BlockingIOError:
            continue
        finally:
            os.close(fd)
        removed.append(path)
    return removed
