"""Helpers of the dashboard tests: settings, a ledger with every state, tokens, sessions."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.auth.tokens import create_token
from app.config import Settings
from app.db import session_scope
from app.models import ErrorKind, Readiness, Run, Stage, StageStatus, State, TokenScope
from app.pipeline.context import PipelineContext
from app.pipeline.ledger import add_event
from app.timeutil import utcnow
from app.ucondb_server.runner import RunningServer

UCON_PASSWORD = "ucon-writer-pw-9d2e"
LEAKED = f"HTTP 502 from https://writer:{UCON_PASSWORD}@ucon.example/app"
MakeClient = Callable[..., TestClient]


@dataclass
class ArchiveSetup:
    """Real stores for a dashboard: sample records, a filesystemdb, the UconDB stand-in."""

    settings: Settings
    runs: list[int]
    ucondb: RunningServer


@dataclass
class Archive:
    """The dashboard (under TestClient) over an `ArchiveSetup`."""

    client: TestClient
    runs: list[int]

    @property
    def context(self) -> PipelineContext:
        return self.client.app.state.service.runner.ctx  # type: ignore[attr-defined]


# (run, stage) → state of the seeded ledger; run 104 is a gap, 120 is excluded.
SEEDED: dict[tuple[int, Stage], State] = {
    **{(n, Stage.IMPORT): State.DONE for n in range(100, 104)},
    **{(n, Stage.MIGRATE): State.DONE for n in range(100, 103)},
    (103, Stage.MIGRATE): State.FAILED,
    (105, Stage.IMPORT): State.DONE,
    (105, Stage.MIGRATE): State.FAILED,
    (106, Stage.IMPORT): State.RETRY,
    (107, Stage.IMPORT): State.RUNNING,
    (108, Stage.IMPORT): State.PENDING,
    (109, Stage.IMPORT): State.WAITING,
    (110, Stage.IMPORT): State.CONFLICT,
    (120, Stage.IMPORT): State.EXCLUDED,
    (120, Stage.MIGRATE): State.EXCLUDED,
}


def web_settings(
    root: Path,
    db_url: str,
    *,
    ucon_url: str = "http://127.0.0.1:9/app",
    artdaq_uri: str | None = None,
    read_requires_token: bool = False,
    **sections: dict,
) -> Settings:
    """Settings whose secrets are recognisable; stores unreachable unless given."""
    return Settings(
        app={"work_dir": str(root / "work")},
        source_files={"run_records_dir": str(root / "records")},
        artdaq_db={
            "database_uri": artdaq_uri or f"filesystemdb://{root / 'db_archive'}",
            "fcl_conf_dir": str(root / "conf"),
        },
        ucon_db={
            "server_url": ucon_url,
            "folder_name": "run_records",
            "object_name": "configuration",
            "writer_user": "writer",
            "writer_password": UCON_PASSWORD,
            "timeout_seconds": 5,
            "connect_timeout_seconds": 2,
        },
        database={"url": db_url},
        auth={"read_requires_token": read_requires_token},
        **sections,
    )


def ledger(client: TestClient) -> Engine:
    return client.app.state.service.engine  # type: ignore[attr-defined]


def seed_every_state(engine: Engine) -> None:
    """Runs 100–110 and 120 with every state of the ledger; done rows finished in the last
    hours (for the rate chart); run 105's migration failed with a secret in its error."""
    now = utcnow()
    with session_scope(engine) as session:
        for number in [*range(100, 104), *range(105, 111), 120]:
            session.add(
                Run(
                    run_number=number,
                    readiness=Readiness.IN_PROGRESS if number == 109 else Readiness.READY,
                    config_name="calib_laser" if number == 106 else "physics_std",
                    start_time="Mon Oct 14 10:00:00 UTC 2024",
                    excluded_reason="test pulse run" if number == 120 else None,
                )
            )
        for (number, stage), state in SEEDED.items():
            row = StageStatus(run_number=number, stage=stage, state=state, attempts=0)
            if state is State.DONE:
                row.finished_at = now - timedelta(hours=number % 3, minutes=5)
                row.attempts = 1
            if state in (State.FAILED, State.RETRY, State.CONFLICT):
                row.attempts = 3 if state is State.FAILED else 1
                row.error_kind = {
                    State.FAILED: ErrorKind.UCONDB,
                    State.RETRY: ErrorKind.FHICL,
                    State.CONFLICT: ErrorKind.CONFLICT,
                }[state]
                row.last_error = LEAKED if number == 105 else f"run {number}: <b>bad</b> thing"
            if state is State.RETRY:
                row.next_attempt_at = now + timedelta(minutes=10)
            if state is State.RUNNING:
                row.lease_owner, row.lease_until = "worker-1", now + timedelta(minutes=5)
            session.add(row)
        add_event(
            session,
            run=105,
            stage=Stage.MIGRATE,
            actor="worker-1",
            message=LEAKED,
            from_state="running",
            to_state="failed",
        )


def token(engine: Engine, name: str, scope: TokenScope) -> str:
    with session_scope(engine) as session:
        return create_token(session, name, scope).secret


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "page has no CSRF field"
    return match.group(1)


def sign_in(client: TestClient, secret: str) -> str:
    """Sign the client in with `secret`; returns the new session's CSRF token."""
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"token": secret, "csrf": csrf_of(page.text), "next": "/failures"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/failures").text)


class _Texts(HTMLParser):
    """Collects the text of every element carrying the wanted attributes."""

    VOID = frozenset(
        (
            "area",
            "base",
            "br",
            "col",
            "embed",
            "hr",
            "img",
            "input",
            "link",
            "meta",
            "source",
            "track",
            "wbr",
        )
    )

    def __init__(self, wanted: dict[str, str]) -> None:
        super().__init__()
        self.wanted = wanted
        self.open: list[list[str] | None] = []
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        values = dict(attrs)
        hit = all(values.get(k) == v for k, v in self.wanted.items())
        self.handle_data(" ")
        self.open.append([] if hit else None)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID or not self.open:
            return
        parts = self.open.pop()
        self.handle_data(" ")
        if parts is not None:
            self.found.append(" ".join("".join(parts).split()))

    def handle_data(self, data: str) -> None:
        for parts in self.open:
            if parts is not None:
                parts.append(data)


def texts(html: str, **wanted: str) -> list[str]:
    """Whitespace-normalised text of each element whose attributes equal `wanted`
    (underscores in names stand for dashes: data_figure → data-figure)."""
    parser = _Texts({key.replace("_", "-"): value for key, value in wanted.items()})
    parser.feed(html)
    return parser.found


def section(html: str, **wanted: str) -> str:
    """The first element's text (fails clearly when there is none)."""
    found = texts(html, **wanted)
    assert found, f"no element with {wanted}"
    return found[0]


def listed(html: str, attribute: str = "data-run") -> list[int]:
    """Run numbers of the table rows carrying `attribute`, in page order."""
    return [int(n) for n in re.findall(rf'<tr {attribute}="(\d+)"', html)]
