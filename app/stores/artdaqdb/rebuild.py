"""Rebuild every collection index from its documents, like `rebuild_database_index` (§5.6).

Only an operator runs this (never automatically, §7 rule 5). Unlike the C++ tool it replaces each
index atomically, skips files that are not `<oid>.json` documents, and leaves out timestamps that
would make the C++ `findconfigs` throw for everybody.
"""

import re
from pathlib import Path

from app.stores.artdaqdb.fsio import atomic_write, database_lock, remove_stale_temporaries
from app.stores.artdaqdb.index import (
    EMPTY_INDEX_TEXT,
    IndexCorruptError,
    IndexEntry,
    add_entry,
    empty_index,
    entry_for,
    read_index,
    render_index,
)
from app.stores.artdaqdb.layout import (
    INDEX_NAME,
    DocumentCorruptError,
    collections,
    index_path,
    read_record,
    require_root,
)
from app.stores.artdaqdb.naming import SYSTEM_METADATA
from app.stores.artdaqdb.results import RebuildReport
from app.stores.artdaqdb.timestamps import is_timestamp

_OID = re.compile(r"[0-9a-f]{24}")


def _without_bad_stamps(entry: IndexEntry, path: Path, warnings: list[str]) -> IndexEntry:
    kept = []
    for name, assigned in entry.configurations:
        if assigned is not None and not is_timestamp(assigned):
            warnings.append(
                f"{path}: configuration {name!r} assigned {assigned!r} is not a §3.6 timestamp;"
                " left out of configurations.assigned"
            )
            assigned = None
        kept.append((name, assigned))
    return IndexEntry(
        entry.oid, entry.version, tuple(kept), entry.entities, entry.aliases, entry.runs
    )


def _rebuild_collection(
    root: Path, collection: str, skipped: list[str], warnings: list[str]
) -> int:
    index = empty_index()
    count = 0
    for path in sorted((root / collection).iterdir()):
        if path.name == INDEX_NAME:
            continue
        if not path.is_file() or path.suffix != ".json" or not _OID.fullmatch(path.stem):
            skipped.append(f"{path}: not an <oid>.json document file")
            continue
        try:
            stored = read_record(path)
        except DocumentCorruptError as exc:
            skipped.append(f"{path}: {exc.reason}")
            continue
        add_entry(index, _without_bad_stamps(entry_for(path.stem, stored.record), path, warnings))
        count += 1
    atomic_write(root, index_path(root, collection), render_index(index).encode("ascii"))
    return count


def _keep_metadata_index(root: Path) -> None:
    path = index_path(root, SYSTEM_METADATA)
    if path.exists():
        try:
            read_index(path)
            return
        except IndexCorruptError:
            pass
    atomic_write(root, path, EMPTY_INDEX_TEXT.encode("ascii"))


def rebuild_indexes(root: Path) -> RebuildReport:
    """Replace every collection's index with one built from its documents.

    SystemMetadata keeps its (empty) index, which is only re-created when missing or unreadable.
    """
    require_root(root)
    skipped: list[str] = []
    warnings: list[str] = []
    indexed: dict[str, int] = {}
    with database_lock(root, exclusive=True):
        remove_stale_temporaries(root)
        for collection in collections(root):
            if collection == SYSTEM_METADATA:
                _keep_metadata_index(root)
                continue
            indexed[collection] = _rebuild_collection(root, collection, skipped, warnings)
    return RebuildReport(indexed, tuple(skipped), tuple(warnings))
