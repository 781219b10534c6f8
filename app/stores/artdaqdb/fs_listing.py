"""Cheap listings of a filesystemdb (artdaqdb.md §11.5): indexes only, no document opened."""

from pathlib import Path

from app.stores.artdaqdb.fsio import database_lock
from app.stores.artdaqdb.index import read_index
from app.stores.artdaqdb.layout import index_path
from app.stores.artdaqdb.naming import RUN_HISTORY, check_run, is_canonical_run, split_configuration
from app.stores.artdaqdb.results import RunConfigurations, RunListing, StoredDocument
from app.stores.artdaqdb.snapshot import IndexSnapshot


def list_runs(root: Path) -> RunListing:
    """Run numbers from the keys of `RunHistory/index.json` `runs.name` (one file read)."""
    if not root.is_dir():
        return RunListing(())
    with database_lock(root, exclusive=False):
        keys = list(read_index(index_path(root, RUN_HISTORY))["runs.name"])
    runs = sorted(int(key) for key in keys if is_canonical_run(key))
    anomalies = tuple(
        f"RunHistory runs.name key {key!r} is not a run number (1..2147483647)"
        for key in sorted(keys)
        if not is_canonical_run(key)
    )
    return RunListing(tuple(runs), anomalies)


def run_configurations(root: Path) -> RunConfigurations:
    """run → configuration names, from `configurations.name` of every collection index."""
    if not root.is_dir():
        return RunConfigurations({})
    with database_lock(root, exclusive=False):
        snapshot = IndexSnapshot.load(root)
    by_run: dict[int, set[str]] = {}
    anomalies: list[str] = []
    for name in snapshot.configurations_with_prefix(""):
        parts = split_configuration(name)
        if parts is None:
            continue
        digits, _ = parts
        if not is_canonical_run(digits):
            anomalies.append(f"configuration {name!r}: run number {digits!r} is not canonical")
            if int(digits) == 0:
                continue
        by_run.setdefault(int(digits), set()).add(name)
    for run, names in sorted(by_run.items()):
        if len(names) > 1:
            anomalies.append(f"run {run} has {len(names)} configurations: {sorted(names)}")
    return RunConfigurations(
        {run: tuple(sorted(names)) for run, names in sorted(by_run.items())}, tuple(anomalies)
    )


def run_documents(root: Path, run: int) -> tuple[StoredDocument, ...]:
    """The indexed documents of one run, described from the indexes alone."""
    run_text = check_run(run)
    if not root.is_dir():
        return ()
    with database_lock(root, exclusive=False):
        snapshot = IndexSnapshot.load(root)
    return tuple(snapshot.documents_of_run(run_text))
