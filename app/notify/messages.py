"""The texts of every alert, built by pure functions so they can be checked exactly.

Stage-failure texts are the legacy ones, character for character (spec/legacy.md §7.1, §7.2):
mail filters and channel searches depend on them. Conflict, stuck-stage and daily-summary
messages are the project's own.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.models import Stage

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
SLACK_LIST_LIMIT = 10
SLACK_MESSAGE_CHARS = 200
_TITLES = {Stage.IMPORT: ("Import", "import"), Stage.MIGRATE: ("Migration", "migration")}

Block = dict[str, Any]


@dataclass(frozen=True)
class Notice:
    """One alert in both renderings: e-mail subject and body, Slack fallback text and blocks."""

    kind: str
    subject: str
    body: str
    slack_text: str
    slack_blocks: list[Block] = field(default_factory=list)


@dataclass(frozen=True)
class Origin:
    """Where and when an alert was raised; the time is shown in local time."""

    host: str
    time: datetime

    @property
    def when(self) -> str:
        """The time as the legacy texts print it (local, `%Y-%m-%d %H:%M:%S`)."""
        return self.time.astimezone().strftime(TIME_FORMAT)


@dataclass(frozen=True)
class FailureReport:
    """Runs that failed in one stage during one job or tick."""

    stage: Stage
    runs: Sequence[int]


@dataclass(frozen=True)
class ConflictAlert:
    """A run whose store holds different content under its key."""

    run: int
    stage: Stage
    message: str


@dataclass(frozen=True)
class StuckStage:
    """A stage with due work that has not finished an attempt for `minutes`."""

    stage: Stage
    backlog: int
    minutes: int
    since: datetime


@dataclass(frozen=True)
class StageSummary:
    """One stage's figures for the daily summary."""

    stage: Stage
    done: int
    backlog: int
    failed: int
    conflicts: int
    newest_archived: int | None


@dataclass(frozen=True)
class DailySummary:
    """The ledger's figures over one period, per stage."""

    since: datetime
    until: datetime
    stages: list[StageSummary]


def stage_title(stage: Stage) -> str:
    """`Import` or `Migration`, as the legacy texts name the stages."""
    return _TITLES[Stage(stage)][0]


def stage_word(stage: Stage) -> str:
    """`import` or `migration`, as the legacy texts name the stages in sentences."""
    return _TITLES[Stage(stage)][1]


def parse_mentions(mention_users: str | None) -> list[str]:
    """Slack user IDs from the comma-separated `reporting.slack.mention_users`."""
    return [user.strip() for user in (mention_users or "").split(",") if user.strip()]


def _mentions(users: Sequence[str]) -> str:
    return "".join(f" <@{user}>" for user in users)


def _cut(items: Sequence[str], separator: str, more: str) -> str:
    """The first SLACK_LIST_LIMIT items joined, then `more` naming how many were left out."""
    shown = separator.join(items[:SLACK_LIST_LIMIT])
    hidden = len(items) - SLACK_LIST_LIMIT
    return shown + more.format(hidden) if hidden > 0 else shown


def _header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}


def _fields(*pairs: tuple[str, object]) -> Block:
    return {
        "type": "section",
        "fields": [{"type": "mrkdwn", "text": f"*{name}:*\n{value}"} for name, value in pairs],
    }


def _text(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def failure_notice(report: FailureReport, origin: Origin, mentions: Sequence[str] = ()) -> Notice:
    """The legacy stage-failure alert (spec/legacy.md §7.1 and §7.2)."""
    runs = sorted(set(report.runs))
    title, word = stage_title(report.stage), stage_word(report.stage)
    body = f"The following runs failed during the {word} stage:\n\n"
    body += "".join(f"{run}\n" for run in runs)
    return Notice(
        kind=f"{word} failures",
        subject=f"Run Record Archiver {title} Errors on {origin.host} at {origin.when}",
        body=body,
        slack_text=(
            f"Run Record Archiver {title} Failures: {len(runs)} runs failed on {origin.host}"
            + _mentions(mentions)
        ),
        slack_blocks=[
            _header(f"⚠️ Run Record Archiver {title} Failures"),
            _fields(
                ("Host", origin.host),
                ("Time", origin.when),
                ("Stage", title),
                ("Failed Runs", len(runs)),
            ),
            _text("*Run Numbers:*\n" + _cut([str(r) for r in runs], ", ", ", ... ({} more)")),
        ],
    )


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def conflicts_notice(
    conflicts: Sequence[ConflictAlert], origin: Origin, mentions: Sequence[str] = ()
) -> Notice:
    """New conflicts: a store holds different content than the archiver's for these runs."""
    ordered = sorted(conflicts, key=lambda c: (c.run, c.stage.value))
    body = (
        "A store holds different content than the archiver's for these runs; nothing was "
        "overwritten. An operator must decide which is right:\n\n"
    )
    body += "".join(f"{c.run} ({stage_word(c.stage)}): {c.message}\n" for c in ordered)
    lines = [
        f"• `{c.run}` {stage_word(c.stage)}: {_shorten(c.message, SLACK_MESSAGE_CHARS)}"
        for c in ordered
    ]
    return Notice(
        kind="conflicts",
        subject=f"Run Record Archiver Conflicts on {origin.host} at {origin.when}",
        body=body,
        slack_text=(
            f"Run Record Archiver Conflicts: {len(ordered)} new conflicts on {origin.host}"
            + _mentions(mentions)
        ),
        slack_blocks=[
            _header("⚠️ Run Record Archiver Conflicts"),
            _fields(("Host", origin.host), ("Time", origin.when), ("New Conflicts", len(ordered))),
            _text("*Runs:*\n" + _cut(lines, "\n", "\n… ({} more)")),
        ],
    )


def stuck_notice(
    stuck: Sequence[StuckStage], origin: Origin, mentions: Sequence[str] = ()
) -> Notice:
    """Stages whose due work has not progressed for longer than the configured minutes."""
    ordered = sorted(stuck, key=lambda s: s.stage.value)
    titles = ", ".join(stage_title(s.stage) for s in ordered)
    lines = [
        f"The {stage_word(s.stage)} stage has finished no attempt for {s.minutes} minutes; "
        f"{s.backlog} runs are waiting."
        for s in ordered
    ]
    return Notice(
        kind="stuck stages",
        subject=f"Run Record Archiver {titles} Stuck on {origin.host} at {origin.when}",
        body="".join(f"{line}\n" for line in lines),
        slack_text=f"Run Record Archiver {titles} Stuck on {origin.host}" + _mentions(mentions),
        slack_blocks=[
            _header(f"⚠️ Run Record Archiver {titles} Stuck"),
            _fields(("Host", origin.host), ("Time", origin.when)),
            *(_text(line) for line in lines),
        ],
    )


_TABLE_HEAD = ("Stage", "Done", "Backlog", "Failed", "Conflicts", "Newest archived run")


def _table_row(cells: Sequence[object]) -> str:
    return "{:<10}{:>6}{:>9}{:>8}{:>11}  {}".format(*cells).rstrip() + "\n"


def summary_notice(summary: DailySummary, origin: Origin) -> Notice:
    """The daily summary: per stage, done in the period, backlog, failed, conflicts, newest."""
    since = summary.since.astimezone().strftime(TIME_FORMAT)
    until = summary.until.astimezone().strftime(TIME_FORMAT)
    body = f"Runs done from {since} to {until}, and what is left, per stage:\n\n"
    body += _table_row(_TABLE_HEAD)
    blocks = [
        _header("Run Record Archiver Daily Summary"),
        _fields(("Host", origin.host), ("Period", f"{since} – {until}")),
    ]
    for s in summary.stages:
        newest = "-" if s.newest_archived is None else s.newest_archived
        title = stage_title(s.stage)
        body += _table_row((title, s.done, s.backlog, s.failed, s.conflicts, newest))
        blocks.append(_text(f"*{title}*"))
        blocks.append(
            _fields(
                ("Done", s.done),
                ("Backlog", s.backlog),
                ("Failed", s.failed),
                ("Conflicts", s.conflicts),
                ("Newest Archived Run", newest),
            )
        )
    return Notice(
        kind="daily summary",
        subject=f"Run Record Archiver Daily Summary on {origin.host} at {origin.when}",
        body=body,
        slack_text=f"Run Record Archiver Daily Summary on {origin.host}",
        slack_blocks=blocks,
    )
