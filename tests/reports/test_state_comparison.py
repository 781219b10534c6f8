"""The report's last contiguous run (from the run sets) is the pipeline's `derived_watermark`,
and its failed lists are the stage's failed and retrying rows, on any ledger."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from report_seed import EMPTY_LOCATIONS, report_settings
from sqlalchemy import delete
from sqlmodel import Session

from app.models import LedgerMeta, Stage, StageStatus, State
from app.pipeline.watermark import derived_watermark
from app.reports.status import STATE_LIST_LIMIT, build_status_report

rows = st.dictionaries(
    st.tuples(st.integers(1, 150), st.sampled_from(list(Stage))),
    st.sampled_from(list(State)).flatmap(
        lambda drawn: st.sampled_from([drawn, State.DONE, State.DONE])
    ),
    max_size=120,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(stage_rows=rows, legacy=st.none() | st.integers(0, 200))
def test_watermark_and_failures_match_the_stage_rows(
    session: Session, db_url: str, stage_rows: dict[tuple[int, Stage], State], legacy: int | None
) -> None:
    session.execute(delete(StageStatus))
    session.execute(delete(LedgerMeta))
    for (number, stage), state in stage_rows.items():
        session.add(StageStatus(run_number=number, stage=stage, state=state))
    if legacy is not None:
        value = {"last_contiguous_run": legacy}
        session.add(LedgerMeta(key=f"legacy_watermark.{Stage.IMPORT.value}", value=value))
    session.flush()
    report = build_status_report(session, report_settings(db_url, EMPTY_LOCATIONS))
    for comparison in report.state_comparison:
        stage = comparison.stage
        assert comparison.last_contiguous_run == (derived_watermark(session, stage) or 0)
        failed = sorted(
            number
            for (number, of_stage), state in stage_rows.items()
            if of_stage is stage and state in (State.FAILED, State.RETRY)
        )
        assert comparison.failed.numbers == failed[:STATE_LIST_LIMIT]
        assert comparison.failed.total == len(failed)
    session.rollback()
