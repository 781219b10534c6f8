"""Gaps and islands from the ledger's run sets agree with a plain Python reference, on SQLite
and PostgreSQL (the sets are written through the tables, so their triggers are exercised)."""

from itertools import pairwise

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlmodel import Session

from app.models import Run, StoreRun
from app.reports.islands import RunBits, RunRange
from app.reports.sources import Source, ledger_sets

LIMIT, EDGE = 20, 5
HUGE = 2_000_000_000


def reference_islands(runs: set[int]) -> list[tuple[int, int]]:
    islands: list[tuple[int, int]] = []
    for number in sorted(runs):
        if islands and islands[-1][1] == number - 1:
            islands[-1] = (islands[-1][0], number)
        else:
            islands.append((number, number))
    return islands


def reference_holes(runs: set[int]) -> list[tuple[int, int]]:
    islands = reference_islands(runs)
    return [(end + 1, start - 1) for (_, end), (start, _) in pairwise(islands)]


def edges(ranges: list[tuple[int, int]], edge: int) -> list[tuple[int, int]]:
    return ranges if len(ranges) <= 2 * edge else ranges[:edge] + ranges[-edge:]


def store(session: Session, runs: set[int], excluded: set[int]) -> None:
    session.execute(delete(StoreRun))
    session.execute(delete(Run))
    session.add_all(StoreRun(store="ucondb", run_number=n) for n in runs)
    session.add_all(Run(run_number=n, present=False, excluded_reason="x") for n in excluded)
    session.flush()


def bits_of(runs: set[int]) -> RunBits:
    words: dict[int, int] = {}
    for number in runs:
        words[number >> 6] = words.get(number >> 6, 0) | 1 << (number & 63)
    return RunBits(words)


run_sets = st.sets(st.integers(1, 200), max_size=90).flatmap(
    lambda small: st.booleans().map(lambda stray: small | {HUGE} if stray and small else small)
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(runs=run_sets, excluded=st.sets(st.integers(1, 210), max_size=12))
def test_matches_the_reference(session: Session, runs: set[int], excluded: set[int]) -> None:
    store(session, runs, excluded)
    sets = ledger_sets(session)
    source, skip = sets.sources[Source.UCONDB], sets.excluded
    span = source.extent()
    assert (span.count, span.first, span.last) == (
        len(runs),
        min(runs, default=None),
        max(runs, default=None),
    )
    found_islands, total = source.island_edges(edge=EDGE)
    assert total == len(reference_islands(runs))
    assert [(r.first, r.last) for r in found_islands] == edges(reference_islands(runs), EDGE)
    found = source.gaps(skip=skip, limit=LIMIT)
    ranges, ranges_total = source.gap_ranges(skip=skip, edge=EDGE)
    if runs:
        lo, hi = min(runs), max(runs)
        cover = runs | {n for n in excluded if lo <= n <= hi}
        holes = reference_holes(cover)
        first = [n for n in range(lo, min(hi, lo + 500)) if n not in cover]
        assert found.total == hi - lo + 1 - len(cover)
        assert found.numbers == first[:LIMIT]
        assert ranges_total == len(holes)
        assert [(r.first, r.last) for r in ranges] == edges(holes, EDGE)
    else:
        assert (found.total, found.numbers, ranges, ranges_total) == (0, [], [], 0)
    listed = skip.listing(3)
    assert listed.numbers == sorted(excluded)[:3] and listed.total == len(excluded)
    assert (skip - source).count() == len(excluded - runs)
    assert (skip | source).count() == len(excluded | runs)
    session.rollback()


def test_a_stray_huge_run_is_counted_not_enumerated(session: Session) -> None:
    store(session, {1, 2, 5, HUGE}, {3})
    sets = ledger_sets(session)
    found = sets.sources[Source.UCONDB].gaps(skip=sets.excluded, limit=LIMIT)
    assert found.total == HUGE - 4 - 1
    assert found.numbers[:3] == [4, 6, 7] and len(found.numbers) == LIMIT
    assert found.numbers[-1] == 6 + LIMIT - 2


@given(
    runs=st.sets(st.integers(0, 700), max_size=300),
    start=st.integers(0, 90),
    width=st.sampled_from([1, 2, 5, 10, 50, 64, 100, 128, 200, 500]),
    lo=st.integers(0, 700),
    hi=st.integers(0, 700),
)
def test_bucket_counts_and_bounds_match_the_reference(
    runs: set[int], start: int, width: int, lo: int, hi: int
) -> None:
    bits = bits_of(runs)
    inside = {n for n in runs if min(lo, hi) <= n <= max(lo, hi)}
    assert sorted(bits.within(min(lo, hi), max(lo, hi)).ascending()) == sorted(inside)
    expected: dict[int, int] = {}
    for number in runs:
        if number >= start:
            expected[(number - start) // width] = expected.get((number - start) // width, 0) + 1
    assert bits.bucket_counts(start=start, width=width) == expected
    assert list(bits.descending()) == sorted(runs, reverse=True)
    for first, last in reference_islands(runs):
        assert bits.island_end(first) == last and bits.island_end(last) == last


def test_words_stored_signed_read_as_their_runs() -> None:
    top = RunBits({3: -(2**63), 4: -1})
    assert list(top.ascending()) == [3 * 64 + 63, *range(4 * 64, 5 * 64)]
    assert top.island_edges(edge=EDGE) == ([RunRange(first=255, last=319)], 1)
