"""The filesystemdb tree (artdaqdb.md §5.1–§5.5): collections, documents, SystemMetadata.

Databases the project creates look exactly like ones the C++ tools created, so DAQInterface and
the C++ tools keep working on them.
"""

import getpass
import os
import time
from dataclasses import dataclass
from pathlib import Path

from app.fhicl.pairs import JsonObject, Pairs
from app.stores.artdaqdb.dialect import (
    DialectError,
    ascii_only,
    dumps,
    loads,
    loads_first_object,
    loads_for_lookup,
)
from app.stores.artdaqdb.document import random_object_id
from app.stores.artdaqdb.errors import ArtdaqStoreError
from app.stores.artdaqdb.fsio import atomic_write, fsync_directory
from app.stores.artdaqdb.index import EMPTY_INDEX_TEXT
from app.stores.artdaqdb.naming import SYSTEM_METADATA
from app.stores.artdaqdb.timestamps import format_timestamp

INDEX_NAME = "index.json"
READ_ATTEMPTS = 4
READ_RETRY_DELAY = 0.05


class DocumentCorruptError(ArtdaqStoreError):
    """A document file that stays unparsable after the transient-read retries."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: unreadable document ({reason})")
        self.path = path
        self.reason = reason


def collections(root: Path) -> list[str]:
    """Every sub-directory of the root: the C++ tools treat each one as a collection."""
    if not root.is_dir():
        return []
    return sorted(entry.name for entry in root.iterdir() if entry.is_dir())


def index_path(root: Path, collection: str) -> Path:
    """`<root>/<collection>/index.json`."""
    return root / collection / INDEX_NAME


def document_path(root: Path, collection: str, oid: str) -> Path:
    """`<root>/<collection>/<oid>.json`."""
    return root / collection / f"{oid}.json"


def system_metadata(uri: str, oid: str) -> Pairs:
    """The database-description document the C++ tools write on first connection (§5.5)."""
    uname = os.uname()
    try:
        user = getpass.getuser()
    except OSError:
        user = "unknown"
    document = Pairs(
        [
            ("name", "artdaq"),
            ("uri", uri),
            ("locale", "en_US.UTF-8"),
            ("create_time", format_timestamp()),
            ("create_user", user),
            (
                "uname",
                Pairs(
                    [
                        ("sysname", uname.sysname),
                        ("nodename", uname.nodename),
                        ("release", uname.release),
                        ("version", uname.version),
                        ("machine", uname.machine),
                    ]
                ),
            ),
            ("database_format", 3),
        ]
    )
    record, _ = ascii_only(Pairs([("document", document), ("_id", Pairs([("$oid", oid)]))]))
    return record


def ensure_collection(root: Path, collection: str) -> None:
    """Create a collection directory with the C++ initial `index.json` text, byte for byte."""
    directory = root / collection
    if not directory.is_dir():
        directory.mkdir(mode=0o755)
        fsync_directory(root)
    if not index_path(root, collection).exists():
        atomic_write(root, index_path(root, collection), EMPTY_INDEX_TEXT.encode("ascii"))


def require_root(root: Path) -> None:
    """Readers of one run need an existing database; say which root is missing."""
    if not root.is_dir():
        raise ArtdaqStoreError(f"{root}: database root does not exist")


def ensure_root(root: Path) -> None:
    """Create the database root (not its parents: a missing parent is usually an unmounted disk)."""
    if not root.parent.is_dir():
        raise FileNotFoundError(f"{root.parent}: parent of the database root does not exist")
    root.mkdir(mode=0o755, exist_ok=True)


def ensure_database(root: Path, uri: str) -> None:
    """Create SystemMetadata like a first C++ connection does; call under the exclusive lock."""
    if not (root / SYSTEM_METADATA).is_dir():
        (root / SYSTEM_METADATA).mkdir(mode=0o755)
        oid = random_object_id()
        text = dumps(system_metadata(uri, oid))
        atomic_write(root, document_path(root, SYSTEM_METADATA, oid), text.encode("ascii"))
    ensure_collection(root, SYSTEM_METADATA)


@dataclass(frozen=True)
class StoredRecord:
    """A document read from disk; `dialect_problem` says why a strict parse failed, if it did."""

    record: JsonObject
    dialect_problem: str | None = None


def parse_record(text: str, *, ordered: bool = True) -> StoredRecord:
    """Parse a document strictly, falling back to the tolerant reader for old C++ records.

    `ordered=False` reads objects as dicts (faster) for callers that only look keys up.
    """
    try:
        return StoredRecord(loads(text) if ordered else loads_for_lookup(text))
    except DialectError as strict:
        record, trailing = loads_first_object(text)
        problem = str(strict) + (" (text after the record ignored)" if trailing else "")
        return StoredRecord(record, problem)


def read_record(path: Path, *, ordered: bool = True) -> StoredRecord:
    """Read a document, retrying first because a C++ writer may be rewriting it in place."""
    reason = ""
    for attempt in range(READ_ATTEMPTS):
        try:
            text = path.read_bytes().decode("utf-8", errors="replace")
            return parse_record(text, ordered=ordered)
        except DialectError as exc:
            reason = str(exc)
        if attempt + 1 < READ_ATTEMPTS:
            time.sleep(READ_RETRY_DELAY * (attempt + 1))
    raise DocumentCorruptError(path, reason)
