"""The operations every artdaq_database backend offers the pipeline (artdaqdb.md §11)."""

from collections.abc import Mapping
from typing import Protocol

from app.stores.artdaqdb.results import (
    ArchiveResult,
    ExpectedFile,
    ExportResult,
    RunConfigurations,
    RunListing,
    StoredDocument,
    VerifyResult,
)


class ArtdaqStore(Protocol):
    """An archive database: the project's filesystemdb writer or the site's C++ tools."""

    @property
    def description(self) -> str:
        """Backend and URI, with credentials redacted, for logs and reports."""
        ...

    def archive_run(self, run: int, config_name: str, files: Mapping[str, bytes]) -> ArchiveResult:
        """Store a run's files (entity → bytes, with `schema`, without `RunHistory2`) as `R/C`,
        idempotently (§11.3)."""
        ...

    def update_run_stop(
        self, run: int, config_name: str, runhistory2: bytes, schema: bytes
    ) -> ArchiveResult:
        """Add `RunHistory2` (and the schema marker) under the next update version (§11.4)."""
        ...

    def archive_stopped_run(
        self, run: int, config_name: str, files: Mapping[str, bytes], runhistory2: bytes
    ) -> tuple[ArchiveResult, ArchiveResult | None]:
        """`archive_run`, then, if it succeeded, `update_run_stop` with `files["schema"]`
        (None when the archive did not succeed): what an import of a stopped run does."""
        ...

    def list_runs(self) -> RunListing:
        """Archived run numbers, from the indexes alone (§11.5)."""
        ...

    def run_configurations(self) -> RunConfigurations:
        """run → configuration names, from the indexes alone (§11.5)."""
        ...

    def run_documents(self, run: int) -> tuple[StoredDocument, ...]:
        """Every indexed document of a run: collection, entity, version, configuration, oid."""
        ...

    def export_run(self, run: int, config_name: str) -> ExportResult:
        """The run's files for packing, newest update of each entity, with a manifest (§11.6)."""
        ...

    def verify_run(
        self, run: int, config_name: str, expected: Mapping[str, ExpectedFile]
    ) -> VerifyResult:
        """Compare what is stored with what the project intended to store (§11.7)."""
        ...
