"""The gap map's buckets (done and excluded rows from the run sets, the other states in SQL),
at the scale of a real detector's history and against a reference on random ledgers."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.metrics.ledger import state_counts
from app.models import Stage, StageStatus, State
from app.reports.sources import ledger_sets
from app.timeutil import utcnow
from app.web.gapmap import ABSENT, URGENCY, bucket_width, gap_map
from app.web.gapmap_layout import MIN_SLIVER, layout, segments

FIRST, COUNT = 5_000, 100_000
FAILED_RUN, MISSING_RUN = 61_234, 70_001


def test_bucket_width_is_the_smallest_round_width_that_fits() -> None:
    assert bucket_width(0, 99, 100) == 1
    assert bucket_width(0, 100, 100) == 2
    assert bucket_width(150, 349, 100) == 2
    assert bucket_width(199, 400, 100) == 5
    assert bucket_width(FIRST, FIRST + COUNT - 1, 500) == 200


def seed_history(engine: Engine, count: int = COUNT) -> None:
    """Every run imported; migrated except the newest thousand; one failure; one gap."""
    now = utcnow()
    rows = []
    for run in range(FIRST, FIRST + count):
        if run == MISSING_RUN:
            continue
        rows.append({"run_number": run, "stage": "import", "state": "done", "updated_at": now})
        migrate = "failed" if run == FAILED_RUN else "done"
        if run >= FIRST + count - 1000:
            migrate = "pending"
        rows.append({"run_number": run, "stage": "migrate", "state": migrate, "updated_at": now})
    with Session(engine) as session:
        session.execute(insert(StageStatus.__table__), rows)  # type: ignore[attr-defined]
        session.commit()


def test_hundred_thousand_runs_fold_into_at_most_the_asked_cells(engine: Engine) -> None:
    seed_history(engine)
    with Session(engine) as session:
        gmap = gap_map(session, max_cells=500)
        assert (gmap.first, gmap.last, gmap.width) == (FIRST, FIRST + COUNT - 1, 200)
        for stage in Stage:
            cells = gmap.cells[stage]
            assert len(cells) <= 500
            assert sum(sum(cell.counts.values()) for cell in cells) == COUNT
            assert [c.first for c in cells] == sorted(c.first for c in cells)
        migrate = {cell.first: cell for cell in gmap.cells[Stage.MIGRATE]}
        holding_failure = migrate[61_200]
        assert (holding_failure.last, holding_failure.state) == (61_399, State.FAILED.value)
        assert holding_failure.counts == {"done": 199, "failed": 1}
        gap = next(c for c in gmap.cells[Stage.IMPORT] if c.first <= MISSING_RUN <= c.last)
        assert (gap.first, gap.counts, gap.state) == (70_000, {"done": 199, ABSENT: 1}, ABSENT)
        assert migrate[104_400].state == State.PENDING.value

        zoomed = gap_map(session, lo=61_200, hi=61_399, max_cells=500)
        assert zoomed.width == 1
        failed = [c.first for c in zoomed.cells[Stage.MIGRATE] if c.state == "failed"]
        assert failed == [FAILED_RUN]


def test_layout_links_buckets_to_zoom_and_runs_to_their_pages(engine: Engine) -> None:
    seed_history(engine, count=60_000)
    with Session(engine) as session:
        wide = layout(gap_map(session, max_cells=200), per_line=50)
        narrow = layout(gap_map(session, lo=FAILED_RUN - 2, hi=FAILED_RUN + 2), per_line=50)
    assert len(wide.cells) == 2 * 120 and wide.width == 130 + 50 * 20
    assert wide.height == 3 * (2 * 16 + 10) - 10
    assert wide.cells[0].href == "/gapmap?lo=5000&hi=5499"
    assert [label.text for label in wide.labels if label.strong] == ["5000", "30000", "55000"]
    failing = [c for c in narrow.cells if c.state == "failed"]
    assert [(c.href, c.title) for c in failing] == [
        (f"/runs/{FAILED_RUN}", f"run {FAILED_RUN} · migrate: failed")
    ]


def test_a_rare_state_stays_visible_without_painting_the_whole_cell() -> None:
    bands = segments({"done": 498, "failed": 2}, height=14)
    assert [b.state for b in bands] == ["failed", "done"]
    assert bands[0].height == MIN_SLIVER and bands[1].height == 14 - MIN_SLIVER
    assert (bands[0].top, bands[1].top) == (0, MIN_SLIVER)
    even = segments({"done": 5, "absent": 5, "retry": 10}, height=20)
    assert [(b.state, b.height) for b in even] == [("retry", 10), ("absent", 5), ("done", 5)]
    many = segments({s: 1 for s in URGENCY}, height=14)
    assert many[-1].top + many[-1].height == 14 and all(b.height >= 1.5 for b in many)


ledgers = st.dictionaries(
    st.tuples(st.integers(0, 400), st.sampled_from(list(Stage))),
    st.sampled_from(list(State)),
    min_size=1,
    max_size=150,
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    rows=ledgers,
    bounds=st.none() | st.tuples(st.integers(0, 400), st.integers(0, 400)),
    max_cells=st.integers(1, 40),
)
def test_cells_count_every_row_in_its_bucket(
    session: Session,
    rows: dict[tuple[int, Stage], State],
    bounds: tuple[int, int] | None,
    max_cells: int,
) -> None:
    session.execute(delete(StageStatus))
    session.add_all(
        StageStatus(run_number=n, stage=stage, state=s) for (n, stage), s in rows.items()
    )
    session.flush()
    lo, hi = bounds or (None, None)
    gmap = gap_map(session, lo=lo, hi=hi, max_cells=max_cells)
    for stage in Stage:
        for cell in gmap.cells[stage]:
            expected: dict[str, int] = {}
            for (number, of_stage), state in rows.items():
                if of_stage is stage and cell.first <= number <= cell.last:
                    expected[state.value] = expected.get(state.value, 0) + 1
            absent = cell.last - cell.first + 1 - sum(expected.values())
            assert cell.counts == expected | ({ABSENT: absent} if absent else {})
    sets = ledger_sets(session)
    known = {pair: runs.count() for pair, runs in sets.states.items()}
    assert state_counts(session, known=known) == state_counts(session)
    session.rollback()
