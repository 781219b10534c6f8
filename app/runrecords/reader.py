"""Reading one run directory as bytes: streamed, size-limited, hashed (run-records.md §2, §2.9).

Import reads a record with `read_record`; the scanner re-hashes archived records with
`hash_record`. Both list the same files and hash them the same way, so a record's content hash
means the same thing wherever it was computed.
"""

import codecs
import errno
import hashlib
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from app.runrecords.runnumbers import is_hidden
from app.vocabulary import ErrorKind

CHUNK_BYTES = 1 << 20
_SURROGATES = re.compile("[\udc80-\udcff]")


class RecordError(Exception):
    """A run record that cannot be read as it is; the message names the run and file."""

    kind = ErrorKind.SOURCE

    def __init__(
        self, message: str, *, run_dir: Path, file: str | None = None, permanent: bool = False
    ) -> None:
        super().__init__(message)
        self.run_dir = run_dir
        self.file = file
        self.permanent = permanent


@dataclass(frozen=True)
class RecordWarning:
    """Something odd that is kept or reported rather than failing the run."""

    code: str
    file: str
    detail: str


@dataclass(frozen=True)
class RunRecord:
    """A run directory's top-level files (name → exact bytes, sorted by name) and their hash."""

    run_dir: Path
    files: dict[str, bytes]
    content_hash: str
    total_bytes: int
    warnings: tuple[RecordWarning, ...]


@dataclass(frozen=True)
class _Entry:
    name: str
    path: Path


def read_record(run_dir: Path, *, max_file_bytes: int, max_run_bytes: int) -> RunRecord:
    """All files of a run, exact bytes; fails with `RecordError` past either size limit."""
    warnings: list[RecordWarning] = []
    files: dict[str, bytes] = {}
    digests: dict[str, bytes] = {}
    total = 0
    for entry in _record_files(run_dir, warnings):
        collector = _Collector()
        budget = min(max_file_bytes, max_run_bytes - total)
        try:
            digests[entry.name], size = _stream(run_dir, entry, limit=budget, sink=collector)
        except _OverLimit:
            raise _size_error(run_dir, entry.name, max_file_bytes, max_run_bytes, total) from None
        total += size
        files[entry.name] = collector.data()
        if bad := collector.undecodable():
            warnings.append(
                RecordWarning(
                    "non_utf8", entry.name, f"{bad} byte(s) are not valid UTF-8 (kept as they are)"
                )
            )
    return RunRecord(
        run_dir=run_dir,
        files=files,
        content_hash=combine_digests(digests),
        total_bytes=total,
        warnings=tuple(warnings),
    )


def hash_record(run_dir: Path) -> str:
    """The content hash of a run directory, streamed without keeping its bytes or any limit."""
    digests: dict[str, bytes] = {}
    for entry in _record_files(run_dir, []):
        digests[entry.name], _ = _stream(run_dir, entry, limit=None, sink=None)
    return combine_digests(digests)


def combine_digests(digests: dict[str, bytes]) -> str:
    """sha256 over `name NUL sha256(bytes)` for each file in name order: order- and split-proof."""
    outer = hashlib.sha256()
    for name in sorted(digests):
        outer.update(os.fsencode(name) + b"\0" + digests[name])
    return outer.hexdigest()


def _record_files(run_dir: Path, warnings: list[RecordWarning]) -> Iterator[_Entry]:
    """Regular top-level files in name order; hidden entries skipped, others warned about."""
    real_dir = Path(os.path.realpath(run_dir))
    try:
        with os.scandir(run_dir) as listing:
            entries = sorted(listing, key=lambda e: e.name)
    except OSError as exc:
        raise RecordError(
            f"run directory {run_dir} cannot be listed: {exc.strerror or exc}", run_dir=run_dir
        ) from exc
    for entry in entries:
        if is_hidden(entry.name):
            continue
        path = Path(entry.path)
        if entry.is_symlink():
            path = _inside_target(run_dir, real_dir, entry.name)
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            raise _unreadable(run_dir, entry.name, exc) from exc
        if stat.S_ISREG(mode):
            yield _Entry(entry.name, path)
        elif stat.S_ISDIR(mode):
            warnings.append(
                RecordWarning(
                    "subdirectory",
                    entry.name,
                    "subdirectory not archived (DAQInterface never creates subdirectories)",
                )
            )
        else:
            warnings.append(
                RecordWarning("special_file", entry.name, "not a regular file; not archived")
            )


def _inside_target(run_dir: Path, real_dir: Path, name: str) -> Path:
    """The target of a symlink in the run directory, refused when it leads outside it."""
    target = Path(os.path.realpath(run_dir / name))
    if not target.is_relative_to(real_dir) or target == real_dir:
        raise RecordError(
            f"{run_dir / name}: symbolic link leads outside the run directory (to {target})",
            run_dir=run_dir,
            file=name,
            permanent=True,
        )
    return target


def _stream(
    run_dir: Path,
    entry: _Entry,
    *,
    limit: int | None,
    sink: "_Collector | None",
) -> tuple[bytes, int]:
    """Read a file in chunks, hashing as it goes; counts bytes read, not what stat claimed."""
    digest = hashlib.sha256()
    size = 0
    try:
        with entry.path.open("rb", buffering=0) as handle:
            if limit is not None and os.fstat(handle.fileno()).st_size > limit:
                raise _OverLimit
            while chunk := handle.read(CHUNK_BYTES):
                size += len(chunk)
                if limit is not None and size > limit:
                    raise _OverLimit
                digest.update(chunk)
                if sink:
                    sink.feed(chunk)
    except OSError as exc:
        raise _unreadable(run_dir, entry.name, exc) from exc
    return digest.digest(), size


_PERMANENT_ERRNOS = frozenset({errno.ELOOP, errno.ENOENT, errno.ENOTDIR})


def _unreadable(run_dir: Path, name: str, exc: OSError) -> RecordError:
    """A file that cannot be read; a dangling or looping link will not heal by retrying."""
    return RecordError(
        f"{run_dir / name}: cannot be read: {exc.strerror or exc}",
        run_dir=run_dir,
        file=name,
        permanent=exc.errno in _PERMANENT_ERRNOS,
    )


def _size_error(
    run_dir: Path, name: str, max_file_bytes: int, max_run_bytes: int, used: int
) -> RecordError:
    """The size error for a file, naming whichever limit it hit first."""
    if max_file_bytes <= max_run_bytes - used:
        message = (
            f"{run_dir / name}: file is larger than the per-file limit of {max_file_bytes} bytes"
        )
    else:
        message = (
            f"{run_dir}: run is larger than the per-run limit of {max_run_bytes} bytes "
            f"(reached while reading {name})"
        )
    return RecordError(message, run_dir=run_dir, file=name, permanent=True)


class _OverLimit(Exception):
    """Raised inside `_stream` when a size budget is exceeded; turned into a `RecordError`."""


class _Collector:
    """Keeps a file's chunks and counts bytes that are not valid UTF-8 across chunk borders."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
        self._bad = 0

    def feed(self, chunk: bytes) -> None:
        self._chunks.append(chunk)
        self._bad += len(_SURROGATES.findall(self._decoder.decode(chunk)))

    def data(self) -> bytes:
        return b"".join(self._chunks)

    def undecodable(self) -> int:
        """Bad bytes seen, including an incomplete sequence at end of file."""
        return self._bad + len(_SURROGATES.findall(self._decoder.decode(b"", final=True)))
