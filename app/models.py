"""The ledger: SQLModel tables for runs, per-stage status, events, jobs and API tokens.

Enums are stored as their string values (no native PostgreSQL enum types, so adding a state is a
plain migration); timestamps use `UtcDateTime`.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, Text
from sqlalchemy import Enum as SAEnum
from sqlmodel import Field, SQLModel

from app.timeutil import UtcDateTime, utcnow
from app.vocabulary import ErrorKind, Stage, State


class Readiness(StrEnum):
    """What the scanner decided about a run directory (run-records.md §4)."""

    READY = "ready"
    IN_PROGRESS = "in_progress"
    NEVER_STOPPED = "never_stopped"
    NEVER_STARTED = "never_started"
    NO_METADATA = "no_metadata"
    UNREADABLE = "unreadable"
    VANISHED = "vanished"


class JobState(StrEnum):
    """Lifecycle of a job triggered from the CLI, the API or the scheduler."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class TokenScope(StrEnum):
    """API token scopes; each includes the rights of the ones before it."""

    READ = "read"
    OPERATE = "operate"
    ADMIN = "admin"


def _enum(enum: type[StrEnum], *, nullable: bool = False, primary_key: bool = False) -> Column:
    """An enum stored as its value in a VARCHAR."""
    kind = SAEnum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=16,
        values_callable=lambda members: [m.value for m in members],
    )
    return Column(kind, nullable=nullable, primary_key=primary_key)


def _when(*, nullable: bool = True, index: bool = False) -> Column:
    """A UTC timestamp column."""
    return Column(UtcDateTime(), nullable=nullable, index=index)


def _big(*, primary_key: bool = False) -> Column:
    """A 64-bit integer column (run numbers, byte counts, version ids)."""
    return Column(BigInteger, primary_key=primary_key, autoincrement=False)


class Run(SQLModel, table=True):
    """One run directory as the scanner last saw it."""

    __tablename__ = "runs"

    run_number: int = Field(sa_column=_big(primary_key=True))
    readiness: Readiness = Field(default=Readiness.IN_PROGRESS, sa_column=_enum(Readiness))
    readiness_reason: str | None = Field(default=None, sa_column=Column(Text))
    config_name: str | None = Field(default=None, max_length=512)
    start_time: str | None = Field(default=None, max_length=128)
    stop_time: str | None = Field(default=None, max_length=128)
    partition: int | None = None
    metadata_size: int | None = Field(default=None, sa_column=_big())
    metadata_mtime_ns: int | None = Field(default=None, sa_column=_big())
    dir_mtime_ns: int | None = Field(default=None, sa_column=_big())
    file_count: int | None = None
    total_bytes: int | None = Field(default=None, sa_column=_big())
    content_hash: str | None = Field(default=None, max_length=64)
    archived_hash: str | None = Field(default=None, max_length=64)
    changed_after_archive: bool = False
    released: bool = False
    excluded_reason: str | None = Field(default=None, sa_column=Column(Text))
    present: bool = True
    first_seen_at: datetime = Field(default_factory=utcnow, sa_column=_when(nullable=False))
    last_scanned_at: datetime = Field(default_factory=utcnow, sa_column=_when(nullable=False))


class SourceAnomaly(SQLModel, table=True):
    """An entry of the run-records directory that is not a usable run, with the reason."""

    __tablename__ = "source_anomalies"

    name: str = Field(primary_key=True, max_length=512)
    reason: str = Field(max_length=40)
    detail: str | None = Field(default=None, sa_column=Column(Text))
    first_seen_at: datetime = Field(default_factory=utcnow, sa_column=_when(nullable=False))
    last_seen_at: datetime = Field(default_factory=utcnow, sa_column=_when(nullable=False))


class StageStatus(SQLModel, table=True):
    """The ledger row of one run in one stage: state, attempts, lease, error and checksums."""

    __tablename__ = "stage_status"
    __table_args__ = (
        Index("ix_stage_status_due", "stage", "state", "next_attempt_at"),
        Index("ix_stage_status_state_run", "state", "run_number"),
        Index("ix_stage_status_lease", "lease_until"),
        Index("ix_stage_status_stage_state_run", "stage", "state", "run_number"),
        Index("ix_stage_status_stage_state_finished", "stage", "state", "finished_at"),
    )

    run_number: int = Field(sa_column=_big(primary_key=True))
    stage: Stage = Field(sa_column=_enum(Stage, primary_key=True))
    state: State = Field(default=State.WAITING, sa_column=_enum(State))
    attempts: int = 0
    attempts_before_reset: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_column=_when())
    lease_owner: str | None = Field(default=None, max_length=128)
    lease_until: datetime | None = Field(default=None, sa_column=_when())
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    error_kind: ErrorKind | None = Field(default=None, sa_column=_enum(ErrorKind, nullable=True))
    started_at: datetime | None = Field(default=None, sa_column=_when())
    finished_at: datetime | None = Field(default=None, sa_column=_when())
    duration_ms: float | None = None
    entity_count: int | None = None
    bytes: int | None = Field(default=None, sa_column=_big())
    content_hash: str | None = Field(default=None, max_length=64)
    blob_size: int | None = Field(default=None, sa_column=_big())
    blob_adler32: str | None = Field(default=None, max_length=8)
    blob_md5: str | None = Field(default=None, max_length=32)
    blob_sha256: str | None = Field(default=None, max_length=64)
    ucondb_version_id: int | None = Field(default=None, sa_column=_big())
    details: dict | None = Field(default=None, sa_column=Column(JSON(none_as_null=True)))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_when(nullable=False))


class RunEvent(SQLModel, table=True):
    """Append-only history: every state transition and operator action, with its actor."""

    __tablename__ = "run_events"
    __table_args__ = (Index("ix_run_events_run", "run_number", "id"),)

    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    )
    run_number: int | None = Field(default=None, sa_column=_big())
    stage: Stage | None = Field(default=None, sa_column=_enum(Stage, nullable=True))
    at: datetime = Field(default_factory=utcnow, sa_column=_when(nullable=False, index=True))
    actor: str = Field(max_length=128)
    from_state: str | None = Field(default=None, max_length=20)
    to_state: str | None = Field(default=None, max_length=20)
    message: str | None = Field(default=None, sa_column=Column(Text))


class Job(SQLModel, table=True):
    """A unit of requested work (scan, import, migrate, reconcile, …) with live progress."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_kind_state", "kind", "state"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    params: dict = Field(default_factory=dict, sa_column=Column(JSON(none_as_null=True)))
    state: JobState = Field(default=JobState.QUEUED, sa_column=_enum(JobState))
    requested_by: str = Field(max_length=128)
    owner: str | None = Field(default=None, max_length=128)
    heartbeat_at: datetime | None = Field(default=None, sa_column=_when())
    total: int = 0
    done: int = 0
    failed: int = 0
    current_run: int | None = Field(default=None, sa_column=_big())
    cancel_requested: bool = False
    message: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_when(nullable=False))
    started_at: datetime | None = Field(default=None, sa_column=_when())
    finished_at: datetime | None = Field(default=None, sa_column=_when())


class ApiToken(SQLModel, table=True):
    """A bearer token for the REST API; only its hash is stored."""

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=128, unique=True)
    scope: TokenScope = Field(sa_column=_enum(TokenScope))
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_when(nullable=False))
    last_used_at: datetime | None = Field(default=None, sa_column=_when())
    revoked_at: datetime | None = Field(default=None, sa_column=_when())


class LedgerMeta(SQLModel, table=True):
    """Small named values: legacy watermarks, last scan time, schema notes."""

    __tablename__ = "ledger_meta"

    key: str = Field(primary_key=True, max_length=128)
    value: dict = Field(default_factory=dict, sa_column=Column(JSON(none_as_null=True)))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_when(nullable=False))


class StoreRun(SQLModel, table=True):
    """A run that a store (artdaq_database, UconDB) was seen to hold at its last listing.

    Kept by reconcile so reports compute gaps and islands of every source in SQL.
    """

    __tablename__ = "store_runs"

    store: str = Field(primary_key=True, max_length=16)
    run_number: int = Field(sa_column=_big(primary_key=True))
    seen_at: datetime = Field(default_factory=utcnow, sa_column=_when(nullable=False))


class RunSetWord(SQLModel, table=True):
    """64 consecutive runs of a named run set as the bits of one integer (bit i: run
    64 × word + i), kept by database triggers on `runs`, `store_runs` and `stage_status`
    (migration 0002), so reports read a few thousand words instead of a million rows.

    Sets: `runs:present`, `runs:excluded`, `stores:<store>`, `stage:<stage>:done` and
    `stage:<stage>:excluded`. A word may be 0 once its runs left the set.
    """

    __tablename__ = "run_sets"

    name: str = Field(primary_key=True, max_length=32)
    word: int = Field(sa_column=_big(primary_key=True))
    bits: int = Field(sa_column=Column(BigInteger, nullable=False))
