"""Completeness check of a run in a filesystemdb (artdaqdb.md §11.7).

Expected (what the project meant to store) is compared with the indexes and with the files on
disk. A file whose index entry was lost is re-indexed under the exclusive lock.
"""

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from app.fhicl.pairs import JsonObject, Pairs
from app.stores.artdaqdb.document import object_id, read_raw_block
from app.stores.artdaqdb.fsio import database_lock
from app.stores.artdaqdb.index import IndexEntry, entry_for, has_entry
from app.stores.artdaqdb.index_writer import update_index
from app.stores.artdaqdb.layout import (
    DocumentCorruptError,
    document_path,
    read_record,
    require_root,
)
from app.stores.artdaqdb.naming import (
    SCHEMA_ENTITY,
    UPDATE_ENTITY,
    check_run,
    check_stored_config_name,
    collection_for,
    resolve_configuration,
    update_rank,
)
from app.stores.artdaqdb.results import ExpectedFile, VerifyIssue, VerifyResult
from app.stores.artdaqdb.snapshot import IndexSnapshot


@dataclass
class _Findings:
    missing: list[VerifyIssue] = field(default_factory=list)
    extra: list[VerifyIssue] = field(default_factory=list)
    unindexed: list[VerifyIssue] = field(default_factory=list)
    mismatch: list[VerifyIssue] = field(default_factory=list)
    duplicate: list[VerifyIssue] = field(default_factory=list)
    unverifiable: list[VerifyIssue] = field(default_factory=list)
    reindex: dict[str, list[IndexEntry]] = field(default_factory=dict)


def _first_name(record: JsonObject, key: str) -> object:
    items = record.get(key)
    if isinstance(items, list) and items and isinstance(items[0], Pairs | dict):
        return items[0].get("name")
    return None


def _record_problems(
    record: JsonObject, oid: str, collection: str, identity: dict[str, str]
) -> list[str]:
    identifier = record.get("_id")
    problems = []
    if not isinstance(identifier, Pairs | dict) or identifier.get("$oid") != oid:
        problems.append(f"_id.$oid is not the file stem {oid}")
    if record.get("collection") != collection:
        problems.append(f"collection is {record.get('collection')!r}, not {collection!r}")
    actual = {
        "version": record.get("version"),
        "configurations": _first_name(record, "configurations"),
        "entities": _first_name(record, "entities"),
        "runs": _first_name(record, "runs"),
    }
    problems += [
        f"{key} is {actual[key]!r}, expected {value!r}"
        for key, value in identity.items()
        if actual[key] != value
    ]
    return problems


def _check_one(
    root: Path,
    snapshot: IndexSnapshot,
    findings: _Findings,
    entity: str,
    version: str,
    configuration: str,
    run: str,
    want: ExpectedFile,
) -> None:
    collection = collection_for(entity)
    own = object_id(collection, configuration, version, entity)
    indexed = snapshot.lookup(collection, configuration, version, entity)
    candidates = sorted(set(indexed) | {own})
    present = [oid for oid in candidates if document_path(root, collection, oid).is_file()]

    def issue(detail: str, oid: str | None = None) -> VerifyIssue:
        return VerifyIssue(entity, collection, version, oid, detail)

    for oid in indexed:
        if oid not in present:
            findings.missing.append(issue("indexed but the file is missing", oid))
    if not present:
        if not indexed:
            findings.missing.append(issue("neither indexed nor on disk"))
        return
    if len(present) > 1:
        findings.duplicate.append(issue(f"{len(present)} documents: {present}"))
        return
    oid = present[0]
    path = document_path(root, collection, oid)
    try:
        stored = read_record(path, ordered=False)
    except DocumentCorruptError as exc:
        findings.mismatch.append(issue(exc.reason, oid))
        return
    identity = {
        "version": version,
        "configurations": configuration,
        "entities": entity,
        "runs": run,
    }
    problems = _record_problems(stored.record, oid, collection, identity)
    if stored.dialect_problem:
        problems.append(f"not in the C++ dialect: {stored.dialect_problem}")
    raw = read_raw_block(stored.record)
    if raw.data is not None:
        sha = hashlib.sha256(raw.data).hexdigest()
        if (len(raw.data), sha) != (want.size, want.sha256):
            problems.append(f"raw block holds {len(raw.data)} bytes sha256 {sha}")
    elif raw.problem:
        problems.append(raw.problem)
    else:
        findings.unverifiable.append(issue("no raw block (written by a C++ tool)", oid))
    if problems:
        findings.mismatch.append(issue("; ".join(problems), oid))
    entry = entry_for(oid, stored.record)
    index = snapshot.indexes.get(collection)
    if index is None or not has_entry(index, entry):
        findings.unindexed.append(issue("file present, index entry missing", oid))
        findings.reindex.setdefault(collection, []).append(entry)


def _newest_update_version(snapshot: IndexSnapshot, configuration: str) -> str:
    versions = [
        document.version
        for document in snapshot.documents_of_configuration(configuration)
        if document.entity == UPDATE_ENTITY
        and update_rank(document.version, configuration) is not None
    ]
    if not versions:
        return f"{configuration}v1"
    return max(versions, key=lambda version: update_rank(version, configuration) or ())


def verify_run(
    root: Path, run: int, config_name: str, expected: Mapping[str, ExpectedFile], *, repair: bool
) -> VerifyResult:
    """Report missing, extra, unindexed, mismatched and duplicate documents of a run."""
    run_text = check_run(run)
    check_stored_config_name(config_name)
    wanted = f"{run_text}/{config_name}"
    wants = {entity: ExpectedFile(*value) for entity, value in expected.items()}
    findings = _Findings()
    require_root(root)
    with database_lock(root, exclusive=False):
        snapshot = IndexSnapshot.load(root)
    # Documents are read after the lock is released: the project renames each into place once
    # and never rewrites it, so only the indexes need the consistent view the lock gives.
    stored_names = snapshot.configurations_with_prefix(f"{run_text}/")
    configuration = resolve_configuration(wanted, stored_names) or wanted
    for entity, want in sorted(wants.items()):
        if want.version is not None:
            version = want.version
        elif entity == UPDATE_ENTITY:
            version = _newest_update_version(snapshot, configuration)
        else:
            version = configuration
        _check_one(root, snapshot, findings, entity, version, configuration, run_text, want)
        if entity == UPDATE_ENTITY and version != configuration and SCHEMA_ENTITY in wants:
            schema = wants[SCHEMA_ENTITY]._replace(version=version)
            _check_one(
                root,
                snapshot,
                findings,
                SCHEMA_ENTITY,
                version,
                configuration,
                run_text,
                schema,
            )
    for document in snapshot.documents_of_configuration(configuration):
        if document.entity not in wants:
            findings.extra.append(
                VerifyIssue(
                    document.entity,
                    document.collection,
                    document.version,
                    document.oid,
                    "stored but not expected",
                )
            )
    if repair and findings.reindex:
        with database_lock(root, exclusive=True):
            for collection, entries in findings.reindex.items():
                update_index(root, collection, entries)
    return VerifyResult(
        run=int(run_text),
        configuration=configuration,
        missing=tuple(findings.missing),
        extra=tuple(findings.extra),
        unindexed=tuple(findings.unindexed),
        mismatch=tuple(findings.mismatch),
        duplicate=tuple(findings.duplicate),
        unverifiable=tuple(findings.unverifiable),
    )
