"""The status report (legacy.md §5) as data: sources, recommendations, state comparison.

Every figure comes from the ledger's run sets (`app.reports.sources`) and a few index probes;
the legacy text is rendered separately (`app.reports.legacy_text`). Runs an operator excluded
are left out of gaps, recommendation counts and the state comparison's counts.
"""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import func, union_all
from sqlmodel import Session, col, select

from app.config import Settings
from app.models import LedgerMeta, Stage, StageStatus, State
from app.redact import redact, redact_url
from app.reports.islands import Extent, Listing, RunBits, RunRange
from app.reports.redaction import configured_secrets
from app.reports.sources import LedgerSets, Source, ledger_sets, listing_outcomes
from app.timeutil import utcnow

GAP_LIMIT = 20
ISLAND_EDGE = 5
STATE_LIST_LIMIT = 10
FAILED_STATES = (State.FAILED, State.RETRY)
STAGE_FLOW = {
    Stage.IMPORT: (Source.FILESYSTEM, Source.ARTDAQDB),
    Stage.MIGRATE: (Source.ARTDAQDB, Source.UCONDB),
}
AdviceKind = Literal["import", "migrate", "not_on_filesystem", "not_in_artdaqdb", "synchronized"]
_ADVICE: tuple[tuple[AdviceKind, Source, Source, str], ...] = (
    (
        "import",
        Source.FILESYSTEM,
        Source.ARTDAQDB,
        "Run IMPORTER: {count} run(s) on filesystem not in artdaqDB (range: {first}-{last})",
    ),
    (
        "migrate",
        Source.ARTDAQDB,
        Source.UCONDB,
        "Run MIGRATOR: {count} run(s) in artdaqDB not in UconDB (range: {first}-{last})",
    ),
    (
        "not_on_filesystem",
        Source.ARTDAQDB,
        Source.FILESYSTEM,
        "WARNING: {count} run(s) in artdaqDB but not on filesystem (may have been deleted)",
    ),
    (
        "not_in_artdaqdb",
        Source.UCONDB,
        Source.ARTDAQDB,
        "INFO: {count} run(s) in UconDB but not in artdaqDB "
        "(may have been cleaned up from intermediate storage)",
    ),
)


class SourceSummary(BaseModel):
    """One source: where it is, whether its listing worked, its islands, gaps and exclusions."""

    source: Source
    location: str
    folder_object: str | None = None
    listed_at: datetime | None = None
    error: str | None = None
    total: int
    first: int | None
    last: int | None
    islands: list[RunRange]
    islands_total: int
    gaps: list[int]
    gaps_total: int
    excluded: list[int]
    excluded_total: int


class Recommendation(BaseModel):
    """One thing an operator should know or do, with the runs it concerns."""

    kind: AdviceKind
    count: int
    first: int | None = None
    last: int | None = None
    message: str


class StageComparison(BaseModel):
    """A stage's watermark against its source and destination (`--compare-state`)."""

    stage: Stage
    last_contiguous_run: int
    missing: Listing | None = None
    new_runs: Extent | None = None
    failed: Listing


class StatusReport(BaseModel):
    """The whole report; `ok` is False when a source's listing failed (then no advice)."""

    generated_at: datetime
    ok: bool
    sources: list[SourceSummary]
    recommendations: list[Recommendation]
    state_comparison: list[StageComparison]


def _locations(settings: Settings) -> dict[Source, str]:
    """Where each source is, with any password in a URL replaced by ***."""
    return {
        Source.FILESYSTEM: str(settings.source_files.run_records_dir),
        Source.ARTDAQDB: redact_url(settings.artdaq_db.database_uri),
        Source.UCONDB: redact_url(settings.ucon_db.server_url),
    }


def _figures(runs: RunBits, excluded: RunBits) -> dict[str, Any]:
    """Total, span, islands, gaps (excluded runs left out) and excluded runs in the span."""
    span = runs.extent()
    islands, islands_total = runs.island_edges(edge=ISLAND_EDGE)
    missing = runs.gaps(skip=excluded, limit=GAP_LIMIT)
    skipped = Listing(numbers=[], total=0)
    if span.first is not None and span.last is not None:
        skipped = excluded.within(span.first, span.last).listing(GAP_LIMIT)
    return {
        "total": span.count,
        "first": span.first,
        "last": span.last,
        "islands": islands,
        "islands_total": islands_total,
        "gaps": missing.numbers,
        "gaps_total": missing.total,
        "excluded": skipped.numbers,
        "excluded_total": skipped.total,
    }


def _recommendations(sets: LedgerSets) -> list[Recommendation]:
    """legacy.md §5.4, in its order; excluded runs are not counted."""
    found = []
    for kind, left, right, text in _ADVICE:
        runs_only_left = (sets.sources[left] - sets.sources[right] - sets.excluded).extent()
        if runs_only_left.count:
            found.append(
                Recommendation(
                    kind=kind,
                    **runs_only_left.model_dump(),
                    message=text.format(**runs_only_left.model_dump()),
                )
            )
    return found or [
        Recommendation(
            kind="synchronized", count=0, message="All systems are synchronized - no action needed"
        )
    ]


def _lowest_row(session: Session, stage: Stage) -> int | None:
    """The stage's lowest run: one index probe per state, not a scan of the stage's rows."""
    number = col(StageStatus.run_number)
    lowest = (
        select(func.min(number))
        .where(col(StageStatus.stage) == stage, col(StageStatus.state) == state)
        .scalar_subquery()
        for state in State
    )
    found = [run for run in session.execute(select(*lowest)).one() if run is not None]
    return min(found, default=None)


def _watermark(session: Session, stage: Stage, settled: RunBits) -> int | None:
    """The stage's last contiguous run as `derived_watermark` defines it (end of the unbroken
    sequence of done/excluded runs from the stage's lowest run, else the legacy watermark),
    from the settled run set instead of a window over every row of the stage."""
    lowest = _lowest_row(session, stage)
    if lowest is not None and lowest in settled:
        return settled.island_end(lowest)
    legacy = session.get(LedgerMeta, f"legacy_watermark.{stage.value}")
    if legacy is not None and legacy.value.get("last_contiguous_run"):
        return int(legacy.value["last_contiguous_run"])
    return None


def _failed(session: Session, stage: Stage) -> Listing:
    """The stage's failed and retrying runs: the first few of each state from the (stage,
    state, run_number) index, and their count (never a walk of every row of the stage)."""
    number = col(StageStatus.run_number)
    of_stage = col(StageStatus.stage) == stage
    firsts = [
        select(number).where(of_stage, col(StageStatus.state) == state).order_by(number)
        for state in FAILED_STATES
    ]
    merged = union_all(*(select(first.limit(STATE_LIST_LIMIT).subquery()) for first in firsts))
    ordered = merged.subquery("failed")
    numbers = session.execute(
        select(ordered.c.run_number).order_by(ordered.c.run_number).limit(STATE_LIST_LIMIT)
    ).scalars()
    total = session.execute(
        select(func.count()).where(of_stage, col(StageStatus.state).in_(FAILED_STATES))
    ).scalar_one()
    return Listing(numbers=list(numbers), total=total)


def _comparison(session: Session, stage: Stage, sets: LedgerSets) -> StageComparison:
    origin, destination = (sets.sources[source] for source in STAGE_FLOW[stage])
    last = _watermark(session, stage, sets.settled(stage)) or 0
    failed = _failed(session, stage)
    if not last:
        return StageComparison(stage=stage, last_contiguous_run=0, failed=failed)
    absent = origin - destination - sets.excluded
    missing = absent.within(last=last).listing(STATE_LIST_LIMIT)
    new_runs = (origin - sets.excluded).within(first=last + 1).extent()
    return StageComparison(
        stage=stage, last_contiguous_run=last, missing=missing, new_runs=new_runs, failed=failed
    )


def build_status_report(
    session: Session,
    settings: Settings,
    *,
    now: datetime | None = None,
    sets: LedgerSets | None = None,
) -> StatusReport:
    """The status report of the ledger as it stands; locations and errors are redacted.
    `sets`: the ledger's run sets when the caller already read them."""
    secrets = configured_secrets(settings)
    locations = _locations(settings)
    outcomes = listing_outcomes(session)
    sets = sets or ledger_sets(session)
    summaries = []
    for source in Source:
        outcome = outcomes.get(source)
        summaries.append(
            SourceSummary(
                source=source,
                location=locations[source],
                folder_object=f"{settings.ucon_db.folder_name}/{settings.ucon_db.object_name}"
                if source is Source.UCONDB
                else None,
                listed_at=outcome.at if outcome else None,
                error=redact(outcome.error, secrets) if outcome and outcome.error else None,
                **_figures(sets.sources[source], sets.excluded),
            )
        )
    ok = all(summary.error is None for summary in summaries)
    return StatusReport(
        generated_at=now or utcnow(),
        ok=ok,
        sources=summaries,
        recommendations=_recommendations(sets) if ok else [],
        state_comparison=[_comparison(session, stage, sets) for stage in Stage] if ok else [],
    )
