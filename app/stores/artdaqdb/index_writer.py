"""Index updates the way §7 demands: under the lock, re-read first, confirmed afterwards.

The C++ tools rewrite `index.json` without locking, so an entry the project wrote may vanish;
confirming after the write and re-adding what is missing keeps the project's documents listed.
"""

from pathlib import Path

from app.stores.artdaqdb.errors import ArtdaqStoreError
from app.stores.artdaqdb.fsio import atomic_write
from app.stores.artdaqdb.index import IndexEntry, add_entry, has_entry, read_index, render_index
from app.stores.artdaqdb.layout import index_path

INDEX_CONFIRM_ATTEMPTS = 3


def update_index(root: Path, collection: str, entries: list[IndexEntry]) -> None:
    """Read-modify-write one index under the lock, then confirm the entries stayed (§7)."""
    path = index_path(root, collection)
    for attempt in range(INDEX_CONFIRM_ATTEMPTS + 1):
        index = read_index(path)
        missing = [entry for entry in entries if not has_entry(index, entry)]
        if not missing:
            return
        if attempt == INDEX_CONFIRM_ATTEMPTS:
            break
        for entry in missing:
            add_entry(index, entry)
        atomic_write(root, path, render_index(index).encode("ascii"))
    raise ArtdaqStoreError(
        f"{path}: index entries keep disappearing after being written; a C++ tool is probably"
        " writing to this database at the same time"
    )
