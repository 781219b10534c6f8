"""The project's own filesystemdb backend: the embedded default (`filesystemdb:///…`)."""

from collections.abc import Mapping
from pathlib import Path

from app.stores.artdaqdb import fs_export, fs_listing, fs_verify, fs_write
from app.stores.artdaqdb.conversion import Converter, Regenerator
from app.stores.artdaqdb.rebuild import rebuild_indexes
from app.stores.artdaqdb.results import (
    ArchiveResult,
    ExpectedFile,
    ExportResult,
    RebuildReport,
    RunConfigurations,
    RunListing,
    StoredDocument,
    VerifyResult,
)
from app.stores.artdaqdb.uri import filesystem_root


class FilesystemStore:
    """Reads and writes a filesystemdb root in the C++ tools' exact format, safely (§5, §7)."""

    def __init__(self, uri: str, *, converter: Converter, regenerator: Regenerator) -> None:
        self.uri = uri
        self.root = Path(filesystem_root(uri))
        self._converter = converter
        self._regenerator = regenerator

    @property
    def description(self) -> str:
        """Backend and URI (a filesystem URI carries no credentials)."""
        return f"filesystemdb backend at {self.root}"

    def archive_run(self, run: int, config_name: str, files: Mapping[str, bytes]) -> ArchiveResult:
        """Store a run's files as `R/C` idempotently (§11.3)."""
        return fs_write.archive_run(self.root, self.uri, self._converter, run, config_name, files)

    def update_run_stop(
        self, run: int, config_name: str, runhistory2: bytes, schema: bytes
    ) -> ArchiveResult:
        """Store the stop update under `R/Cvk` unless the newest one is identical (§11.4)."""
        return fs_write.update_run_stop(
            self.root, self.uri, self._converter, run, config_name, runhistory2, schema
        )

    def archive_stopped_run(
        self, run: int, config_name: str, files: Mapping[str, bytes], runhistory2: bytes
    ) -> tuple[ArchiveResult, ArchiveResult | None]:
        """Both writes under one lock, each touched index written once."""
        return fs_write.archive_stopped_run(
            self.root, self.uri, self._converter, run, config_name, files, runhistory2
        )

    def list_runs(self) -> RunListing:
        """Run numbers from `RunHistory/index.json` alone."""
        return fs_listing.list_runs(self.root)

    def run_configurations(self) -> RunConfigurations:
        """run → configuration names from every collection index."""
        return fs_listing.run_configurations(self.root)

    def run_documents(self, run: int) -> tuple[StoredDocument, ...]:
        """The indexed documents of one run."""
        return fs_listing.run_documents(self.root, run)

    def export_run(self, run: int, config_name: str) -> ExportResult:
        """The run's files for packing, raw bytes when the record carries them (§11.6)."""
        return fs_export.export_run(self.root, self._regenerator, run, config_name)

    def verify_run(
        self, run: int, config_name: str, expected: Mapping[str, ExpectedFile]
    ) -> VerifyResult:
        """Completeness check (§11.7); lost index entries are re-indexed."""
        return fs_verify.verify_run(self.root, run, config_name, expected, repair=True)

    def rebuild_indexes(self) -> RebuildReport:
        """Rebuild every collection index from its documents (operator action)."""
        return rebuild_indexes(self.root)
