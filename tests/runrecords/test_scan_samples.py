"""Scanning generated samples: every documented defect gets its expected outcome, and a run
stopped with `stop_run` becomes ready once it has settled."""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine, select

from app.models import Run, SourceAnomaly, StageStatus, State
from app.runrecords.readiness import ScanPolicy
from app.runrecords.sample import stop_run, write_sample_records
from app.runrecords.sample_defects import sample_defects
from app.runrecords.scan import scan_records
from app.timeutil import utcnow


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """The one ledger engine of this module (swap here for a shared PostgreSQL fixture)."""
    engine = create_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


def outcomes(session: Session) -> dict[str, str]:
    found = {str(run.run_number): run.readiness.value for run in session.exec(select(Run))}
    found.update({row.name: row.reason for row in session.exec(select(SourceAnomaly))})
    return found


def test_sample_with_defects_scans_as_documented(engine: Engine, tmp_path: Path) -> None:
    root = tmp_path / "records"
    written = utcnow()
    numbers = write_sample_records(root, runs=6, running=2, defects=True, seed=3, now=written)
    expected = {str(n): "ready" for n in range(1000, 1004)}
    expected |= {"1004": "in_progress", "1005": "in_progress"}
    expected |= {d.name: d.expected for d in sample_defects(1000, 6)}
    policy = ScanPolicy()
    with Session(engine) as session:
        settled = utcnow() + timedelta(seconds=61)
        result = scan_records(session, root, policy=policy, now=settled)
        session.commit()
        assert outcomes(session) == expected
        assert sorted(result.new) == numbers

        stop_run(root, 1005)
        stopped = utcnow()
        scan_records(session, root, policy=policy, now=stopped + timedelta(seconds=30))
        assert outcomes(session)["1005"] == "in_progress"
        result = scan_records(session, root, policy=policy, now=stopped + timedelta(seconds=61))
        session.commit()
        assert result.ready == [1005]
        row = session.get(StageStatus, (1005, "import"))
        assert row is not None and row.state is State.PENDING
        assert outcomes(session)["1004"] == "in_progress"
