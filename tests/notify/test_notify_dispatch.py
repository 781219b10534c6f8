"""Dispatch: every enabled channel, failures logged (no secrets) and queued, re-sent later."""

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from notify_support import (
    BOT_TOKEN,
    SMTP_PASSWORD,
    SMTP_USER,
    SlackServer,
    SmtpServer,
    email_config,
    free_port,
    make_settings,
    slack_config,
)

from app.models import Stage
from app.notify.dispatch import (
    notify_conflicts,
    notify_daily_summary,
    notify_failures,
    notify_stuck,
    retry_outbox,
)
from app.notify.messages import ConflictAlert, DailySummary, Notice, StuckStage
from app.notify.outbox import Outbox


def subjects(server: SmtpServer) -> list[str]:
    return [m.message["Subject"].split(" on ")[0] for m in server.received]


def test_a_dead_mail_server_is_logged_queued_and_resent_when_back(
    tmp_path: Path,
    smtp_server_factory: Callable[..., SmtpServer],
    slack_server: SlackServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = free_port()
    mail = email_config(port, smtp_user=SMTP_USER, smtp_password=SMTP_PASSWORD)
    settings = make_settings(tmp_path, email=mail, slack=slack_config(slack_server.base_url))
    outbox = Outbox()
    with caplog.at_level(logging.DEBUG):
        first = notify_failures(settings, Stage.IMPORT, [10, 11], outbox=outbox)
    assert (first.sent, first.queued, len(outbox)) == (["slack"], ["email"], 1)
    assert "email notification 'import failures' not sent" in caplog.text
    assert "ConnectionRefusedError" in caplog.text
    assert SMTP_PASSWORD not in caplog.text
    assert BOT_TOKEN not in caplog.text

    server = smtp_server_factory(port=port, auth_require_tls=False)
    second = notify_failures(settings, Stage.MIGRATE, [12], outbox=outbox)
    assert (second.resent, sorted(second.sent), len(outbox)) == (1, ["email", "slack"], 0)
    assert subjects(server) == [
        "Run Record Archiver Import Errors",
        "Run Record Archiver Migration Errors",
    ]
    assert [m.login for m in server.received] == [SMTP_USER, SMTP_USER]
    assert len(slack_server.requests) == 2


def test_a_tick_with_nothing_new_resends_the_outbox(
    tmp_path: Path, smtp_server_factory: Callable[..., SmtpServer]
) -> None:
    port = free_port()
    settings = make_settings(tmp_path, email=email_config(port))
    outbox = Outbox()
    notify_conflicts(settings, [ConflictAlert(5, Stage.MIGRATE, "differs")], outbox=outbox)
    assert retry_outbox(settings, outbox=outbox).resent == 0
    assert len(outbox) == 1
    server = smtp_server_factory(port=port)
    assert retry_outbox(settings, outbox=outbox).resent == 1
    assert subjects(server) == ["Run Record Archiver Conflicts"]
    assert len(outbox) == 0


def test_a_channel_that_fails_again_is_not_retried_for_each_waiting_notice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[str] = []

    def refuse(_section: object, subject: str, _body: str) -> None:
        attempts.append(subject)
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr("app.notify.dispatch.send_email", refuse)
    settings = make_settings(tmp_path, email=email_config(free_port()))
    outbox = Outbox()
    for run in (1, 2, 3):
        notify_failures(settings, Stage.IMPORT, [run], outbox=outbox)
    # call 1: new notice; calls 2 and 3: the oldest waiting notice only, the new one is queued
    assert len(attempts) == 3
    assert len(outbox) == 3
    assert [item.attempts for item in outbox.take("email", datetime.now(UTC))] == [3, 1, 1]


def test_notices_of_a_channel_disabled_since_are_dropped(
    tmp_path: Path, slack_server: SlackServer, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = Outbox()
    notify_failures(make_settings(tmp_path, email=email_config(free_port())), Stage.IMPORT, [1],
                    outbox=outbox)  # fmt: skip
    assert len(outbox) == 1
    slack_only = make_settings(tmp_path, slack=slack_config(slack_server.base_url))
    result = retry_outbox(slack_only, outbox=outbox)
    assert (result.resent, len(outbox)) == (0, 0)
    assert "dropped: channel disabled" in caplog.text


def test_nothing_enabled_and_nothing_to_say_sends_nothing(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    outbox = Outbox()
    assert notify_failures(settings, Stage.IMPORT, [1, 2], outbox=outbox).sent == []
    assert notify_stuck(settings, [], outbox=outbox).sent == []
    assert len(outbox) == 0


def test_dispatch_never_raises(caplog: pytest.LogCaptureFixture) -> None:
    broken = object()
    result = notify_daily_summary(
        broken,  # type: ignore[arg-type]
        DailySummary(datetime.now(UTC), datetime.now(UTC), []),
        outbox=Outbox(),
    )
    assert (result.sent, result.queued) == ([], [])
    assert "internal error: AttributeError" in caplog.text


def test_stuck_notice_reaches_slack(tmp_path: Path, slack_server: SlackServer) -> None:
    settings = make_settings(tmp_path, slack=slack_config(slack_server.base_url))
    since = datetime.now(UTC) - timedelta(hours=2)
    result = notify_stuck(settings, [StuckStage(Stage.MIGRATE, 4, 120, since)], outbox=Outbox())
    assert result.sent == ["slack"]
    assert (
        slack_server.requests[0].payload["text"].startswith("Run Record Archiver Migration Stuck")
    )


def notice(n: int) -> Notice:
    return Notice(f"n{n}", f"s{n}", "b", "t")


def test_outbox_is_bounded_by_count_and_age(caplog: pytest.LogCaptureFixture) -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    outbox = Outbox(capacity=3, max_age=timedelta(hours=1))
    for n in range(5):
        outbox.add("email", notice(n), now + timedelta(minutes=n * 20))
    assert len(outbox) == 3
    assert caplog.text.count("the outbox is full") == 2
    fresh = outbox.take("email", now + timedelta(minutes=101))
    assert [item.notice.kind for item in fresh] == ["n3", "n4"]
    assert "undelivered for more than 1:00:00" in caplog.text


def test_restored_notices_stay_ahead_of_newer_ones() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    outbox = Outbox()
    outbox.add("slack", notice(1), now)
    outbox.add("slack", notice(2), now)
    taken = outbox.take("slack", now)
    outbox.add("slack", notice(3), now)
    outbox.restore(taken)
    assert [item.notice.kind for item in outbox.take("slack", now)] == ["n1", "n2", "n3"]
