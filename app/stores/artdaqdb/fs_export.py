"""Export a run's files from a filesystemdb for packing (artdaqdb.md §11.6).

The original bytes come from the raw block; a document without one (written by a C++ tool) is
regenerated from `data` + `metadata`, which is not the original file, and the manifest says so.
"""

import hashlib
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from app.fhicl.pairs import JsonObject, Pairs
from app.stores.artdaqdb.conversion import Regenerator
from app.stores.artdaqdb.document import RawContent, read_raw_block
from app.stores.artdaqdb.errors import ArtdaqStoreError
from app.stores.artdaqdb.fsio import database_lock
from app.stores.artdaqdb.layout import document_path, read_record, require_root
from app.stores.artdaqdb.naming import (
    check_run,
    check_stored_config_name,
    resolve_configuration,
    update_rank,
)
from app.stores.artdaqdb.results import ExportEntry, ExportResult, FileSource, StoredDocument
from app.stores.artdaqdb.snapshot import IndexSnapshot


def _rank_key(document: StoredDocument, configuration: str) -> tuple[bool, tuple[int, ...]]:
    rank = update_rank(document.version, configuration)
    return rank is not None, rank or ()


def _read(root: Path, document: StoredDocument, *, ordered: bool = True) -> JsonObject:
    """The stored record; `ordered=False` when only the raw block is wanted (faster)."""
    path = document_path(root, document.collection, document.oid)
    try:
        return read_record(path, ordered=ordered).record
    except FileNotFoundError:
        raise ArtdaqStoreError(
            f"{path}: the index lists this document but the file is missing"
        ) from None


_ORIGIN_KEY = ',"origin":'
_DECODER = json.JSONDecoder()


def _top_level_origin(text: str) -> Any:
    """`origin` parsed alone, if the last `,"origin":` is the record's own key: a `"` inside a
    string is always escaped, so it is a key, and it is the top-level one exactly when what
    follows its value closes the record (the keys after it are short, so this parse is cheap)."""
    at = text.rfind(_ORIGIN_KEY)
    if at <= 0:
        return None
    try:
        origin, end = _DECODER.raw_decode(text, at + len(_ORIGIN_KEY))
        rest = text[end:].rstrip()
        if rest != "}":
            if not rest.startswith(","):
                return None
            json.loads("{" + rest[1:])
    except ValueError:
        return None
    return origin


def _raw(root: Path, document: StoredDocument) -> RawContent:
    """The raw block without parsing the whole record (`document` is most of it); a record of
    another shape, or a block that fails its size and sha256 checks, is read in full."""
    path = document_path(root, document.collection, document.oid)
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except FileNotFoundError:
        text = ""  # _read below names the problem
    raw = read_raw_block({"origin": _top_level_origin(text)})
    if raw.data is not None:
        return raw
    return read_raw_block(_read(root, document, ordered=False))


def _same_contents(root: Path, documents: list[StoredDocument]) -> bool:
    """Raw bytes when every document has them, else the ordered `document.data`."""
    records = [_read(root, document) for document in documents]
    raws = [read_raw_block(record).data for record in records]
    if all(raw is not None for raw in raws):
        return len(set(raws)) == 1
    datas = [(record.get("document") or Pairs()).get("data") for record in records]
    return all(data == datas[0] for data in datas)


def select_documents(
    root: Path, documents: list[StoredDocument], configuration: str
) -> tuple[list[StoredDocument], list[str]]:
    """One document per (collection, entity): the largest update number (numeric, base = 0)."""
    groups: dict[tuple[str, str], list[StoredDocument]] = defaultdict(list)
    for document in documents:
        groups[(document.collection, document.entity)].append(document)
    chosen: list[StoredDocument] = []
    warnings: list[str] = []
    for (collection, entity), group in sorted(groups.items()):
        best = max(_rank_key(document, configuration) for document in group)
        top = sorted(
            (doc for doc in group if _rank_key(doc, configuration) == best), key=lambda d: d.oid
        )
        if not best[0]:
            warnings.append(f"{collection}/{entity}: version {top[0].version!r} not understood")
        if len(top) > 1:
            oids = [document.oid for document in top]
            if not _same_contents(root, top):
                raise ArtdaqStoreError(
                    f"{configuration}: {collection}/{entity} has {len(top)} different documents"
                    f" for version {top[0].version!r} ({oids}); an operator must remove one"
                )
            top.sort(key=lambda doc: read_raw_block(_read(root, doc)).data is None)
            warnings.append(
                f"{collection}/{entity}: identical duplicates {oids}; using {top[0].oid}"
            )
        chosen.append(top[0])
    by_entity: dict[str, list[str]] = defaultdict(list)
    for document in chosen:
        by_entity[document.entity].append(document.collection)
    clashes = {entity: names for entity, names in by_entity.items() if len(names) > 1}
    if clashes:
        raise ArtdaqStoreError(
            f"{configuration}: entities stored in several collections would share a file name:"
            f" {clashes}"
        )
    return chosen, warnings


def export_run(root: Path, regenerator: Regenerator, run: int, config_name: str) -> ExportResult:
    """The run's files (`<entity>.fcl`, exact bytes when possible) and their manifest."""
    run_text = check_run(run)
    check_stored_config_name(config_name)
    wanted = f"{run_text}/{config_name}"
    require_root(root)
    with database_lock(root, exclusive=False):
        snapshot = IndexSnapshot.load(root)
    # The shared lock gave a consistent view of the indexes; the documents they list are never
    # rewritten by the project's writer (renamed into place once), so they are read without
    # holding the writers back.
    configuration = resolve_configuration(
        wanted, snapshot.configurations_with_prefix(f"{run_text}/")
    )
    if configuration is None:
        raise ArtdaqStoreError(f"{root}: run {run_text} has no configuration {wanted!r}")
    documents = snapshot.documents_of_configuration(configuration)
    chosen, warnings = select_documents(root, documents, configuration)
    files: dict[str, bytes] = {}
    manifest: list[ExportEntry] = []
    for document in sorted(chosen, key=lambda d: d.entity):
        path = document_path(root, document.collection, document.oid)
        raw = _raw(root, document)
        if raw.problem:
            warnings.append(f"{path}: {raw.problem}; regenerating the file instead")
        if raw.data is not None:
            data, source = raw.data, FileSource.RAW
        else:
            ordered = _read(root, document).get("document")
            data = regenerator(ordered).encode("ascii", errors="replace")
            source = FileSource.REGENERATED
            warnings.append(
                f"{document.entity}.fcl is regenerated from {path}, not the original file"
            )
        name = f"{document.entity}.fcl"
        files[name] = data
        manifest.append(
            ExportEntry(
                file_name=name,
                entity=document.entity,
                collection=document.collection,
                version=document.version,
                oid=document.oid,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                source=source,
            )
        )
    return ExportResult(int(run_text), configuration, files, tuple(manifest), tuple(warnings))
