"""Gaps and islands in SQL agree with a plain Python reference, on SQLite and PostgreSQL."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlmodel import Session

from app.models import Run, StoreRun
from app.reports.islands import difference, extent, gaps, island_edges, listing
from app.reports.sources import Source, excluded_runs, source_runs

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


def store(session: Session, runs: set[int], excluded: set[int]) -> None:
    session.execute(delete(StoreRun))
    session.execute(delete(Run))
    session.add_all(StoreRun(store="ucondb", run_number=n) for n in runs)
    session.add_all(Run(run_number=n, present=False, excluded_reason="x") for n in excluded)
    session.flush()


run_sets = st.sets(st.integers(1, 70), max_size=45).flatmap(
    lambda small: st.booleans().map(lambda stray: small | {HUGE} if stray and small else small)
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(runs=run_sets, excluded=st.sets(st.integers(1, 80), max_size=10))
def test_matches_the_reference(session: Session, runs: set[int], excluded: set[int]) -> None:
    store(session, runs, excluded)
    source, skip = source_runs(Source.UCONDB), excluded_runs()
    span = extent(session, source)
    assert (span.count, span.first, span.last) == (
        len(runs),
        min(runs, default=None),
        max(runs, default=None),
    )
    islands = reference_islands(runs)
    edges, total = island_edges(session, source, edge=EDGE)
    assert total == len(islands)
    shown = islands if len(islands) <= 2 * EDGE else islands[:EDGE] + islands[-EDGE:]
    assert [(r.first, r.last) for r in edges] == shown
    found = gaps(session, source, span, skip=skip, limit=LIMIT)
    if runs:
        lo, hi = min(runs), max(runs)
        missing_count = hi - lo + 1 - len(runs) - len({n for n in excluded if lo <= n <= hi} - runs)
        first = [n for n in range(lo, min(hi, lo + 500)) if n not in runs and n not in excluded]
        assert found.total == missing_count
        assert found.numbers == first[:LIMIT]
    else:
        assert found.total == 0 and found.numbers == []
    listed = listing(session, skip, limit=3)
    assert listed.numbers == sorted(excluded)[:3] and listed.total == len(excluded)
    others = source_runs(Source.UCONDB)
    assert extent(session, difference(skip, others)).count == len(excluded - runs)
    session.rollback()


def test_a_stray_huge_run_is_counted_not_enumerated(session: Session) -> None:
    store(session, {1, 2, 5, HUGE}, {3})
    source = source_runs(Source.UCONDB)
    found = gaps(session, source, extent(session, source), skip=excluded_runs(), limit=LIMIT)
    assert found.total == HUGE - 4 - 1
    assert found.numbers[:3] == [4, 6, 7] and len(found.numbers) == LIMIT
    assert found.numbers[-1] == 6 + LIMIT - 2
