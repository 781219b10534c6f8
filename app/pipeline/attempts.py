"""What one stage attempt is given (a `Claim`) and what it ends with (a `StageOutcome`, or a
`StageFailure` raised): kept apart from the driver so import worker processes load no ORM."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.vocabulary import ErrorKind, Stage


@dataclass(frozen=True)
class Claim:
    """A row this worker holds: the run, the stage, which attempt this is, the lease."""

    run: int
    stage: Stage
    attempt: int
    owner: str
    lease_until: datetime


class StageFailure(Exception):
    """A stage attempt failed for a known reason; `kind` classifies it for operators."""

    def __init__(self, kind: ErrorKind, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.retryable = retryable

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle with every field (import attempts return failures from worker processes)."""
        return (type(self), (self.kind, self.message), {"retryable": self.retryable})


@dataclass(frozen=True)
class StageOutcome:
    """A successful attempt: a message for the history and the ledger columns to set."""

    message: str
    fields: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
