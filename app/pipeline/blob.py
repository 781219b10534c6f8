"""The UconDB run blob (spec/blob.md): pack a run's exported files once, unpack any blob.

Packing is a pure function of (run, files, stamp), so `PackingInputs` is all a retry needs to
rebuild byte-identical bytes. The packer refuses anything a reader could misread instead of
writing a lossy or ambiguous blob; the unpacker also reads blobs the legacy tool wrote.
"""

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.stores.ucondb.checksums import BlobChecksums, checksums_of

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
TAIL_FILES = (
    "boot.fcl",
    "known_boardreaders_list.fcl",
    "setup.fcl",
    "environment.fcl",
    "metadata.fcl",
    "settings.fcl",
    "ranks.fcl",
    "RunHistory.fcl",
    "RunHistory2.fcl",
)
DEFAULT_MAX_BLOB_BYTES = 200 * 1024 * 1024
INPUTS_FORMAT = 1

_TAIL_RANK = {name.lower(): rank for rank, name in enumerate(TAIL_FILES)}
_STAMP = re.compile(
    r"(?:" + "|".join(MONTHS) + r") (?:0[1-9]|[12]\d|3[01]) (?:[01]\d|2[0-3]):[0-5]\d UTC"
)
_HEADER = re.compile(rb"Start of Record\nRun Number: (\d+)\nPacked on ([^\n]*)\n")
_FOOTER = re.compile(rb"\nEnd of Record\nRun Number: (\d+)\nPacked on ([^\n]*)\n")
_FOOTER_START = b"\nEnd of Record\nRun Number: "
_MARKER = re.compile(rb"\n#####\n([^\n]+?):\n#####\n")
_END_OF_RECORD = b"\nEnd of Record\n"
_MARKER_LIKE_START = (b"#####", b"End of Record")
# Anchored on its literal first byte, so re skips ahead instead of trying every position.
_MARKER_LIKE_LINE = re.compile(rb"\n(?:#####|End of Record)")
_MIB = 1024 * 1024


class BlobError(ValueError):
    """A run cannot be packed, or bytes are not a blob; retrying does not help (kind `source`)."""

    kind = "source"

    def __init__(self, run: int | None, code: str, message: str) -> None:
        super().__init__(message)
        self.run = run
        self.code = code


@dataclass(frozen=True)
class BlobWarning:
    """Something packed or read as is that a less careful reader may mishandle."""

    code: str
    name: str
    message: str


@dataclass(frozen=True)
class BlobFile:
    """One packed file: where it came from, the header name, and its size and SHA-256."""

    path: str
    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class PackingInputs:
    """Everything that determines a blob's bytes besides the file contents, plus their hashes."""

    run: int
    stamp: str
    files: tuple[BlobFile, ...]
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable form for the ledger."""
        return {
            "format": INPUTS_FORMAT,
            "run": self.run,
            "stamp": self.stamp,
            "sha256": self.sha256,
            "files": [
                {"path": f.path, "name": f.name, "size": f.size, "sha256": f.sha256}
                for f in self.files
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "PackingInputs":
        """Read back what `to_dict` wrote; anything else is a clear error, not a guess."""
        if data.get("format") != INPUTS_FORMAT:
            raise ValueError(f"packing inputs: unsupported format {data.get('format')!r}")
        try:
            files = tuple(
                BlobFile(str(f["path"]), str(f["name"]), int(f["size"]), str(f["sha256"]))
                for f in data["files"]
            )
            return cls(int(data["run"]), str(data["stamp"]), files, str(data["sha256"]))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"packing inputs: malformed record ({exc!r})") from None


@dataclass(frozen=True)
class PackedBlob:
    """The bytes to upload, their checksums, how to rebuild them, and what to warn about."""

    data: bytes
    checksums: BlobChecksums
    inputs: PackingInputs
    warnings: tuple[BlobWarning, ...]


@dataclass(frozen=True)
class UnpackedBlob:
    """A blob read back: run, stamps, and the files in blob order (names decoded, bytes as is)."""

    run: int
    stamp: str
    files: tuple[tuple[str, bytes], ...]
    warnings: tuple[BlobWarning, ...]


@dataclass(frozen=True)
class BlobDifference:
    """How a stored blob differs from ours, for a conflict report to an operator."""

    identical: bool
    stamp_only: bool
    changed: tuple[str, ...]
    missing: tuple[str, ...]
    extra: tuple[str, ...]
    unreadable: str | None

    def summary(self) -> str:
        """One line for the run's event log."""
        if self.unreadable is not None:
            return f"stored blob is not readable as a run blob: {self.unreadable}"
        if self.identical:
            return "stored blob is identical"
        if self.stamp_only:
            return "stored blob differs only in the 'Packed on' lines (same files, same bytes)"
        parts = [
            f"{label}: {', '.join(names)}"
            for label, names in (
                ("changed", self.changed),
                ("only in ours", self.missing),
                ("only in stored", self.extra),
            )
            if names
        ]
        return "stored blob differs in the files (" + "; ".join(parts or ["file order"]) + ")"


def format_stamp(moment: datetime) -> str:
    """`Oct 01 20:52 UTC` for `moment` (naive means UTC), independent of the process locale."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment
    return f"{MONTHS[utc.month - 1]} {utc.day:02d} {utc.hour:02d}:{utc.minute:02d} UTC"


def pack(
    run: int,
    files: Sequence[tuple[str, bytes]],
    stamp: str,
    *,
    max_bytes: int = DEFAULT_MAX_BLOB_BYTES,
) -> PackedBlob:
    """Pack `files` (export-relative path, raw bytes) for `run` in blob.md §2 order with `stamp`.

    Raises `BlobError` for everything blob.md §7.4 refuses; the bytes are never re-encoded.
    """
    _check_run(run)
    if not _STAMP.fullmatch(stamp):
        message = f"run {run}: stamp {stamp!r} is not like 'Oct 01 20:52 UTC'"
        raise BlobError(run, "bad_stamp", message)
    entries = sorted(_named_entries(run, files), key=_order_key)
    header = f"Start of Record\nRun Number: {run}\nPacked on {stamp}\n".encode("ascii")
    footer = f"\nEnd of Record\nRun Number: {run}\nPacked on {stamp}\n".encode("ascii")
    markers = [b"\n#####\n" + name.encode("utf-8") + b":\n#####\n" for _, name, _ in entries]
    size = len(header) + len(footer) + sum(map(len, markers))
    size += sum(len(content) for _, _, content in entries)
    if size > max_bytes:
        message = f"run {run}: blob is {_size_text(size)}, limit {_size_text(max_bytes)}"
        raise BlobError(run, "too_large", message)
    parts = [header]
    regions: list[tuple[str, int, int]] = []
    offset = len(header)
    for marker, (_, name, content) in zip(markers, entries, strict=True):
        parts += (marker, content)
        offset += len(marker)
        regions.append((name, offset, offset + len(content)))
        offset += len(content)
    parts.append(footer)
    data = b"".join(parts)
    _check_readable(run, data, regions)
    described = tuple(
        BlobFile(path, name, len(content), hashlib.sha256(content).hexdigest())
        for path, name, content in entries
    )
    checksums = checksums_of(data)
    return PackedBlob(
        data=data,
        checksums=checksums,
        inputs=PackingInputs(run, stamp, described, checksums.sha256),
        warnings=tuple(w for _, n, content in entries for w in _content_warnings(run, n, content)),
    )


def rebuild(
    inputs: PackingInputs,
    files: Sequence[tuple[str, bytes]],
    *,
    max_bytes: int = DEFAULT_MAX_BLOB_BYTES,
) -> PackedBlob:
    """Rebuild the blob recorded in `inputs` from `files` (same stamp); refuse other bytes.

    This is how a retry gets its bytes back without storing them; a re-pack with a new stamp
    is a different, operator-requested thing (blob.md §7.2).
    """
    packed = pack(inputs.run, files, inputs.stamp, max_bytes=max_bytes)
    if packed.checksums.sha256 == inputs.sha256:
        return packed
    recorded = {f.name: f.sha256 for f in inputs.files}
    now = {f.name: f.sha256 for f in packed.inputs.files}
    changed = sorted(n for n in recorded.keys() & now.keys() if recorded[n] != now[n])
    detail = "; ".join(
        f"{label}: {', '.join(names)}"
        for label, names in (
            ("changed", changed),
            ("missing", sorted(recorded.keys() - now.keys())),
            ("new", sorted(now.keys() - recorded.keys())),
        )
        if names
    )
    raise BlobError(
        inputs.run,
        "inputs_changed",
        f"run {inputs.run}: the files no longer reproduce the recorded blob ({detail or 'order'}); "
        "re-packing needs an explicit operator request",
    )


def unpack(data: bytes) -> UnpackedBlob:
    """Read a blob with the reference algorithm of blob.md §4; contents stay bytes."""
    run, stamp, footer_stamp, sections = _parse(data)
    warnings: list[BlobWarning] = []
    if footer_stamp != stamp:
        warnings.append(
            BlobWarning(
                "footer_stamp_differs",
                "",
                f"run {run}: footer stamp {footer_stamp!r} differs from header stamp {stamp!r}",
            )
        )
    files = []
    for raw_name, start, end in sections:
        try:
            name = raw_name.decode("utf-8")
        except UnicodeDecodeError:
            name = raw_name.decode("utf-8", "surrogateescape")
            message = f"run {run}: file name {raw_name!r} is not UTF-8"
            warnings.append(BlobWarning("name_not_utf8", name, message))
        files.append((name, data[start:end]))
    return UnpackedBlob(run, stamp, tuple(files), tuple(warnings))


def compare(ours: bytes, theirs: bytes) -> BlobDifference:
    """Tell an operator whether `theirs` differs from `ours` only in its stamp or in the files."""
    if ours == theirs:
        return BlobDifference(True, False, (), (), (), None)
    mine = unpack(ours)
    try:
        stored = unpack(theirs)
    except BlobError as exc:
        return BlobDifference(False, False, (), (), (), str(exc))
    if mine.files == stored.files and mine.run == stored.run:
        return BlobDifference(False, True, (), (), (), None)
    a = {name.lower(): (name, content) for name, content in mine.files}
    b = {name.lower(): (name, content) for name, content in stored.files}
    return BlobDifference(
        identical=False,
        stamp_only=False,
        changed=tuple(a[k][0] for k in a if k in b and a[k][1] != b[k][1]),
        missing=tuple(a[k][0] for k in a if k not in b),
        extra=tuple(b[k][0] for k in b if k not in a),
        unreadable=None,
    )


def _check_run(run: int) -> None:
    if isinstance(run, bool) or not isinstance(run, int) or run < 0:
        raise BlobError(None, "bad_run", f"run number {run!r} is not a non-negative integer")


def _named_entries(run: int, files: Sequence[tuple[str, bytes]]) -> list[tuple[str, str, bytes]]:
    """(path, header name, content) per file, refusing bad names and basename collisions."""
    seen: dict[str, str] = {}
    entries = []
    for path, content in files:
        if not isinstance(content, bytes | bytearray | memoryview):
            kind = type(content).__name__
            raise TypeError(f"run {run}: content of {path!r} must be bytes, not {kind}")
        name = path.rsplit("/", 1)[-1]
        if not name or "\n" in name or not _is_utf8(name):
            raise BlobError(
                run, "bad_name", f"run {run}: file name {path!r} cannot be written in a blob header"
            )
        key = name.lower()
        if key in seen:
            raise BlobError(
                run,
                "name_collision",
                f'run {run}: "{seen[key]}" and "{path}" both pack as "{key}"; refusing to pack '
                "(a blob carries basenames only)",
            )
        seen[key] = path
        entries.append((path, name, bytes(content)))
    if not entries:
        raise BlobError(run, "empty", f"run {run}: nothing to pack (export returned no files)")
    return entries


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _order_key(entry: tuple[str, str, bytes]) -> tuple[int, int, str]:
    """Sorted part by lower-cased basename first, then the tail list in its fixed order."""
    key = entry[1].lower()
    return (1, _TAIL_RANK[key], "") if key in _TAIL_RANK else (0, 0, key)


def _check_readable(run: int, data: bytes, regions: list[tuple[str, int, int]]) -> None:
    """Unpack what we built and require the exact regions back; no early end-of-record line."""
    _, _, _, sections = _parse(data)
    for (name, start, end), (_, got_start, got_end) in zip(regions, sections, strict=False):
        if (start, end) != (got_start, got_end):
            raise BlobError(
                run,
                "marker_in_content",
                f'run {run}: "{name}" contains a blob section marker at byte {got_end - start}; '
                "readers would split it; refusing to pack",
            )
    footer_at = regions[-1][2]
    early = data.find(_END_OF_RECORD, regions[0][1] - 1, footer_at + len(_END_OF_RECORD) - 1)
    if early != -1:
        name, start, _ = next(r for r in reversed(regions) if r[1] - 1 <= early)
        raise BlobError(
            run,
            "end_of_record_in_content",
            f'run {run}: "{name}" contains an "End of Record" line at byte {early + 1 - start}; '
            "readers would truncate it; refusing to pack",
        )


def _content_warnings(run: int, name: str, content: bytes) -> list[BlobWarning]:
    warnings = []
    try:
        content.decode("utf-8")
    except UnicodeDecodeError as exc:
        warnings.append(
            BlobWarning(
                "blob_not_utf8",
                name,
                f'run {run}: "{name}" is not valid UTF-8 (byte {exc.start}); packed as is',
            )
        )
    at = _marker_like_line(content)
    if at is not None:
        warnings.append(
            BlobWarning(
                "marker_like_line",
                name,
                f'run {run}: "{name}" has a line starting like a blob marker at byte {at}; '
                "the legacy --validate reader would truncate it",
            )
        )
    return warnings


def _marker_like_line(content: bytes) -> int | None:
    """Where the first line starting like a blob marker begins, if any."""
    if content.startswith(_MARKER_LIKE_START):
        return 0
    line = _MARKER_LIKE_LINE.search(content)
    return None if line is None else line.start() + 1


def _parse(data: bytes) -> tuple[int, str, str, list[tuple[bytes, int, int]]]:
    """Run, header stamp, footer stamp and (raw name, content start, content end) per file."""
    header = _HEADER.match(data)
    if header is None:
        raise BlobError(
            None,
            "bad_header",
            "not a run blob: it does not start with the "
            "'Start of Record' / 'Run Number:' / 'Packed on' header",
        )
    run = int(header[1])
    footer_at = data.rfind(_FOOTER_START)
    footer = _FOOTER.fullmatch(data, footer_at) if footer_at >= header.end() - 1 else None
    if footer is None:
        raise BlobError(
            run,
            "bad_footer",
            f"run {run}: blob does not end with the "
            "'End of Record' / 'Run Number:' / 'Packed on' footer",
        )
    if int(footer[1]) != run:
        raise BlobError(run, "bad_footer", f"run {run}: footer names run {int(footer[1])}")
    body_start = header.end()
    if not data.startswith(b"\n#####\n", body_start) or footer_at < body_start:
        raise BlobError(run, "no_files", f"run {run}: blob holds no file section")
    markers = list(_MARKER.finditer(data, body_start, footer_at))
    if not markers or markers[0].start() != body_start:
        raise BlobError(run, "bad_section", f"run {run}: the first file marker is malformed")
    sections = [
        (m[1], m.end(), nxt.start() if nxt is not None else footer_at)
        for m, nxt in zip(markers, [*markers[1:], None], strict=True)
    ]
    return run, header[2].decode("ascii", "replace"), footer[2].decode("ascii", "replace"), sections


def _size_text(size: int) -> str:
    return f"{size / _MIB:.0f} MiB" if size >= _MIB else f"{size} bytes"
