"""Sending alerts on every enabled channel, best effort.

Called after outcomes are recorded. Nothing here raises, touches run state or changes an exit
code (spec/legacy.md §7, §11 item 18): a channel error is logged (secrets redacted) and the
notice waits in the outbox, which every later dispatch — or `retry_outbox` on a tick — sends
first. A channel that fails again is not tried further in that call, so a dead server costs
one timeout per call, not one per waiting notice.
"""

import logging
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from app.config import ReportingSection, Settings
from app.models import Stage
from app.notify.mail import send_email
from app.notify.messages import (
    ConflictAlert,
    DailySummary,
    FailureReport,
    Notice,
    Origin,
    StuckStage,
    conflicts_notice,
    failure_notice,
    parse_mentions,
    stuck_notice,
    summary_notice,
)
from app.notify.outbox import Outbox
from app.notify.slack import post_slack
from app.redact import redact
from app.timeutil import utcnow

log = logging.getLogger(__name__)

OUTBOX = Outbox()

Channel = Callable[[Notice], None]
Builder = Callable[[Origin, list[str]], Notice | None]


@dataclass
class DispatchResult:
    """What one dispatch did: channels that took the new notice, channels where it waits in
    the outbox, and how many earlier notices the outbox delivered."""

    sent: list[str] = field(default_factory=list)
    queued: list[str] = field(default_factory=list)
    resent: int = 0


def _channels(reporting: ReportingSection) -> dict[str, Channel]:
    """The enabled channels, each a function that sends a notice or raises."""
    channels: dict[str, Channel] = {}
    email, slack = reporting.email, reporting.slack
    if email.enabled:
        channels["email"] = lambda notice: send_email(email, notice.subject, notice.body)
    if slack.enabled:
        channels["slack"] = lambda notice: post_slack(slack, notice.slack_text, notice.slack_blocks)
    return channels


def _secrets(reporting: ReportingSection) -> list[str | None]:
    return [reporting.email.smtp_password, reporting.slack.bot_token]


def _deliver(name: str, channel: Channel, notice: Notice, secrets: list[str | None]) -> bool:
    try:
        channel(notice)
    except Exception as exc:  # any channel failure is logged, never propagated
        log.warning(
            "%s notification %r not sent: %s: %s",
            name,
            notice.kind,
            type(exc).__name__,
            redact(str(exc), secrets),
        )
        return False
    log.info("%s notification %r sent", name, notice.kind)
    return True


def _resend(
    channels: dict[str, Channel], outbox: Outbox, secrets: list[str | None], result: DispatchResult
) -> set[str]:
    """Send what the outbox holds, oldest first; returns the channels that failed again."""
    down: set[str] = set()
    now = utcnow()
    for name in sorted(outbox.channels()):
        waiting = outbox.take(name, now)
        if name not in channels:
            for item in waiting:
                log.warning("%s notification %r dropped: channel disabled", name, item.notice.kind)
            continue
        for index, item in enumerate(waiting):
            if _deliver(name, channels[name], item.notice, secrets):
                result.resent += 1
                continue
            item.attempts += 1
            outbox.restore(waiting[index:])
            down.add(name)
            break
    return down


def _send(reporting: ReportingSection, notice: Notice | None, outbox: Outbox) -> DispatchResult:
    result = DispatchResult()
    channels = _channels(reporting)
    secrets = _secrets(reporting)
    down = _resend(channels, outbox, secrets, result)
    if notice is None:
        return result
    for name, channel in channels.items():
        if name not in down and _deliver(name, channel, notice, secrets):
            result.sent.append(name)
        else:
            if name in down:
                log.warning("%s notification %r queued: channel still failing", name, notice.kind)
            outbox.add(name, notice, utcnow())
            result.queued.append(name)
    return result


def _dispatch(
    settings: Settings, build: Builder, now: datetime | None, outbox: Outbox
) -> DispatchResult:
    secrets: list[str | None] = []
    try:
        reporting = settings.reporting
        secrets = _secrets(reporting)
        origin = Origin(socket.gethostname(), now or datetime.now().astimezone())
        notice = build(origin, parse_mentions(reporting.slack.mention_users))
        return _send(reporting, notice, outbox)
    except Exception as exc:  # alerts must never break the caller
        log.error(
            "notifications not sent: internal error: %s: %s",
            type(exc).__name__,
            redact(str(exc), secrets),
        )
        return DispatchResult()


def notify_failures(
    settings: Settings,
    stage: Stage,
    runs: Sequence[int],
    *,
    now: datetime | None = None,
    outbox: Outbox = OUTBOX,
) -> DispatchResult:
    """The legacy stage-failure alert for `runs` (nothing new is sent when empty)."""

    def build(origin: Origin, mentions: list[str]) -> Notice | None:
        return failure_notice(FailureReport(stage, runs), origin, mentions) if runs else None

    return _dispatch(settings, build, now, outbox)


def notify_conflicts(
    settings: Settings,
    conflicts: Sequence[ConflictAlert],
    *,
    now: datetime | None = None,
    outbox: Outbox = OUTBOX,
) -> DispatchResult:
    """Alert new conflicts (nothing new is sent when empty)."""

    def build(origin: Origin, mentions: list[str]) -> Notice | None:
        return conflicts_notice(conflicts, origin, mentions) if conflicts else None

    return _dispatch(settings, build, now, outbox)


def notify_stuck(
    settings: Settings,
    stuck: Sequence[StuckStage],
    *,
    now: datetime | None = None,
    outbox: Outbox = OUTBOX,
) -> DispatchResult:
    """Alert stages without progress (nothing new is sent when empty)."""

    def build(origin: Origin, mentions: list[str]) -> Notice | None:
        return stuck_notice(stuck, origin, mentions) if stuck else None

    return _dispatch(settings, build, now, outbox)


def notify_daily_summary(
    settings: Settings,
    summary: DailySummary,
    *,
    now: datetime | None = None,
    outbox: Outbox = OUTBOX,
) -> DispatchResult:
    """Send the daily summary (no mentions: it is information, not an alarm)."""
    return _dispatch(settings, lambda origin, _: summary_notice(summary, origin), now, outbox)


def retry_outbox(settings: Settings, *, outbox: Outbox = OUTBOX) -> DispatchResult:
    """Re-send waiting notices; for a scheduler tick that has nothing new to say."""
    return _dispatch(settings, lambda _origin, _mentions: None, None, outbox)
