"""Alert texts: the legacy stage-failure texts exactly (spec/legacy.md §7), and the new ones."""

from datetime import UTC, datetime

from app.models import Stage
from app.notify.messages import (
    ConflictAlert,
    DailySummary,
    FailureReport,
    Origin,
    StageSummary,
    StuckStage,
    conflicts_notice,
    failure_notice,
    parse_mentions,
    stuck_notice,
    summary_notice,
)

# A naive time is local time, so the printed time does not depend on the machine's zone.
ORIGIN = Origin("daq01.example.org", datetime(2025, 10, 24, 14, 32, 15))


def test_import_failure_texts_are_the_legacy_ones() -> None:
    notice = failure_notice(
        FailureReport(Stage.IMPORT, [12502, 12500, 12501]), ORIGIN, ["U1", "U2"]
    )
    assert notice.subject == (
        "Run Record Archiver Import Errors on daq01.example.org at 2025-10-24 14:32:15"
    )
    assert notice.body == (
        "The following runs failed during the import stage:\n\n12500\n12501\n12502\n"
    )
    assert notice.slack_text == (
        "Run Record Archiver Import Failures: 3 runs failed on daq01.example.org <@U1> <@U2>"
    )
    assert notice.slack_blocks == [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": "⚠️ Run Record Archiver Import Failures",
                "emoji": True,
            },
        },
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": "*Host:*\ndaq01.example.org"},
                {"type": "mrkdwn", "text": "*Time:*\n2025-10-24 14:32:15"},
                {"type": "mrkdwn", "text": "*Stage:*\nImport"},
                {"type": "mrkdwn", "text": "*Failed Runs:*\n3"},
            ],
        },
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "*Run Numbers:*\n12500, 12501, 12502"},
        },
    ]


def test_migration_failures_cut_the_slack_list_after_ten() -> None:
    runs = list(range(200, 187, -1))  # 13 runs, in reverse order
    notice = failure_notice(FailureReport(Stage.MIGRATE, runs), ORIGIN)
    assert notice.subject.startswith("Run Record Archiver Migration Errors on ")
    assert notice.body.splitlines()[0] == "The following runs failed during the migration stage:"
    assert notice.body.splitlines()[2:] == [str(r) for r in range(188, 201)]
    assert notice.slack_text == (
        "Run Record Archiver Migration Failures: 13 runs failed on daq01.example.org"
    )
    listed = notice.slack_blocks[2]["text"]["text"]
    assert listed == "*Run Numbers:*\n" + ", ".join(map(str, range(188, 198))) + ", ... (3 more)"


def test_exactly_ten_runs_are_not_cut() -> None:
    notice = failure_notice(FailureReport(Stage.IMPORT, range(1, 11)), ORIGIN)
    assert notice.slack_blocks[2]["text"]["text"].endswith("9, 10")


def test_aware_times_are_shown_in_local_time() -> None:
    moment = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    notice = failure_notice(FailureReport(Stage.IMPORT, [1]), Origin("h", moment))
    assert notice.subject.endswith(moment.astimezone().strftime("at %Y-%m-%d %H:%M:%S"))


def test_mentions_are_parsed_from_the_comma_separated_setting() -> None:
    assert parse_mentions(" U1 , ,U2,") == ["U1", "U2"]
    assert parse_mentions(None) == []


def test_conflicts_list_every_run_in_mail_and_ten_in_slack() -> None:
    conflicts = [ConflictAlert(r, Stage.MIGRATE, f"key {r} holds other bytes") for r in range(12)]
    conflicts.append(ConflictAlert(99, Stage.IMPORT, "x" * 500))
    notice = conflicts_notice(conflicts, ORIGIN, ["U9"])
    assert notice.subject == (
        "Run Record Archiver Conflicts on daq01.example.org at 2025-10-24 14:32:15"
    )
    lines = notice.body.splitlines()
    assert lines[2] == "0 (migration): key 0 holds other bytes"
    assert lines[-1] == "99 (import): " + "x" * 500
    assert len(lines) == 2 + 13
    assert notice.slack_text.endswith("13 new conflicts on daq01.example.org <@U9>")
    listed = notice.slack_blocks[2]["text"]["text"].splitlines()
    assert listed[1] == "• `0` migration: key 0 holds other bytes"
    assert listed[-1] == "… (3 more)"
    assert len(notice.slack_blocks[2]["text"]["text"]) < 3000


def test_stuck_notice_names_stage_backlog_and_minutes() -> None:
    stuck = [StuckStage(Stage.MIGRATE, 7, 95, datetime(2025, 10, 24, 13, 0, tzinfo=UTC))]
    notice = stuck_notice(stuck, ORIGIN)
    assert notice.subject == (
        "Run Record Archiver Migration Stuck on daq01.example.org at 2025-10-24 14:32:15"
    )
    assert notice.body == (
        "The migration stage has finished no attempt for 95 minutes; 7 runs are waiting.\n"
    )


def test_summary_has_one_row_per_stage() -> None:
    summary = DailySummary(
        since=datetime(2025, 10, 23, 6, 0),
        until=datetime(2025, 10, 24, 6, 0),
        stages=[
            StageSummary(Stage.IMPORT, 120, 3, 1, 0, 12502),
            StageSummary(Stage.MIGRATE, 0, 0, 0, 2, None),
        ],
    )
    notice = summary_notice(summary, ORIGIN)
    assert notice.subject == (
        "Run Record Archiver Daily Summary on daq01.example.org at 2025-10-24 14:32:15"
    )
    assert notice.body.splitlines() == [
        "Runs done from 2025-10-23 06:00:00 to 2025-10-24 06:00:00, and what is left, per stage:",
        "",
        "Stage       Done  Backlog  Failed  Conflicts  Newest archived run",
        "Import       120        3       1          0  12502",
        "Migration      0        0       0          2  -",
    ]
    texts = [f["text"] for b in notice.slack_blocks for f in b.get("fields", [])]
    assert "*Newest Archived Run:*\n12502" in texts
    assert "*Conflicts:*\n2" in texts
