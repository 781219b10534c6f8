"""The status report (legacy.md §5) as data: sources, recommendations, state comparison.

Every figure is computed in SQL from the ledger; the legacy text is rendered separately
(`app.reports.legacy_text`). Runs an operator excluded are left out of gaps, recommendation
counts and the state comparison's counts.
"""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import Subquery
from sqlmodel import Session, col, select

from app.config import Settings
from app.models import Stage, StageStatus, State
from app.pipeline.watermark import derived_watermark
from app.redact import redact, redact_url
from app.reports.islands import (
    Extent,
    Listing,
    RunRange,
    difference,
    extent,
    gaps,
    island_edges,
    listing,
)
from app.reports.redaction import configured_secrets
from app.reports.sources import Source, excluded_runs, listing_outcomes, source_runs
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


def _figures(session: Session, runs: Subquery, excluded: Subquery) -> dict[str, Any]:
    """Total, span, islands, gaps (excluded runs left out) and excluded runs in the span."""
    span = extent(session, runs)
    islands, islands_total = island_edges(session, runs, edge=ISLAND_EDGE)
    missing = gaps(session, runs, span, skip=excluded, limit=GAP_LIMIT)
    skipped = Listing(numbers=[], total=0)
    if span.first is not None and span.last is not None:
        inside = excluded.c.run_number.between(span.first, span.last)
        skipped = listing(session, excluded, limit=GAP_LIMIT, where=inside)
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


def _recommendations(
    session: Session, runs: dict[Source, Subquery], excluded: Subquery
) -> list[Recommendation]:
    """legacy.md §5.4, in its order; excluded runs are not counted."""
    found = []
    for kind, left, right, text in _ADVICE:
        runs_only_left = extent(session, difference(runs[left], runs[right], excluded))
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


def _comparison(
    session: Session, stage: Stage, runs: dict[Source, Subquery], excluded: Subquery
) -> StageComparison:
    origin, destination = (runs[source] for source in STAGE_FLOW[stage])
    last = derived_watermark(session, stage) or 0
    failed_runs = (
        select(col(StageStatus.run_number).label("run_number"))
        .where(col(StageStatus.stage) == stage, col(StageStatus.state).in_(FAILED_STATES))
        .subquery("failed")
    )
    failed = listing(session, failed_runs, limit=STATE_LIST_LIMIT)
    if not last:
        return StageComparison(stage=stage, last_contiguous_run=0, failed=failed)
    absent = difference(origin, destination, excluded)
    missing = listing(session, absent, limit=STATE_LIST_LIMIT, where=absent.c.run_number <= last)
    pending = difference(origin, excluded)
    new_runs = extent(session, pending, pending.c.run_number > last)
    return StageComparison(
        stage=stage, last_contiguous_run=last, missing=missing, new_runs=new_runs, failed=failed
    )


def build_status_report(
    session: Session, settings: Settings, *, now: datetime | None = None
) -> StatusReport:
    """The status report of the ledger as it stands; locations and errors are redacted."""
    secrets = configured_secrets(settings)
    locations = _locations(settings)
    outcomes = listing_outcomes(session)
    excluded = excluded_runs()
    runs = {source: source_runs(source) for source in Source}
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
                **_figures(session, runs[source], excluded),
            )
        )
    ok = all(summary.error is None for summary in summaries)
    return StatusReport(
        generated_at=now or utcnow(),
        ok=ok,
        sources=summaries,
        recommendations=_recommendations(session, runs, excluded) if ok else [],
        state_comparison=[_comparison(session, stage, runs, excluded) for stage in Stage]
        if ok
        else [],
    )
