"""Helpers of the API tests: settings with recognisable secrets, ledger access, headers."""

from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.config import Settings
from app.db import session_scope
from app.models import ErrorKind, Readiness, Run, Stage, StageStatus, State
from app.pipeline.ledger import add_event
from app.timeutil import utcnow

UCON_PASSWORD = "ucon-writer-pw-7f3a"
ARTDAQ_PASSWORD = "mongo-pw-c41d"

MakeClient = Callable[..., TestClient]


def api_settings(root: Path, db_url: str, *, read_requires_token: bool = False) -> Settings:
    """Settings whose secrets are recognisable, to prove no response carries them."""
    return Settings(
        app={"work_dir": str(root / "work")},
        source_files={"run_records_dir": str(root / "records")},
        artdaq_db={
            "database_uri": f"mongodb://archiver:{ARTDAQ_PASSWORD}@127.0.0.1:27017/db",
            "fcl_conf_dir": str(root / "conf"),
        },
        ucon_db={
            "server_url": "http://127.0.0.1:9/app",
            "folder_name": "runs",
            "object_name": "configuration",
            "writer_user": "writer",
            "writer_password": UCON_PASSWORD,
        },
        database={"url": db_url},
        auth={"read_requires_token": read_requires_token},
    )


def ledger(client: TestClient) -> Engine:
    """The engine of the running app, for seeding and checking the ledger."""
    return client.app.state.service.engine  # type: ignore[attr-defined]


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def seed_runs(engine: Engine) -> None:
    """A ledger with every kind of run the listing must tell apart (see the tests)."""
    now = utcnow()
    leaked = f"HTTP 502 from http://writer:{UCON_PASSWORD}@ucon.example/app"
    with session_scope(engine) as session:
        for number in range(100, 111):
            readiness = Readiness.IN_PROGRESS if number == 109 else Readiness.READY
            config = "calib_laser" if number == 106 else "physics_std"
            session.add(Run(run_number=number, readiness=readiness, config_name=config))
        session.add(Run(run_number=120, readiness=Readiness.READY, excluded_reason="test run"))
        rows = {
            **{(n, Stage.IMPORT): StageStatus(state=State.DONE) for n in range(100, 106)},
            **{(n, Stage.MIGRATE): StageStatus(state=State.DONE) for n in range(100, 105)},
            (105, Stage.MIGRATE): StageStatus(
                state=State.FAILED, attempts=3, error_kind=ErrorKind.UCONDB, last_error=leaked
            ),
            (106, Stage.IMPORT): StageStatus(
                state=State.RETRY, attempts=1, error_kind=ErrorKind.FHICL, last_error="100% bad"
            ),
            (107, Stage.IMPORT): StageStatus(
                state=State.RUNNING, lease_owner="worker-1", lease_until=now
            ),
            (108, Stage.IMPORT): StageStatus(state=State.PENDING, next_attempt_at=now),
            (109, Stage.IMPORT): StageStatus(state=State.WAITING),
            (110, Stage.IMPORT): StageStatus(
                state=State.CONFLICT, error_kind=ErrorKind.CONFLICT, last_error="differs"
            ),
            (111, Stage.MIGRATE): StageStatus(state=State.FAILED, last_error="legacy log"),
            (120, Stage.IMPORT): StageStatus(state=State.EXCLUDED),
        }
        for (number, stage), row in rows.items():
            row.run_number, row.stage = number, stage
            session.add(row)
        rows[(105, Stage.MIGRATE)].details = {
            "files": [{"name": "boot.fcl", "bytes": 812}],
            "upload": leaked,
        }
        for i in range(5):
            add_event(
                session, run=105, stage=Stage.MIGRATE, actor="worker-1", message=f"attempt {i}"
            )
        add_event(session, run=105, stage=Stage.MIGRATE, actor="worker-1", message=leaked)
