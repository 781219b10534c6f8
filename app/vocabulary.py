"""The ledger's vocabulary (stages, states, error kinds) apart from its tables, so that import
worker processes, which never touch the ledger, do not load the ORM."""

from enum import StrEnum


class Stage(StrEnum):
    """Pipeline stages: import into artdaq_database, migrate to UconDB."""

    IMPORT = "import"
    MIGRATE = "migrate"


class State(StrEnum):
    """States of a (run, stage) row; see DESIGN.md "States"."""

    WAITING = "waiting"
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    RETRY = "retry"
    FAILED = "failed"
    CONFLICT = "conflict"
    EXCLUDED = "excluded"


class ErrorKind(StrEnum):
    """Classification of a stage failure, so operators know where to look."""

    SOURCE = "source"
    FHICL = "fhicl"
    ARTDAQDB = "artdaqdb"
    UCONDB = "ucondb"
    VERIFY = "verify"
    CONFLICT = "conflict"
    INTERNAL = "internal"
