"""Import attempt: read a ready record, convert, validate every document, archive, verify.

Nothing is stored unless every document parses; a store conflict stops for an operator. Runs
in import worker processes, so it loads no ORM (`app.pipeline.importer` ties it to the ledger).
"""

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.metrics.timing import timed
from app.pipeline.attempts import Claim, StageFailure, StageOutcome
from app.pipeline.store_context import StoreContext
from app.runrecords.convert.config_name import config_name_from_metadata
from app.runrecords.convert.record import convert_record
from app.runrecords.reader import RecordError, RunRecord, read_record
from app.stores.artdaqdb.conversion import Conversion, Converter
from app.stores.artdaqdb.dialect import DialectError
from app.stores.artdaqdb.errors import ArtdaqStoreError
from app.stores.artdaqdb.results import ArchiveResult, ExpectedFile, VerifyResult
from app.vocabulary import ErrorKind

SCHEMA = "schema"
RUN_HISTORY2 = "RunHistory2"


@dataclass(frozen=True)
class PreparedRun:
    """The documents of one run as they will be stored: entity → exact bytes."""

    config_name: str
    documents: dict[str, bytes]
    runhistory2: bytes | None
    warnings: list[str]
    conversions: dict[str, tuple[bytes, Conversion]]


def prepare(
    record: RunRecord,
    run: int,
    generate: frozenset[str],
    convert: Converter,
    lanes: int = 1,
) -> PreparedRun:
    """Convert the `.txt` files, collect the process `.fcl` files, and convert each to its
    stored form: a file that does not parse fails the run before anything is stored. `lanes`
    (the import workers) spreads where concurrent runs start converting (`_spread`)."""
    metadata = record.files.get("metadata.txt")
    if metadata is None:
        raise StageFailure(ErrorKind.SOURCE, f"run {run}: metadata.txt is missing", retryable=False)
    config_name, warnings = config_name_from_metadata(metadata)
    warnings = [*warnings, *(f"{w.file}: {w.detail}" for w in record.warnings)]
    converted = convert_record(record.files, generate=generate, run_number=run)
    warnings += converted.warnings
    documents: dict[str, bytes] = {}
    for name, data in record.files.items():
        if "/" not in name and name.endswith(".fcl"):
            documents[name.removesuffix(".fcl")] = data
    for name, data in converted.outputs.items():
        entity = name.removesuffix(".fcl")
        if entity in documents:
            raise StageFailure(
                ErrorKind.SOURCE,
                f"run {run}: the record has both {name} and the {entity}.txt it is converted "
                "from; refusing to choose one",
                retryable=False,
            )
        documents[entity] = data
    runhistory2 = documents.pop(RUN_HISTORY2, None)
    if SCHEMA in documents:
        raise StageFailure(
            ErrorKind.SOURCE,
            f"run {run}: the record contains schema.fcl, which "
            "the archive takes from artdaq_db.fcl_conf_dir",
            retryable=False,
        )
    to_check = dict(documents)
    if runhistory2 is not None:
        to_check[RUN_HISTORY2] = runhistory2
    conversions: dict[str, tuple[bytes, Conversion]] = {}
    failures: dict[str, StageFailure] = {}
    for entity in _spread(sorted(to_check), run, lanes):
        data = to_check[entity]
        try:
            conversion = convert(data, f"{run}/{entity}.fcl")
        except DialectError as exc:
            failures[entity] = StageFailure(
                ErrorKind.FHICL,
                f"run {run}: {entity}.fcl converts to a value artdaq_database cannot hold: {exc}",
                retryable=False,
            )
            continue
        if conversion.parse_error:
            failures[entity] = StageFailure(
                ErrorKind.FHICL, f"run {run}: {conversion.parse_error}", retryable=False
            )
        conversions[entity] = (data, conversion)
    if failures:
        raise failures[min(failures)]  # the first in name order, whichever was converted first
    return PreparedRun(config_name, documents, runhistory2, warnings, conversions)


def _spread(entities: list[str], run: int, lanes: int) -> list[str]:
    """The entities rotated to start at lane `run % lanes` of `lanes` equal parts: workers that
    import consecutive runs of one configuration at once start on different files and take the
    rest from the shared conversions instead of all parsing the same files side by side."""
    first = (run % lanes) * len(entities) // lanes
    return entities[first:] + entities[:first]


def store_error(exc: Exception) -> str:
    """An artdaq_database failure in one line: the OS reason for I/O errors (disk full, …)."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}" + (f" ({exc.filename})" if exc.filename else "")
    return str(exc)


def _read_schema(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise StageFailure(
            ErrorKind.ARTDAQDB,
            f"cannot read {path} (artdaq_db.fcl_conf_dir must hold schema.fcl): {exc.strerror}",
        ) from None


def _store_failure(run: int, result: ArchiveResult) -> StageFailure:
    problems = [
        f"{e.entity}: {e.detail or e.status}"
        for e in result.entities
        if e.status in ("conflict", "duplicate")
    ]
    detail = "; ".join(problems or list(result.foreign) or [result.outcome.value])
    return StageFailure(
        ErrorKind.CONFLICT,
        f"run {run}: artdaq_database already holds different content for {result.configuration}"
        f" ({result.outcome.value}: {detail}); an operator must decide",
        retryable=False,
    )


def _store(
    ctx: StoreContext,
    run: int,
    prepared: PreparedRun,
    files: dict[str, bytes],
    expected: dict[str, ExpectedFile],
) -> tuple[ArchiveResult, str, VerifyResult]:
    """Archive the base documents, add the stop update, and check the stored run."""
    updated: ArchiveResult | None = None
    with timed(ctx.settings, "ArtdaqDBClient.archive_run"):
        if prepared.runhistory2 is None:
            archived = ctx.store.archive_run(run, prepared.config_name, files)
        else:
            archived, updated = ctx.store.archive_stopped_run(
                run, prepared.config_name, files, prepared.runhistory2
            )
    for result in (archived, updated):
        if result is not None and not result.ok:
            raise _store_failure(run, result)
    configuration = archived.configuration.split("/", 1)[1]
    return archived, configuration, ctx.store.verify_run(run, configuration, expected)


def import_run(ctx: StoreContext, claim: Claim) -> StageOutcome:
    """The import stage for one claimed run (slow I/O; no ledger session)."""
    run = claim.run
    scanner = ctx.settings.scanner
    try:
        record = read_record(
            ctx.run_dir(run),
            max_file_bytes=scanner.max_file_bytes,
            max_run_bytes=scanner.max_run_bytes,
        )
    except RecordError as error:
        raise StageFailure(
            ErrorKind.SOURCE, f"run {run}: {error}", retryable=not error.permanent
        ) from None
    lanes = ctx.settings.pipeline.import_workers or 1
    prepared = prepare(record, run, ctx.generate, ctx.conversion_cache, lanes)
    schema = _read_schema(ctx.schema_path())
    files = {**prepared.documents, SCHEMA: schema}
    expected = {
        entity: ExpectedFile(len(data), hashlib.sha256(data).hexdigest())
        for entity, data in files.items()
    }
    try:
        with ctx.converter.prepared(prepared.conversions):
            archived, configuration, verified = _store(ctx, run, prepared, files, expected)
    except (OSError, ArtdaqStoreError, ValueError) as exc:
        raise StageFailure(
            ErrorKind.ARTDAQDB, f"run {run}: artdaq_database: {store_error(exc)}"
        ) from None
    if not verified.complete:
        issues = [*verified.missing, *verified.mismatch, *verified.duplicate]
        listing = "; ".join(f"{i.entity}: {i.detail}" for i in issues[:5])
        raise StageFailure(ErrorKind.ARTDAQDB, f"run {run}: stored run is incomplete: {listing}")
    inventory = sorted(record.files)
    details: dict[str, Any] = {
        "config_name": configuration,
        "outcome": archived.outcome.value,
        "documents": {e: {"size": f.size, "sha256": f.sha256} for e, f in expected.items()},
        "runhistory2": prepared.runhistory2 is not None,
        "inventory": inventory,
        "warnings": prepared.warnings + list(archived.warnings),
    }
    message = f"{archived.outcome.value}: {len(files)} documents as {run}/{configuration}" + (
        " + RunHistory2 update" if prepared.runhistory2 is not None else ""
    )
    return StageOutcome(
        message,
        {
            "entity_count": len(files) + (1 if prepared.runhistory2 is not None else 0),
            "bytes": sum(map(len, files.values())),
            "content_hash": record.content_hash,
            "details": details,
        },
        tuple(prepared.warnings),
    )
