"""The dashboard's building blocks: signed sessions, reachability probes, the hourly rate."""

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.models import Stage, StageStatus, State
from app.web.rate import hourly_done
from app.web.reachability import Reachability
from app.web.session import (
    MAX_AGE_SECONDS,
    csrf_matches,
    decode_session,
    encode_session,
    new_session,
)

KEY = b"k" * 32


def test_session_cookie_round_trips_and_rejects_tampering() -> None:
    session = new_session(42, now=1_000_000)
    value = encode_session(session, key=KEY)
    back = decode_session(value, key=KEY, now=1_000_010)
    assert back is not None and (back.token_id, back.csrf, back.fresh) == (42, session.csrf, False)
    signature = value.split(".")[1]
    forged = encode_session(new_session(1, now=1_000_000), key=b"x" * 32).split(".")[0]
    assert decode_session(f"{forged}.{signature}", key=KEY, now=1_000_010) is None
    assert decode_session(value, key=b"other" * 8, now=1_000_010) is None
    assert decode_session(value + "x", key=KEY, now=1_000_010) is None
    assert decode_session("garbage", key=KEY) is None and decode_session(None, key=KEY) is None
    expired = 1_000_000 + MAX_AGE_SECONDS + 1
    assert decode_session(value, key=KEY, now=expired) is None


def test_csrf_tokens_must_match_exactly() -> None:
    session = new_session()
    assert csrf_matches(session, session.csrf)
    assert not csrf_matches(session, session.csrf[:-1])
    assert not csrf_matches(session, None) and not csrf_matches(session, "")


def test_probes_answer_once_per_period_and_never_block_a_page() -> None:
    release, calls = threading.Event(), []

    def slow() -> str:
        calls.append("slow")
        release.wait(10)
        return "answered"

    def broken() -> str:
        raise ConnectionError("https://writer:pw-123@ucon.example/app refused; secret pw-123")

    probes = Reachability(
        {"slow": slow, "broken": broken},
        timeout_seconds=0.05,
        max_age_seconds=3600,
        secrets=["pw-123"],
    )
    first = {p.name: p for p in probes.snapshot(wait_seconds=0.5)}
    assert first["broken"].ok is False and "pw-123" not in first["broken"].detail
    assert first["broken"].detail.startswith("ConnectionError: https://writer:***@ucon.example")
    assert first["slow"].ok is False and first["slow"].detail.startswith("no answer within")
    release.set()
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while (later := {p.name: p for p in probes.snapshot()})["slow"].ok is not True:
        assert datetime.now(UTC) < deadline
        release.wait(0.01)
    assert later["slow"].detail == "answered" and calls == ["slow"]


def test_hourly_rate_counts_done_rows_in_their_hour(engine: Engine) -> None:
    now = datetime(2024, 10, 14, 12, 30, tzinfo=UTC)
    finished = {
        (1, Stage.IMPORT): now - timedelta(minutes=10),
        (2, Stage.IMPORT): now - timedelta(minutes=29),
        (3, Stage.IMPORT): now - timedelta(hours=3),
        (1, Stage.MIGRATE): now - timedelta(hours=3, minutes=5),
        (4, Stage.IMPORT): now - timedelta(days=8),
    }
    with Session(engine) as session:
        for (run, stage), at in finished.items():
            session.add(StageStatus(run_number=run, stage=stage, state=State.DONE, finished_at=at))
        session.add(
            StageStatus(run_number=5, stage=Stage.IMPORT, state=State.FAILED, finished_at=now)
        )
        session.commit()
        series = hourly_done(session, now=now)
    assert len(series.hours) == 7 * 24 and series.hours[-1] == now.replace(minute=0)
    assert series.counts[Stage.IMPORT][-1] == 2 and series.counts[Stage.IMPORT][-4] == 1
    assert series.counts[Stage.MIGRATE][-4] == 1
    assert series.total(Stage.IMPORT) == 3 and series.total(Stage.IMPORT, 1) == 2
    assert series.peak == 2


def test_a_run_finished_on_the_hour_counts_in_the_hour_it_starts(engine: Engine) -> None:
    now = datetime(2024, 10, 14, 12, 30, tzinfo=UTC)
    on_the_hour = now.replace(minute=0)
    finished = {
        1: on_the_hour,
        2: on_the_hour - timedelta(microseconds=1),
        3: on_the_hour - timedelta(days=7) + timedelta(hours=1),
        4: on_the_hour - timedelta(days=7) + timedelta(hours=1, microseconds=-1),
    }
    with Session(engine) as session:
        for run, at in finished.items():
            session.add(
                StageStatus(run_number=run, stage=Stage.IMPORT, state=State.DONE, finished_at=at)
            )
        session.commit()
        series = hourly_done(session, now=now)
    assert series.hours[0] == finished[3]
    assert series.counts[Stage.IMPORT][-1] == 1 and series.counts[Stage.IMPORT][-2] == 1
    assert series.counts[Stage.IMPORT][0] == 1 and series.total(Stage.IMPORT) == 3
