"""Slack alerts through slack-sdk against a local Web API endpoint (via `base_url`)."""

import logging
from datetime import datetime
from pathlib import Path

import pytest
from notify_support import BOT_TOKEN, SlackServer, make_settings, slack_config

from app.models import Stage
from app.notify.dispatch import notify_failures
from app.notify.messages import FailureReport, Origin, failure_notice
from app.notify.outbox import Outbox

NOW = datetime(2025, 10, 24, 14, 32, 15)


def test_chat_post_message_carries_the_legacy_text_blocks_and_mentions(
    tmp_path: Path, slack_server: SlackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("socket.gethostname", lambda: "daq01")
    settings = make_settings(
        tmp_path, slack=slack_config(slack_server.base_url, mention_users="U1,U2")
    )
    result = notify_failures(settings, Stage.IMPORT, [7, 3], now=NOW, outbox=Outbox())
    assert result.sent == ["slack"]
    [request] = slack_server.requests
    assert request.path == "/api/chat.postMessage"
    assert request.authorization == f"Bearer {BOT_TOKEN}"
    expected = failure_notice(
        FailureReport(Stage.IMPORT, [3, 7]), Origin("daq01", NOW), ["U1", "U2"]
    )
    assert request.payload == {
        "channel": "#run-archiver-alerts",
        "text": "Run Record Archiver Import Failures: 2 runs failed on daq01 <@U1> <@U2>",
        "blocks": expected.slack_blocks,
    }


def test_base_url_without_trailing_slash_still_reaches_the_method(
    tmp_path: Path, slack_server: SlackServer
) -> None:
    settings = make_settings(tmp_path, slack=slack_config(slack_server.base_url.rstrip("/")))
    assert notify_failures(settings, Stage.MIGRATE, [1], outbox=Outbox()).sent == ["slack"]
    assert [r.path for r in slack_server.requests] == ["/api/chat.postMessage"]


def test_an_api_error_is_logged_without_the_token_and_queued(
    tmp_path: Path, slack_server: SlackServer, caplog: pytest.LogCaptureFixture
) -> None:
    slack_server.reply = {"ok": False, "error": "channel_not_found"}
    settings = make_settings(tmp_path, slack=slack_config(slack_server.base_url))
    outbox = Outbox()
    with caplog.at_level(logging.DEBUG):
        result = notify_failures(settings, Stage.IMPORT, [1], outbox=outbox)
    assert (result.sent, result.queued, len(outbox)) == ([], ["slack"], 1)
    assert "channel_not_found" in caplog.text
    assert BOT_TOKEN not in caplog.text

    slack_server.reply = {"ok": True, "ts": "1.2"}
    again = notify_failures(settings, Stage.IMPORT, [2], outbox=outbox)
    assert (again.resent, again.sent, len(outbox)) == (1, ["slack"], 0)
    listed = [r.payload["blocks"][2]["text"]["text"] for r in slack_server.requests]
    assert listed == ["*Run Numbers:*\n1", "*Run Numbers:*\n1", "*Run Numbers:*\n2"]
