"""Migrate stage: export from artdaq_database, pack once, upload to UconDB, verify the bytes.

The first attempt records the packing inputs (stamp and file hashes) before uploading, so every
retry rebuilds byte-identical blobs and an upload that reached the server is recognised.
"""

from datetime import datetime
from typing import Any

from sqlmodel import Session

from app.db import session_scope
from app.metrics import timed
from app.models import ErrorKind, Stage, StageStatus
from app.pipeline.blob import BlobError, PackedBlob, PackingInputs, format_stamp, pack, rebuild
from app.pipeline.claims import Claim, held_row
from app.pipeline.context import PipelineContext
from app.pipeline.driver import StageDefinition, StageFailure, StageOutcome
from app.pipeline.import_work import store_error
from app.pipeline.validate import validate_metadata
from app.stores.artdaqdb.errors import ArtdaqStoreError
from app.stores.artdaqdb.results import ExpectedFile, ExportResult, FileSource
from app.stores.ucondb.errors import UconDBError
from app.timeutil import utcnow


def _ledger_details(ctx: PipelineContext, run: int) -> tuple[dict[str, Any], dict[str, Any]]:
    with session_scope(ctx.engine) as session:
        imported = session.get(StageStatus, (run, Stage.IMPORT))
        migrating = session.get(StageStatus, (run, Stage.MIGRATE))
        return (
            dict(imported.details or {}) if imported else {},
            dict(migrating.details or {}) if migrating else {},
        )


def _checkpoint(ctx: PipelineContext, claim: Claim, details: dict[str, Any]) -> None:
    """Persist the packing inputs before the upload, while we still hold the lease."""
    with session_scope(ctx.engine) as session:
        row = held_row(session, claim)
        if row is None:
            raise StageFailure(ErrorKind.INTERNAL, f"run {claim.run}: lease lost before upload")
        row.details = details
        session.add(row)


def _differences(export: ExportResult, expected: dict[str, ExpectedFile]) -> list[str]:
    """What the export holds other than the bytes the import verified (one read serves both)."""
    exported = {entry.entity: entry for entry in export.manifest}
    differences = []
    for entity, want in sorted(expected.items()):
        entry = exported.get(entity)
        if entry is None:
            differences.append(f"{entity}: not exported")
        elif entry.source != FileSource.RAW:
            differences.append(f"{entity}: no original bytes stored (regenerated)")
        elif (entry.size, entry.sha256) != (want.size, want.sha256):
            differences.append(
                f"{entity}: {entry.size} bytes sha256 {entry.sha256}, imported {want.size} bytes"
                f" sha256 {want.sha256}"
            )
    return differences


def _packed(
    ctx: PipelineContext, claim: Claim, imported: dict[str, Any], previous: dict[str, Any]
) -> tuple[PackedBlob, dict[str, Any]]:
    run = claim.run
    config_name = imported.get("config_name")
    if not config_name:
        raise StageFailure(
            ErrorKind.INTERNAL,
            f"run {run}: the import left no configuration name in the ledger; re-run the import",
            retryable=False,
        )
    expected = {
        entity: ExpectedFile(d["size"], d["sha256"])
        for entity, d in imported.get("documents", {}).items()
    }
    try:
        with timed(ctx.settings, "ArtdaqDBClient.export_run_configuration"):
            export = ctx.store.export_run(run, config_name)
    except (OSError, ArtdaqStoreError, ValueError) as exc:
        raise StageFailure(
            ErrorKind.ARTDAQDB, f"run {run}: export failed: {store_error(exc)}"
        ) from None
    differences = _differences(export, expected)
    if differences:
        raise StageFailure(
            ErrorKind.ARTDAQDB,
            f"run {run}: artdaq_database no longer holds the imported run: "
            + "; ".join(differences[:5]),
        )
    regenerated = [e.file_name for e in export.manifest if e.source == FileSource.REGENERATED]
    inputs = previous.get("packing")
    files = sorted(export.files.items())
    try:
        with ctx.packing_slot:
            if inputs:
                blob = rebuild(PackingInputs.from_dict(inputs), files)
            else:
                blob = pack(run, files, format_stamp(utcnow()))
    except BlobError as error:
        kind = ErrorKind.VERIFY if error.code == "inputs_changed" else ErrorKind.SOURCE
        raise StageFailure(kind, str(error), retryable=False) from None
    details = {
        **previous,
        "packing": blob.inputs.to_dict(),
        "regenerated": regenerated,
        "warnings": [w.message for w in blob.warnings] + list(export.warnings),
    }
    if not inputs:
        _checkpoint(ctx, claim, details)
    return blob, details


def migrate_run(ctx: PipelineContext, claim: Claim, *, validate: bool = False) -> StageOutcome:
    """The migrate stage for one claimed run (slow I/O; short ledger reads/checkpoints)."""
    run = claim.run
    imported, previous = _ledger_details(ctx, run)
    blob, details = _packed(ctx, claim, imported, previous)
    if validate:
        problems = validate_metadata(blob.data, ctx.settings.ucon_db.validate_package_key)
        if problems:
            raise StageFailure(
                ErrorKind.SOURCE, f"run {run}: --validate: " + "; ".join(problems), retryable=False
            )
    try:
        with ctx.upload_slots, timed(ctx.settings, "UconDBClient.upload_blob"):
            uploaded = ctx.ucondb.upload(run, blob.data, checksums=blob.checksums)
        with timed(ctx.settings, "UconDBClient.get_data"):
            verified = ctx.ucondb.verify(run, blob.checksums)
    except UconDBError as error:
        kind = ErrorKind(error.kind)
        raise StageFailure(kind, f"run {run}: {error}", retryable=error.retryable) from None
    details["uploaded_now"] = not uploaded.already_present
    details["verified_at"] = verified.verified_at.isoformat()
    sums = blob.checksums
    return StageOutcome(
        f"verified in UconDB as version {verified.version_id} ({sums.size} bytes"
        + (", already present" if uploaded.already_present else "")
        + ")",
        {
            "blob_size": sums.size,
            "blob_adler32": sums.adler32_hex,
            "blob_md5": sums.md5,
            "blob_sha256": sums.sha256,
            "ucondb_version_id": verified.version_id,
            "details": details,
        },
        tuple(details["warnings"]),
    )


def complete_migrate(session: Session, claim: Claim, outcome: StageOutcome, now: datetime) -> None:
    """Nothing follows a verified migration; the ledger row says it all."""


def migrate_stage(ctx: PipelineContext, *, validate: bool = False) -> StageDefinition:
    """The migrate stage bound to a context (`validate`: the --validate metadata checks)."""
    return StageDefinition(
        Stage.MIGRATE, lambda claim: migrate_run(ctx, claim, validate=validate), complete_migrate
    )
