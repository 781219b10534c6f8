"""The status report in the legacy layout (legacy.md §5), as bare message lines.

Operators' scripts and mail filters read this text, so labels, padding and list formats follow
the legacy tool exactly; the figures come from `app.reports.status`.
"""

from app.models import Stage
from app.reports.islands import Listing, RunRange
from app.reports.sources import Source
from app.reports.status import (
    GAP_LIMIT,
    ISLAND_EDGE,
    STATE_LIST_LIMIT,
    SourceSummary,
    StageComparison,
    StatusReport,
)

RULE = "=" * 70
THIN_RULE = "-" * 70
_QUERY_NAME = {
    Source.FILESYSTEM: "Filesystem",
    Source.ARTDAQDB: "ArtdaqDB",
    Source.UCONDB: "UconDB",
}
_HEADING = {
    Source.FILESYSTEM: "FILESYSTEM (Source)",
    Source.ARTDAQDB: "ARTDAQDB (Intermediate Storage)",
    Source.UCONDB: "UCONDB (Long-term Storage)",
}
_LOCATION_LABEL = {
    Source.FILESYSTEM: "Location:",
    Source.ARTDAQDB: "Database URI:",
    Source.UCONDB: "Server URL:",
}
_STAGE_TEXT = {
    Stage.IMPORT: ("IMPORT", "ArtdaqDB", "import", "  Missing in ArtdaqDB:  "),
    Stage.MIGRATE: ("MIGRATION", "UconDB", "migration", "  Missing in UconDB:   "),
}


def _field(label: str, value: object) -> str:
    """A summary line whose value starts in column 20."""
    return f"  {label:<17}{value}"


def _state_field(label: str, value: object) -> str:
    """A state-comparison line whose value starts in column 24."""
    return f"  {label:<21}{value}"


def _banner(title: str) -> list[str]:
    return [RULE, title, RULE]


def format_ranges(ranges: list[RunRange], total: int) -> str:
    """Islands as `a-b, c`; beyond 2 × ISLAND_EDGE: the first and last ones and the count."""
    if total == 0:
        return "None"
    texts = [str(r.first) if r.first == r.last else f"{r.first}-{r.last}" for r in ranges]
    if total <= 2 * ISLAND_EDGE:
        return ", ".join(texts)
    head, tail = texts[:ISLAND_EDGE], texts[-ISLAND_EDGE:]
    return f"{', '.join(head)} ... {', '.join(tail)} ({total} ranges total)"


def format_numbers(numbers: list[int], total: int, limit: int) -> str:
    """Numbers listed one by one; beyond `limit`: the first `limit` and the count."""
    if total == 0:
        return "None"
    text = ", ".join(str(n) for n in numbers[:limit])
    return f"{text} ... ({total} gaps total)" if total > limit else text


def _source_block(summary: SourceSummary) -> list[str]:
    lines = [_HEADING[summary.source], THIN_RULE]
    lines.append(_field(_LOCATION_LABEL[summary.source], summary.location))
    if summary.folder_object is not None:
        lines.append(_field("Folder/Object:", summary.folder_object))
    lines.append(_field("Total Runs:", summary.total))
    if summary.total == 0:
        return [*lines, _field("Status:", "No runs found")]
    lines.append(_field("Range:", f"{summary.first} to {summary.last}"))
    lines.append(_field("Contiguous:", format_ranges(summary.islands, summary.islands_total)))
    lines.append(_field("Gaps:", format_numbers(summary.gaps, summary.gaps_total, GAP_LIMIT)))
    if summary.excluded_total:
        excluded = format_numbers(summary.excluded, summary.excluded_total, GAP_LIMIT)
        lines.append(_field("Excluded:", excluded))
    return lines


def _listed(listing: Listing) -> str:
    return format_numbers(listing.numbers, listing.total, STATE_LIST_LIMIT)


def _stage_block(comparison: StageComparison) -> list[str]:
    title, store, noun, missing_label = _STAGE_TEXT[comparison.stage]
    lines = [f"{title} STAGE STATE", THIN_RULE]
    last = comparison.last_contiguous_run
    lines.append(_state_field("Last Contiguous Run:", last))
    if last:
        missing = comparison.missing
        if missing is not None and missing.total:
            lines.append(
                f"{missing_label}{missing.total} run(s) before last contiguous ({_listed(missing)})"
            )
        else:
            lines.append(_state_field("Status:", f"All expected runs present in {store}"))
        new = comparison.new_runs
        if new is not None and new.count:
            lines.append(
                _state_field(
                    "New Runs Available:",
                    f"{new.count} run(s) since last state update (range: {new.first}-{new.last})",
                )
            )
    else:
        lines.append(_state_field("Status:", f"No {noun} state recorded"))
    if comparison.failed.total:
        lines.append(
            _state_field(
                "Failed Runs:",
                f"{comparison.failed.total} run(s) logged as failed ({_listed(comparison.failed)})",
            )
        )
    return lines


def render_legacy_text(report: StatusReport, *, compare_state: bool) -> str:
    """The report's message lines, newline-terminated; stops at the first failed source."""
    lines = [*_banner("RUN RECORD ARCHIVER - STATUS REPORT"), "Querying data sources..."]
    for summary in report.sources:
        name = _QUERY_NAME[summary.source]
        if summary.error is not None:
            lines.append(f"✗ {name} query failed: {summary.error}")
            return "\n".join(lines) + "\n"
        lines.append(f"✓ {name} query complete")
    lines += ["", *_banner("DATA SOURCE SUMMARY")]
    for summary in report.sources:
        lines += ["", *_source_block(summary)]
    if compare_state:
        lines += ["", *_banner("STATE COMPARISON")]
        for comparison in report.state_comparison:
            lines += ["", *_stage_block(comparison)]
    lines += ["", *_banner("RECOMMENDATIONS")]
    lines += [f"{i}. {rec.message}" for i, rec in enumerate(report.recommendations, start=1)]
    lines += ["", *_banner("END OF STATUS REPORT")]
    return "\n".join(lines) + "\n"
