"""Idempotent writes into a filesystemdb: archive a run (§11.3) and add its stop update (§11.4).

Every change to the database happens under the exclusive database lock. Documents are checked
first and written only if nothing conflicts; each file is replaced atomically; indexes are
re-read right before each update and confirmed afterwards, because a C++ writer may rewrite them
at any time. The records a first write would install are built and staged (written and synced
to temporary files) before the lock, so other writers wait only for the checks and renames.
"""

import hashlib
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from app.stores.artdaqdb.conversion import Conversion, Converter
from app.stores.artdaqdb.document import assemble_record, object_id, read_raw_block, record_text
from app.stores.artdaqdb.fsio import (
    database_lock,
    fsync_directory,
    install,
    remove_stale_temporaries,
    stage,
    sync_files,
)
from app.stores.artdaqdb.index import IndexEntry, add_entry, empty_index, entry_for, has_entry
from app.stores.artdaqdb.index_writer import update_index
from app.stores.artdaqdb.layout import (
    document_path,
    ensure_collection,
    ensure_database,
    ensure_root,
    read_record,
)
from app.stores.artdaqdb.naming import (
    RUN_HISTORY,
    SCHEMA_ENTITY,
    SYSTEM_LAYOUT,
    UPDATE_ENTITY,
    check_archive_files,
    check_config_name,
    check_run,
    check_stored_config_name,
    collection_for,
    next_update_version,
    resolve_configuration,
    update_rank,
)
from app.stores.artdaqdb.results import (
    ArchiveResult,
    EntityResult,
    EntityStatus,
    Outcome,
    StoredDocument,
)
from app.stores.artdaqdb.snapshot import IndexSnapshot
from app.stores.artdaqdb.timestamps import format_timestamp


@dataclass
class _Plan:
    """One entity's check result and, when it must be written, the record to write."""

    entity: str
    collection: str
    version: str
    source: bytes
    status: EntityStatus
    oid: str | None = None
    detail: str = ""
    staged: Path | None = None
    staged_synced: bool = False
    index_entry: IndexEntry | None = None
    conversion: Conversion | None = None
    warnings: list[str] = field(default_factory=list)

    def result(self) -> EntityResult:
        return EntityResult(
            entity=self.entity,
            collection=self.collection,
            version=self.version,
            status=self.status,
            oid=self.oid,
            size=len(self.source),
            sha256=hashlib.sha256(self.source).hexdigest(),
            parse_error=self.conversion.parse_error if self.conversion else None,
            ascii_replaced=self.conversion.ascii_replaced if self.conversion else False,
            detail=self.detail,
        )


@dataclass(frozen=True)
class _Staged:
    """A record in a synced temporary file, and the index entry it gets once installed."""

    path: Path
    index_entry: IndexEntry


@dataclass
class _Context:
    root: Path
    converter: Converter
    snapshot: IndexSnapshot
    configuration: str
    run: str
    conversions: dict[str, Conversion] = field(default_factory=dict)
    ready: dict[str, _Staged] = field(default_factory=dict)  # staged ahead, by oid
    # Index entries kept for one write at the end (collection → entries), when not None.
    deferred: dict[str, list[IndexEntry]] | None = None

    def convert(self, entity: str, source: bytes) -> Conversion:
        if entity not in self.conversions:
            self.conversions[entity] = self.converter(source, entity)
        return self.conversions[entity]


def _same_content(context: _Context, plan: _Plan, stored_path: Path) -> tuple[bool, str]:
    """Compare a stored document with the file (raw bytes if it has a raw block, else `data`);
    remember the stored document's index entry in the plan for a possible re-index."""
    stored = read_record(stored_path).record
    plan.index_entry = entry_for(stored_path.stem, stored)
    raw = read_raw_block(stored)
    if raw.data is not None:
        if raw.data == plan.source:
            return True, ""
        return False, (
            f"{stored_path} holds different bytes (sha256 {hashlib.sha256(raw.data).hexdigest()},"
            f" new {hashlib.sha256(plan.source).hexdigest()})"
        )
    conversion = context.convert(plan.entity, plan.source)
    plan.conversion = conversion
    if conversion.parse_error:
        return False, (
            f"{stored_path} has no raw block and the new file does not parse"
            f" ({conversion.parse_error}), so the two cannot be compared"
        )
    document = stored.get("document")
    stored_data = document.get("data") if document is not None else None
    if stored_data == conversion.document.get("data"):
        return True, ""
    return False, f"{stored_path} (no raw block) has different document.data"


def _check(context: _Context, entity: str, version: str, source: bytes) -> _Plan:
    """§11.3 step 2 for one entity: none → write, one equal → skip, differs → conflict."""
    collection = collection_for(entity)
    plan = _Plan(entity, collection, version, source, EntityStatus.WRITTEN)
    own_oid = object_id(collection, context.configuration, version, entity)
    indexed = context.snapshot.lookup(collection, context.configuration, version, entity)
    present = [oid for oid in indexed if document_path(context.root, collection, oid).is_file()]
    plan.warnings += [
        f"{collection}/index.json lists {oid} for {entity} but the file is missing"
        for oid in indexed
        if oid not in present
    ]
    if own_oid not in present and document_path(context.root, collection, own_oid).is_file():
        present.append(own_oid)
    if len(present) > 1:
        plan.status = EntityStatus.DUPLICATE
        plan.detail = f"{len(present)} documents for one key: {sorted(present)}"
        return plan
    if not present:
        return _prepare_write(context, plan, own_oid)
    plan.oid = present[0]
    path = document_path(context.root, collection, plan.oid)
    same, why = _same_content(context, plan, path)
    if not same:
        plan.status = EntityStatus.CONFLICT
        plan.detail = why
        return plan
    index = context.snapshot.indexes.get(collection)
    assert plan.index_entry is not None
    if plan.oid == own_oid and (index is None or not has_entry(index, plan.index_entry)):
        plan.status = EntityStatus.REINDEXED
    else:
        plan.status = EntityStatus.UNCHANGED
    return plan


def _prepare_write(context: _Context, plan: _Plan, oid: str) -> _Plan:
    plan.conversion = context.convert(plan.entity, plan.source)
    ready = context.ready.pop(oid, None)
    plan.staged_synced = ready is not None
    if ready is None:
        ready = _stage_record(
            context.root,
            plan.source,
            plan.conversion,
            oid=oid,
            configuration=context.configuration,
            version=plan.version,
            entity=plan.entity,
            run=context.run,
        )
    plan.oid = oid
    plan.staged = ready.path
    plan.index_entry = ready.index_entry
    return plan


def _stage_record(
    root: Path,
    source: bytes,
    conversion: Conversion,
    *,
    oid: str,
    configuration: str,
    version: str,
    entity: str,
    run: str,
    hold: ExitStack | None = None,
) -> _Staged:
    record = assemble_record(
        source,
        oid=oid,
        collection=collection_for(entity),
        configuration=configuration,
        version=version,
        entity=entity,
        run=run,
        timestamp=format_timestamp(),
    )
    path = stage(root, record_text(record, conversion).encode("ascii"), hold=hold)
    return _Staged(path, entry_for(oid, record))


_Ahead = tuple[dict[str, _Staged], dict[str, Conversion]]


@contextmanager
def _staged_ahead(
    root: Path,
    converter: Converter,
    configuration: str,
    writes: Mapping[str, Mapping[str, bytes]],
) -> Iterator[_Ahead]:
    """Stage and sync, before the lock, the records that first writes of `configuration`
    install (version → entity → bytes); the writer takes those its checks under the lock ask
    for, and what it did not take (the run was there, or conflicts) is deleted on the way out.
    A version one of whose records is on disk already (a re-import) stages nothing: a
    re-import writes nothing."""
    wanted: list[tuple[str, str, bytes, str]] = []  # version, entity, source, oid
    for version, sources in writes.items():
        oids = {e: object_id(collection_for(e), configuration, version, e) for e in sources}
        if not any(document_path(root, collection_for(e), o).is_file() for e, o in oids.items()):
            wanted += [(version, entity, sources[entity], oid) for entity, oid in oids.items()]
    conversions = {entity: converter(source, entity) for _, entity, source, _ in wanted}
    ready: dict[str, _Staged] = {}
    with ExitStack() as hold:
        try:
            for version, entity, source, oid in wanted:
                ready[oid] = _stage_record(
                    root,
                    source,
                    conversions[entity],
                    oid=oid,
                    configuration=configuration,
                    version=version,
                    entity=entity,
                    run=configuration.split("/", 1)[0],
                    hold=hold,
                )
            sync_files(staged.path for staged in ready.values())
            yield ready, conversions
        finally:
            for staged in ready.values():
                staged.path.unlink(missing_ok=True)


def _collection_order(collection: str) -> tuple[int, str]:
    """RunHistory first, SystemLayout (the "archived" marker) last."""
    rank = {RUN_HISTORY: 0, SYSTEM_LAYOUT: 2}.get(collection, 1)
    return rank, collection


def _apply(context: _Context, plans: list[_Plan]) -> None:
    """Write the documents (schema last), then each touched index once, or, when the context
    defers them, add the entries to its snapshot for the next plans and one write later."""
    root = context.root
    pending = [plan for plan in plans if plan.status is EntityStatus.WRITTEN]
    pending.sort(
        key=lambda plan: (plan.entity == SCHEMA_ENTITY, _collection_order(plan.collection))
    )
    sync_files(plan.staged for plan in pending if plan.staged and not plan.staged_synced)
    directories: set[Path] = set()
    for plan in pending:
        ensure_collection(root, plan.collection)
        assert plan.oid is not None and plan.staged is not None
        target = document_path(root, plan.collection, plan.oid)
        install(plan.staged, target)
        directories.add(target.parent)
    for directory in sorted(directories):
        fsync_directory(directory)  # the documents' renames are durable before any index lists them
    touched: dict[str, list[IndexEntry]] = {}
    for plan in plans:
        if plan.status in (EntityStatus.WRITTEN, EntityStatus.REINDEXED) and plan.index_entry:
            touched.setdefault(plan.collection, []).append(plan.index_entry)
    if context.deferred is None:
        _write_indexes(root, touched)
        return
    for collection, entries in touched.items():
        context.deferred.setdefault(collection, []).extend(entries)
        index = context.snapshot.indexes.setdefault(collection, empty_index())
        for entry in entries:
            add_entry(index, entry)


def _write_indexes(root: Path, touched: dict[str, list[IndexEntry]]) -> None:
    """Update each touched index once, SystemLayout (the "archived" marker) last."""
    for collection in sorted(touched, key=_collection_order):
        ensure_collection(root, collection)
        update_index(root, collection, touched[collection])


def _outcome(plans: list[_Plan]) -> Outcome:
    statuses = {plan.status for plan in plans}
    if EntityStatus.CONFLICT in statuses:
        return Outcome.CONFLICT
    if EntityStatus.DUPLICATE in statuses:
        return Outcome.DUPLICATE
    if statuses == {EntityStatus.WRITTEN}:
        return Outcome.INSERTED
    if statuses & {EntityStatus.WRITTEN, EntityStatus.REINDEXED}:
        return Outcome.COMPLETED
    return Outcome.UNCHANGED


def _finish(
    context: _Context,
    version: str,
    plans: list[_Plan],
    *,
    extra: tuple[StoredDocument, ...] = (),
    warnings: tuple[str, ...] = (),
) -> ArchiveResult:
    """Write unless something conflicts; a conflict stops the run with nothing written.

    Staged documents of a run that stops here are deleted now; those of a run interrupted by an
    error are deleted by the next writer (`remove_stale_temporaries`).
    """
    outcome = _outcome(plans)
    if outcome is Outcome.CONFLICT:
        for plan in plans:
            if plan.status in (EntityStatus.WRITTEN, EntityStatus.REINDEXED):
                plan.status = EntityStatus.NOT_WRITTEN
            if plan.staged is not None:
                plan.staged.unlink(missing_ok=True)
    else:
        _apply(context, plans)
    warnings += tuple(warning for plan in plans for warning in plan.warnings)
    return ArchiveResult(
        run=int(context.run),
        configuration=context.configuration,
        version=version,
        outcome=outcome,
        entities=tuple(plan.result() for plan in plans),
        extra=extra,
        warnings=warnings,
    )


def _open(root: Path, uri: str, converter: Converter, run: int, ahead: _Ahead) -> _Context:
    """Prepare the database and read its indexes (under the exclusive lock)."""
    remove_stale_temporaries(root)
    ensure_database(root, uri)
    snapshot = IndexSnapshot.load(root)
    ready, conversions = ahead
    return _Context(root, converter, snapshot, "", check_run(run), conversions, ready)


def archive_run(
    root: Path,
    uri: str,
    converter: Converter,
    run: int,
    config_name: str,
    files: Mapping[str, bytes],
) -> ArchiveResult:
    """§11.3: store every file of the run as `R/C`, completing a partial earlier import."""
    wanted, sources = _checked_archive(root, run, config_name, files)
    with (
        _staged_ahead(root, converter, wanted, {wanted: sources}) as ahead,
        database_lock(root, exclusive=True),
    ):
        context = _open(root, uri, converter, run, ahead)
        return _archive(context, wanted, sources)


def _checked_archive(
    root: Path, run: int, config_name: str, files: Mapping[str, bytes]
) -> tuple[str, dict[str, bytes]]:
    """The configuration `R/C` an archive asks for and its checked files (§11.3)."""
    check_config_name(config_name)
    sources = check_archive_files(files)
    ensure_root(root)
    return f"{check_run(run)}/{config_name}", sources


def _archive(context: _Context, wanted: str, sources: Mapping[str, bytes]) -> ArchiveResult:
    """§11.3 under the lock, for `archive_run` and `archive_stopped_run`."""
    stored = context.snapshot.configurations_with_prefix(f"{context.run}/")
    context.configuration = resolve_configuration(wanted, stored) or wanted
    foreign = tuple(name for name in stored if name != context.configuration)
    if foreign:
        run = int(context.run)
        return ArchiveResult(run, wanted, wanted, Outcome.FOREIGN_CONFIGURATION, foreign=foreign)
    version = context.configuration
    plans = [_check(context, entity, version, data) for entity, data in sources.items()]
    extra = tuple(
        document
        for document in context.snapshot.documents_of_configuration(version)
        if document.version == version and document.entity not in sources
    )
    return _finish(context, version, plans, extra=extra)


def _newest(
    context: _Context, documents: list[StoredDocument]
) -> tuple[list[StoredDocument], list[str]]:
    """The RunHistory2 documents with the largest update number, and versions not understood."""
    ranked = [(update_rank(doc.version, context.configuration), doc) for doc in documents]
    odd = [doc.version for rank, doc in ranked if rank is None]
    ranked = [(rank, doc) for rank, doc in ranked if rank is not None]
    if not ranked:
        return [], odd
    top = max(rank for rank, _ in ranked)
    return [doc for rank, doc in ranked if rank == top], odd


def update_run_stop(
    root: Path,
    uri: str,
    converter: Converter,
    run: int,
    config_name: str,
    runhistory2: bytes,
    schema: bytes,
) -> ArchiveResult:
    """§11.4: store `RunHistory2` + `schema` as `R/Cvk`, or nothing if the newest is identical."""
    check_stored_config_name(config_name)
    ensure_root(root)
    wanted = f"{check_run(run)}/{config_name}"
    with (
        _staged_ahead(root, converter, wanted, _stop_writes(wanted, runhistory2, schema)) as ahead,
        database_lock(root, exclusive=True),
    ):
        return _update(_open(root, uri, converter, run, ahead), wanted, runhistory2, schema)


def _stop_writes(
    configuration: str, runhistory2: bytes, schema: bytes
) -> dict[str, dict[str, bytes]]:
    """What a run's first stop update (`R/Cv1`) writes, which is what gets staged ahead."""
    first_update = next_update_version(configuration, [configuration])
    return {first_update: {UPDATE_ENTITY: runhistory2, SCHEMA_ENTITY: schema}}


def _update(context: _Context, wanted: str, runhistory2: bytes, schema: bytes) -> ArchiveResult:
    """§11.4 under the lock, for `update_run_stop` and `archive_stopped_run`."""
    run = int(context.run)
    stored = context.snapshot.configurations_with_prefix(f"{context.run}/")
    resolved = resolve_configuration(wanted, stored)
    if resolved is None:
        outcome = Outcome.FOREIGN_CONFIGURATION if stored else Outcome.MISSING_BASE
        return ArchiveResult(run, wanted, wanted, outcome, foreign=tuple(stored))
    context.configuration = resolved
    if not context.snapshot.lookup(SYSTEM_LAYOUT, resolved, resolved, SCHEMA_ENTITY):
        return ArchiveResult(
            run,
            resolved,
            resolved,
            Outcome.MISSING_BASE,
            warnings=(f"{resolved}: no indexed SystemLayout/schema at the base version",),
        )
    documents = context.snapshot.documents_of_configuration(resolved)
    updates = [doc for doc in documents if doc.entity == UPDATE_ENTITY]
    newest, odd = _newest(context, updates)
    warnings = tuple(f"RunHistory2 version {version!r} not understood" for version in odd)
    if len(newest) > 1:
        plan = _Plan(
            UPDATE_ENTITY,
            RUN_HISTORY,
            newest[0].version,
            runhistory2,
            EntityStatus.DUPLICATE,
            detail=f"{len(newest)} documents: {sorted(d.oid for d in newest)}",
        )
        return _finish(context, newest[0].version, [plan], warnings=warnings)
    if newest:
        latest = newest[0]
        probe = _Plan(
            UPDATE_ENTITY,
            RUN_HISTORY,
            latest.version,
            runhistory2,
            EntityStatus.UNCHANGED,
            oid=latest.oid,
        )
        latest_path = document_path(context.root, RUN_HISTORY, latest.oid)
        same, _ = _same_content(context, probe, latest_path)
        if same:
            plans = [probe]
            if latest.version != resolved:
                plans.append(_check(context, SCHEMA_ENTITY, latest.version, schema))
            return _finish(context, latest.version, plans, warnings=warnings)
    version = next_update_version(resolved, {doc.version for doc in documents})
    plans = [
        _check(context, UPDATE_ENTITY, version, runhistory2),
        _check(context, SCHEMA_ENTITY, version, schema),
    ]
    return _finish(context, version, plans, warnings=warnings)


def archive_stopped_run(
    root: Path,
    uri: str,
    converter: Converter,
    run: int,
    config_name: str,
    files: Mapping[str, bytes],
    runhistory2: bytes,
) -> tuple[ArchiveResult, ArchiveResult | None]:
    """`archive_run`, then (if it succeeded) `update_run_stop` with the archived `schema`, under
    one lock: one read of the indexes, and each touched index written once for both."""
    wanted, sources = _checked_archive(root, run, config_name, files)
    schema = sources[SCHEMA_ENTITY]
    writes = {wanted: sources, **_stop_writes(wanted, runhistory2, schema)}
    with (
        _staged_ahead(root, converter, wanted, writes) as ahead,
        database_lock(root, exclusive=True),
    ):
        context = _open(root, uri, converter, run, ahead)
        context.deferred = {}
        archived = _archive(context, wanted, sources)
        updated = None
        if archived.ok:
            updated = _update(context, archived.configuration, runhistory2, schema)
        _write_indexes(root, context.deferred)
        return archived, updated
