"""The status report rendered in the legacy layout, byte for byte against expected files."""

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from report_seed import (
    EMPTY_LOCATIONS,
    MIXED_LOCATIONS,
    SPEC_LOCATIONS,
    LedgerSpec,
    Locations,
    empty_example,
    mixed_example,
    report_settings,
    seed,
    spec_example,
)
from sqlmodel import Session

from app.reports.islands import RunRange
from app.reports.legacy_text import format_numbers, format_ranges, render_legacy_text
from app.reports.sources import Source, record_listing
from app.reports.status import build_status_report

EXPECTED = Path(__file__).parent / "expected"


def render(session: Session, db_url: str, where: Locations, *, compare_state: bool) -> str:
    report = build_status_report(session, report_settings(db_url, where))
    return render_legacy_text(report, compare_state=compare_state)


@pytest.mark.parametrize(
    ("example", "where", "compare_state", "expected"),
    [
        (spec_example, SPEC_LOCATIONS, True, "spec_example.txt"),
        (spec_example, SPEC_LOCATIONS, False, "spec_example_status_only.txt"),
        (mixed_example, MIXED_LOCATIONS, True, "mixed.txt"),
        (empty_example, EMPTY_LOCATIONS, True, "empty.txt"),
    ],
)
def test_report_text_matches_expected_file(
    session: Session,
    db_url: str,
    example: Callable[[], LedgerSpec],
    where: Locations,
    compare_state: bool,
    expected: str,
) -> None:
    seed(session, example())
    text = render(session, db_url, where, compare_state=compare_state)
    assert text == (EXPECTED / expected).read_text(encoding="utf-8")


def test_expected_file_is_the_spec_example(shared_dir: Path) -> None:
    spec = (shared_dir / "spec" / "legacy.md").read_text(encoding="utf-8")
    section = spec[spec.index("### 5.5") :]
    block = re.search(r"```\n(.*?)```", section, re.DOTALL)
    assert block is not None
    assert block.group(1) == (EXPECTED / "spec_example.txt").read_text(encoding="utf-8")


def test_a_failed_listing_ends_the_text_and_is_redacted(session: Session, db_url: str) -> None:
    seed(session, spec_example())
    error = "ServerSelectionTimeoutError: mongodb://archiver:s3cret-db@db.example:27017 unreachable"
    record_listing(session, Source.ARTDAQDB, error=error)
    session.commit()
    report = build_status_report(session, report_settings(db_url, MIXED_LOCATIONS))
    assert not report.ok and report.recommendations == [] and report.state_comparison == []
    text = render_legacy_text(report, compare_state=True)
    assert text == (EXPECTED / "failed_source.txt").read_text(encoding="utf-8")
    record_listing(session, Source.ARTDAQDB, error=None)
    session.commit()
    assert build_status_report(session, report_settings(db_url, MIXED_LOCATIONS)).ok


def test_excluding_a_gap_removes_it_from_gaps_and_advice(session: Session, db_url: str) -> None:
    spec = spec_example()
    spec.excluded = {17511: "never taken", 17526: "bad run"}
    seed(session, spec)
    text = render(session, db_url, SPEC_LOCATIONS, compare_state=False)
    filesystem = text[text.index("FILESYSTEM") : text.index("ARTDAQDB (")]
    assert "  Gaps:            17495\n" in filesystem
    assert "  Excluded:        17511, 17526\n" in filesystem
    assert "1. Run IMPORTER: 5 run(s) on filesystem not in artdaqDB (range: 17502-17530)" in text
    ucondb = text[text.index("UCONDB (") :]
    assert "  Excluded:        17511\n" in ucondb


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (0, "None"),
        (1, "1-2"),
        (10, "1-2, 4-5, 7-8, 10-11, 13-14, 16-17, 19-20, 22-23, 25-26, 28-29"),
        (11, "1-2, 4-5, 7-8, 10-11, 13-14 ... 19-20, 22-23, 25-26, 28-29, 31-32 (11 ranges total)"),
    ],
)
def test_range_format(count: int, expected: str) -> None:
    ranges = [RunRange(first=1 + 3 * i, last=2 + 3 * i) for i in range(count)]
    shown = ranges if count <= 10 else ranges[:5] + ranges[-5:]
    assert format_ranges(shown, count) == expected


def test_number_list_format() -> None:
    assert format_numbers([], 0, 20) == "None"
    assert format_numbers([7], 1, 20) == "7"
    assert format_numbers(list(range(1, 21)), 20, 20) == ", ".join(map(str, range(1, 21)))
    assert format_numbers(list(range(1, 21)), 25, 20).endswith("19, 20 ... (25 gaps total)")
    assert (
        format_numbers(list(range(1, 21)), 25, 10)
        == "1, 2, 3, 4, 5, 6, 7, 8, 9, 10 ... (25 gaps total)"
    )
