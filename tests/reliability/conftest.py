"""Archive environments for the reliability trials: sample records (optionally with defects), a
real filesystemdb, the UconDB stand-in over loopback (a test double: the real server cannot run
here) and a ledger on the backend selected for this test run."""

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from app import migrate
from app.db import make_engine
from app.demo import DEMO_SCHEMA
from app.models import Stage, StageStatus
from app.runrecords.sample import write_sample_records
from app.ucondb_server.runner import serve_in_background
from app.ucondb_server.state import make_state
from tests.pipeline.conftest import FOLDER, PASSWORD, USER, ArchiveEnv, make_settings

MakeArchive = Callable[..., tuple[ArchiveEnv, list[int]]]


@pytest.fixture
def make_archive(tmp_path: Path, db_url: str) -> Iterator[MakeArchive]:
    """Build an archive: `runs` sample records (`running` of them still running, `defects`
    adds the damaged entries), settings with `ucon_db` / other section overrides."""
    stack = ExitStack()

    def make(
        *,
        runs: int,
        running: int = 0,
        defects: bool = False,
        seed: int = 13,
        ucon_db: dict[str, Any] | None = None,
        **sections: dict[str, Any],
    ) -> tuple[ArchiveEnv, list[int]]:
        (tmp_path / "conf").mkdir()
        (tmp_path / "conf" / "schema.fcl").write_text(DEMO_SCHEMA)
        numbers = write_sample_records(
            tmp_path / "records", runs=runs, running=running, defects=defects, seed=seed
        )
        state = make_state(folders=[FOLDER], users={USER: PASSWORD}, seed=seed)
        server = stack.enter_context(serve_in_background(state))
        settings = make_settings(tmp_path, db_url, server.base_url, **sections)
        if ucon_db:
            settings = settings.model_copy(
                update={"ucon_db": settings.ucon_db.model_copy(update=ucon_db)}
            )
        engine = make_engine(db_url)
        stack.callback(engine.dispose)
        migrate.upgrade(engine)
        return ArchiveEnv(tmp_path, tmp_path / "records", settings, engine, server), numbers

    with stack:
        yield make


def rows(env: ArchiveEnv, stage: Stage) -> dict[int, StageStatus]:
    """Every ledger row of one stage, by run."""
    with Session(env.engine) as session:
        found = session.exec(select(StageStatus).where(StageStatus.stage == stage)).all()
    return {row.run_number: row for row in found}
