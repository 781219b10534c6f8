"""The three sources a report compares, as run sets, and whether each one's last listing worked.

FS is the run directories the scanner last saw. A and U are what reconcile last listed in each
store, plus the runs whose import/migration has been verified since (listings are periodic,
verified writes are immediate). The ledger's triggers keep these sets in `run_sets`
(migration 0002), so reading them costs one word per 64 runs.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy import case, func
from sqlmodel import Session, col, select

from app.models import LedgerMeta, RunSetWord, Stage, State
from app.reports.islands import WORD_BITS, RunBits
from app.timeutil import utcnow


class Source(StrEnum):
    """Where run records live, in pipeline order."""

    FILESYSTEM = "filesystem"
    ARTDAQDB = "artdaqdb"
    UCONDB = "ucondb"


WRITTEN_BY = {Source.ARTDAQDB: Stage.IMPORT, Source.UCONDB: Stage.MIGRATE}
SETTLED = (State.DONE, State.EXCLUDED)
PRESENT, EXCLUDED = "runs:present", "runs:excluded"
_LISTING_KEY = "listing.{}"


class ListingOutcome(BaseModel):
    """How the last listing of a source ended (error None = it worked)."""

    at: datetime
    error: str | None = None


@dataclass(frozen=True)
class LedgerSets:
    """The run sets a report compares, read from the ledger at once; `states` holds each
    stage's done and excluded rows (the gap map counts them from here)."""

    sources: dict[Source, RunBits]
    excluded: RunBits
    states: dict[tuple[Stage, State], RunBits]

    def settled(self, stage: Stage) -> RunBits:
        """The stage's rows that are done or excluded."""
        done, excluded = (self.states[stage, state] for state in SETTLED)
        return done | excluded


def stage_set(stage: Stage, state: State) -> str:
    """The name of the run set of a stage's rows in a state (done or excluded only)."""
    return f"stage:{stage.value}:{state.value}"


def load_run_sets(
    session: Session, names: list[str], *, first: int | None = None, last: int | None = None
) -> dict[str, RunBits]:
    """The named run sets (optionally only their words holding runs `first`…`last`): one row
    per word with a column per set, a fifth of the rows of one row per (set, word)."""
    table = RunSetWord.__table__  # type: ignore[attr-defined]
    query = (
        select(
            table.c.word, *(func.max(case((table.c.name == name, table.c.bits))) for name in names)
        )
        .where(table.c.name.in_(names), table.c.bits != 0)
        .group_by(table.c.word)
    )
    if first is not None:
        query = query.where(table.c.word >= first // WORD_BITS)
    if last is not None:
        query = query.where(table.c.word <= last // WORD_BITS)
    rows = session.execute(query).all()
    return {
        name: RunBits({row[0]: row[column] for row in rows if row[column]})
        for column, name in enumerate(names, start=1)
    }


def ledger_sets(session: Session) -> LedgerSets:
    """FS (present runs), A and U (listed by reconcile, or verified done since), the runs an
    operator excluded, and each stage's done and excluded rows, from `run_sets`."""
    stages = [(stage, state) for stage in Stage for state in SETTLED]
    stores = {source: f"stores:{source.value}" for source in WRITTEN_BY}
    names = [PRESENT, EXCLUDED, *stores.values(), *(stage_set(*pair) for pair in stages)]
    sets = load_run_sets(session, names)
    states = {pair: sets[stage_set(*pair)] for pair in stages}
    sources = {Source.FILESYSTEM: sets[PRESENT]}
    for source, stage in WRITTEN_BY.items():
        sources[source] = sets[stores[source]] | states[stage, State.DONE]
    return LedgerSets(sources=sources, excluded=sets[EXCLUDED], states=states)


def record_listing(
    session: Session, source: Source, *, error: str | None, now: datetime | None = None
) -> None:
    """Remember how listing `source` ended, so reports show a failed source as failed.

    Called by whatever lists a source (scan, reconcile); `error` must already be redacted.
    """
    key = _LISTING_KEY.format(source.value)
    outcome = ListingOutcome(at=now or utcnow(), error=error)
    row = session.get(LedgerMeta, key) or LedgerMeta(key=key)
    row.value = outcome.model_dump(mode="json")
    row.updated_at = outcome.at
    session.add(row)


def listing_outcomes(session: Session) -> dict[Source, ListingOutcome]:
    """The last recorded listing outcome of each source that has one."""
    keys = {_LISTING_KEY.format(source.value): source for source in Source}
    rows = session.exec(select(LedgerMeta).where(col(LedgerMeta.key).in_(keys)))
    return {keys[row.key]: ListingOutcome.model_validate(row.value) for row in rows}
