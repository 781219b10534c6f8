"""Slack alerts through the Web API `chat.postMessage` with a bot token (spec/legacy.md §7.1)."""

from typing import Any

from slack_sdk import WebClient

from app.config import SlackSection

SLACK_TIMEOUT_SECONDS = 10


def _base_url(configured: str | None) -> str:
    """slack-sdk joins method names onto the base URL, which therefore must end with `/`."""
    url = configured or WebClient.BASE_URL
    return url if url.endswith("/") else url + "/"


def post_slack(
    section: SlackSection,
    text: str,
    blocks: list[dict[str, Any]],
    *,
    timeout: int = SLACK_TIMEOUT_SECONDS,
) -> None:
    """Post one message to the configured channel; raises `SlackApiError` or `OSError`."""
    client = WebClient(
        token=section.bot_token, base_url=_base_url(section.base_url), timeout=timeout
    )
    client.chat_postMessage(channel=section.channel or "", text=text, blocks=blocks)
