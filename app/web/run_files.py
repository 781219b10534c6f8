"""A run's files as the stores hold them: the artdaq_database export (converted FHiCL), the
UconDB blob unpacked, and how the two differ (the export re-packed with the stored blob's stamp
and compared with `app.pipeline.blob.compare`, then a unified diff per differing file)."""

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from app.pipeline.blob import BlobError, UnpackedBlob, compare, pack, unpack
from app.pipeline.context import PipelineContext
from app.redact import redact
from app.stores.artdaqdb.backend import ArtdaqStore
from app.stores.artdaqdb.results import ExportResult
from app.stores.ucondb.checksums import BlobChecksums, checksums_of
from app.stores.ucondb.client import UconDBClient

SHOWN_BYTES = 512 * 1024
DIFF_LINES = 2000
T = TypeVar("T")


@dataclass(frozen=True)
class Fetched(Generic[T]):
    """What a store call returned, or why it could not (redacted)."""

    value: T | None
    error: str | None


def fetch(call: Callable[[], T], secrets: list[str | None]) -> Fetched[T]:
    """Run a store call; any failure becomes a message an operator can act on."""
    try:
        return Fetched(call(), None)
    except Exception as exc:  # a store's failure is shown on the page, never a 500
        return Fetched(None, redact(f"{type(exc).__name__}: {exc}", secrets))


@dataclass(frozen=True)
class ArchivedBlob:
    """The bytes UconDB holds under the run's key, their checksums and the unpacked files."""

    data: bytes
    checksums: BlobChecksums
    unpacked: UnpackedBlob | None
    unreadable: str | None


def exported(store: ArtdaqStore, run: int, config_name: str) -> ExportResult:
    """The run as artdaq_database exports it for packing."""
    return store.export_run(run, config_name)


def archived(client: UconDBClient, run: int) -> ArchivedBlob | None:
    """The run's blob from UconDB, unpacked when it can be; None when the key is absent."""
    data = client.download(run)
    if data is None:
        return None
    try:
        return ArchivedBlob(data, checksums_of(data), unpack(data), None)
    except BlobError as exc:
        return ArchivedBlob(data, checksums_of(data), None, str(exc))


def as_text(data: bytes, *, limit: int = SHOWN_BYTES) -> tuple[str | None, bool]:
    """The first `limit` bytes as text (None when they are not UTF-8) and whether cut short."""
    try:
        return data[:limit].decode("utf-8"), len(data) > limit
    except UnicodeDecodeError as exc:
        if len(data) > limit and exc.start >= limit - 3:
            return data[: exc.start].decode("utf-8"), True
        return None, len(data) > limit


@dataclass(frozen=True)
class FileDiff:
    """One file that differs: `changed` (with diff lines), `missing` from UconDB, or `extra`."""

    name: str
    status: str
    lines: list[str]
    truncated: bool


@dataclass(frozen=True)
class Comparison:
    """How the UconDB blob compares with the export re-packed under the blob's stamp."""

    identical: bool
    stamp_only: bool
    unreadable: str | None
    files: list[FileDiff]


def _diff_lines(name: str, ours: bytes, theirs: bytes) -> tuple[list[str], bool]:
    left = ours.decode("utf-8", "replace").splitlines()
    right = theirs.decode("utf-8", "replace").splitlines()
    lines = list(
        difflib.unified_diff(
            left, right, f"artdaq_database/{name}", f"ucondb/{name}", lineterm="", n=2
        )
    )
    return lines[:DIFF_LINES], len(lines) > DIFF_LINES


def compare_stores(run: int, export: ExportResult, blob: ArchivedBlob) -> Comparison:
    """Compare what artdaq_database exports now with what UconDB holds for the run.

    Raises BlobError when the export cannot be packed (the page says why).
    """
    if blob.unpacked is None:
        return Comparison(False, False, blob.unreadable, [])
    ours = pack(run, sorted(export.files.items()), blob.unpacked.stamp)
    difference = compare(ours.data, blob.data)
    if difference.identical or difference.stamp_only or difference.unreadable:
        return Comparison(difference.identical, difference.stamp_only, difference.unreadable, [])
    mine = {name.lower(): content for name, content in unpack(ours.data).files}
    stored = {name.lower(): content for name, content in blob.unpacked.files}
    files = []
    for name in difference.changed:
        lines, cut = _diff_lines(name, mine[name.lower()], stored[name.lower()])
        files.append(FileDiff(name, "changed", lines, cut))
    files += [FileDiff(name, "missing", [], False) for name in difference.missing]
    files += [FileDiff(name, "extra", [], False) for name in difference.extra]
    return Comparison(False, False, None, files)


def compare_run(
    ctx: PipelineContext, run: int, config_name: str | None, secrets: list[str | None]
) -> tuple[Comparison | None, str | None]:
    """Fetch both stores' copies of the run and compare them; or say why that cannot be done."""
    if not config_name:
        return None, "the run has not been imported, so there is nothing to compare"
    export = fetch(lambda: exported(ctx.store, run, config_name), secrets)
    if export.value is None:
        return None, f"artdaq_database: {export.error}"
    blob = fetch(lambda: archived(ctx.ucondb, run), secrets)
    if blob.error:
        return None, f"UconDB: {blob.error}"
    if blob.value is None:
        return None, "UconDB holds nothing for this run yet"
    export_files, stored = export.value, blob.value
    compared = fetch(lambda: compare_stores(run, export_files, stored), secrets)
    if compared.value is None:
        return None, f"cannot re-pack the export: {compared.error}"
    return compared.value, None


class FileUnavailableError(LookupError):
    """A store cannot show the file: `unreachable` says whether the store failed (vs. absent)."""

    def __init__(self, message: str, *, unreachable: bool) -> None:
        super().__init__(message)
        self.unreachable = unreachable


def store_file(
    ctx: PipelineContext,
    run: int,
    *,
    source: str,
    name: str,
    config_name: str | None,
    secrets: list[str | None],
) -> bytes:
    """One file of the run from the artdaq_database export or the unpacked UconDB blob."""
    files: dict[str, bytes] = {}
    if source == "artdaqdb":
        if not config_name:
            raise FileUnavailableError(f"run {run} is not imported", unreachable=False)
        export = fetch(lambda: exported(ctx.store, run, config_name), secrets)
        if export.value is None:
            raise FileUnavailableError(f"artdaq_database: {export.error}", unreachable=True)
        files = export.value.files
    else:
        blob = fetch(lambda: archived(ctx.ucondb, run), secrets)
        if blob.error:
            raise FileUnavailableError(f"UconDB: {blob.error}", unreachable=True)
        if blob.value is not None and blob.value.unpacked is not None:
            files = dict(blob.value.unpacked.files)
    if name not in files:
        raise FileUnavailableError(
            f"run {run}: {source} holds no file named {name!r}", unreachable=False
        )
    return files[name]
