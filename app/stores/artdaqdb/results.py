"""Result objects every artdaq_database backend returns (the pipeline records them; no printing)."""

from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple


class Outcome(StrEnum):
    """Per-run outcome of an archive or update (artdaqdb.md §11.3); the first three succeed."""

    INSERTED = "inserted"
    COMPLETED = "completed"
    UNCHANGED = "unchanged"
    CONFLICT = "conflict"
    FOREIGN_CONFIGURATION = "foreign_configuration"
    DUPLICATE = "duplicate"
    MISSING_BASE = "missing_base"


SUCCESS = frozenset({Outcome.INSERTED, Outcome.COMPLETED, Outcome.UNCHANGED})


class EntityStatus(StrEnum):
    """What happened to one entity of the run."""

    WRITTEN = "written"
    REINDEXED = "reindexed"
    UNCHANGED = "unchanged"
    CONFLICT = "conflict"
    DUPLICATE = "duplicate"
    NOT_WRITTEN = "not_written"


@dataclass(frozen=True)
class EntityResult:
    """One entity of a run: where it is (or would be) stored and what was done."""

    entity: str
    collection: str
    version: str
    status: EntityStatus
    oid: str | None
    size: int
    sha256: str
    parse_error: str | None = None
    ascii_replaced: bool = False
    detail: str = ""


@dataclass(frozen=True)
class StoredDocument:
    """A document of a run as the indexes describe it."""

    collection: str
    entity: str
    version: str
    configuration: str
    oid: str


@dataclass(frozen=True)
class ArchiveResult:
    """Outcome of `archive_run` or `update_run_stop` for one run."""

    run: int
    configuration: str
    version: str
    outcome: Outcome
    entities: tuple[EntityResult, ...] = ()
    extra: tuple[StoredDocument, ...] = ()
    foreign: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True for inserted, completed and unchanged."""
        return self.outcome in SUCCESS


@dataclass(frozen=True)
class RunListing:
    """Archived run numbers read from the indexes, with names that are not canonical runs."""

    runs: tuple[int, ...]
    anomalies: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunConfigurations:
    """run → configuration names; more than one name for a run is an anomaly (§2)."""

    by_run: dict[int, tuple[str, ...]]
    anomalies: tuple[str, ...] = ()


class FileSource(StrEnum):
    """Whether an exported file is the original bytes or FHiCL regenerated from the record."""

    RAW = "raw"
    REGENERATED = "regenerated"


@dataclass(frozen=True)
class ExportEntry:
    """One line of the export manifest (§11.6 step 4)."""

    file_name: str
    entity: str
    collection: str
    version: str | None
    oid: str | None
    size: int
    sha256: str
    source: FileSource


@dataclass(frozen=True)
class ExportResult:
    """A run's files for packing, in entity order, with the manifest that describes them."""

    run: int
    configuration: str
    files: dict[str, bytes]
    manifest: tuple[ExportEntry, ...]
    warnings: tuple[str, ...] = ()


class ExpectedFile(NamedTuple):
    """What the project intended to store for an entity; `version` None means "the usual one"."""

    size: int
    sha256: str
    version: str | None = None


@dataclass(frozen=True)
class VerifyIssue:
    """One finding of a completeness check."""

    entity: str
    collection: str
    version: str | None
    oid: str | None
    detail: str


@dataclass(frozen=True)
class VerifyResult:
    """A run's completeness (§11.7); only a complete run may be migrated."""

    run: int
    configuration: str
    missing: tuple[VerifyIssue, ...] = ()
    extra: tuple[VerifyIssue, ...] = ()
    unindexed: tuple[VerifyIssue, ...] = ()
    mismatch: tuple[VerifyIssue, ...] = ()
    duplicate: tuple[VerifyIssue, ...] = ()
    unverifiable: tuple[VerifyIssue, ...] = ()

    @property
    def complete(self) -> bool:
        """Every expected entity present and matching; re-indexed entries count as present."""
        return not (self.missing or self.mismatch or self.duplicate)


@dataclass(frozen=True)
class RebuildReport:
    """What `rebuild_indexes` indexed per collection and which files it had to skip."""

    indexed: dict[str, int]
    skipped: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
