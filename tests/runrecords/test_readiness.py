"""Readiness rules of run-records.md §4 and the metadata facts they are decided from."""

from datetime import UTC, datetime, timedelta

import pytest

from app.config import ScannerSection
from app.models import Readiness
from app.runrecords.metadata import (
    format_daq_time,
    parse_daq_time,
    parse_metadata,
    parse_partition,
)
from app.runrecords.readiness import (
    PartitionHeads,
    RunFacts,
    ScanPolicy,
    decide_readiness,
    import_eligible,
    partition_heads,
    scan_policy,
    settles_at,
)

NOW = datetime(2024, 10, 3, 12, 0, 0, tzinfo=UTC)
POLICY = ScanPolicy()
NO_HEADS = PartitionHeads()


def ns(when: datetime) -> int:
    return int(when.timestamp() * 1_000_000_000)


def facts(**changes: object) -> RunFacts:
    """A run stopped an hour ago whose directory settled long since, changed as asked."""
    base: dict[str, object] = {
        "run_number": 100,
        "metadata_problem": None,
        "started": True,
        "stopped": True,
        "ends_with_newline": True,
        "start_time": format_daq_time(NOW - timedelta(hours=2)),
        "metadata_mtime_ns": ns(NOW - timedelta(hours=1)),
        "dir_mtime_ns": ns(NOW - timedelta(hours=2)),
        "partition": 1,
        "newest_change_ns": ns(NOW - timedelta(hours=1)),
    }
    base.update(changes)
    return RunFacts(**base)  # type: ignore[arg-type]


def decide(run: RunFacts, heads: PartitionHeads = NO_HEADS, **policy: object) -> Readiness:
    chosen = ScanPolicy(**policy) if policy else POLICY  # type: ignore[arg-type]
    return decide_readiness(run, policy=chosen, now=NOW, heads=heads)[0]


def test_stopped_and_settled_is_ready() -> None:
    readiness, reason = decide_readiness(facts(), policy=POLICY, now=NOW, heads=NO_HEADS)
    assert readiness is Readiness.READY
    assert "settled" in reason


@pytest.mark.parametrize(
    ("age_seconds", "expected"),
    [
        (0, Readiness.IN_PROGRESS),
        (59.9, Readiness.IN_PROGRESS),
        (60, Readiness.READY),
        (3600, Readiness.READY),
        (-30, Readiness.IN_PROGRESS),
    ],
)
def test_settle_period(age_seconds: float, expected: Readiness) -> None:
    """A change within the settle period (or in the future: clock skew) holds the run back."""
    newest = ns(NOW - timedelta(seconds=age_seconds))
    assert decide(facts(newest_change_ns=newest)) is expected


def test_settle_period_is_configurable() -> None:
    newest = ns(NOW - timedelta(seconds=90))
    assert decide(facts(newest_change_ns=newest), settle_seconds=120) is Readiness.IN_PROGRESS
    assert decide(facts(newest_change_ns=newest), settle_seconds=0) is Readiness.READY


def test_settles_at_is_when_a_settling_run_becomes_ready() -> None:
    """The moment `settles_at` gives is the first at which `decide_readiness` says ready."""
    changed = NOW - timedelta(seconds=20)
    run = facts(newest_change_ns=ns(changed))
    at = settles_at(run, policy=POLICY, now=NOW)
    assert at == changed + timedelta(seconds=60)
    assert decide_readiness(run, policy=POLICY, now=at, heads=NO_HEADS)[0] is Readiness.READY
    before = at - timedelta(milliseconds=1)
    assert decide_readiness(run, policy=POLICY, now=before, heads=NO_HEADS)[0] is (
        Readiness.IN_PROGRESS
    )


@pytest.mark.parametrize(
    "run",
    [
        facts(),  # settled long since
        facts(ends_with_newline=False, newest_change_ns=ns(NOW)),  # append incomplete
        facts(stopped=False, newest_change_ns=ns(NOW)),  # still running
        facts(metadata_problem="is missing", newest_change_ns=ns(NOW)),
    ],
)
def test_settles_at_is_none_unless_only_the_settle_period_remains(run: RunFacts) -> None:
    assert settles_at(run, policy=POLICY, now=NOW) is None


def test_stop_line_without_final_newline_is_in_progress() -> None:
    readiness, reason = decide_readiness(
        facts(ends_with_newline=False), policy=POLICY, now=NOW, heads=NO_HEADS
    )
    assert readiness is Readiness.IN_PROGRESS
    assert "newline" in reason


def test_stop_without_start_is_ready() -> None:
    assert decide(facts(started=False, start_time=None)) is Readiness.READY


def test_stopped_run_needs_its_newest_change() -> None:
    with pytest.raises(ValueError, match="run 100"):
        decide(facts(newest_change_ns=None))


def test_stop_line_wins_over_later_runs_and_age() -> None:
    heads = partition_heads([(100, 1, True), (200, 1, True)])
    old = facts(start_time=format_daq_time(NOW - timedelta(days=30)))
    assert decide(old, heads) is Readiness.READY


def test_no_metadata() -> None:
    readiness, reason = decide_readiness(
        facts(metadata_problem="is missing"), policy=POLICY, now=NOW, heads=NO_HEADS
    )
    assert readiness is Readiness.NO_METADATA
    assert reason == "metadata.txt is missing"


def running(**changes: object) -> RunFacts:
    return facts(stopped=False, newest_change_ns=None, **changes)


def test_running_run_is_in_progress() -> None:
    assert decide(running()) is Readiness.IN_PROGRESS


def test_never_stopped_when_a_later_run_of_the_partition_started() -> None:
    heads = partition_heads([(100, 1, True), (101, 1, True)])
    readiness, reason = decide_readiness(running(), policy=POLICY, now=NOW, heads=heads)
    assert readiness is Readiness.NEVER_STOPPED
    assert "run 101 of partition 1" in reason


def test_partition_rule_needs_the_same_partition_and_a_start_line() -> None:
    assert decide(running(), partition_heads([(101, 2, True)])) is Readiness.IN_PROGRESS
    assert decide(running(), partition_heads([(101, 1, False)])) is Readiness.IN_PROGRESS
    assert decide(running(), partition_heads([(99, 1, True)])) is Readiness.IN_PROGRESS
    assert decide(running(partition=None), partition_heads([(101, 1, True)])) is (
        Readiness.IN_PROGRESS
    )


@pytest.mark.parametrize(
    ("hours", "expected"),
    [(47.9, Readiness.IN_PROGRESS), (48.1, Readiness.NEVER_STOPPED)],
)
def test_maximum_run_duration_from_the_start_line(hours: float, expected: Readiness) -> None:
    start = format_daq_time(NOW - timedelta(hours=hours))
    assert decide(running(start_time=start)) is expected


def test_maximum_run_duration_falls_back_to_metadata_mtime() -> None:
    """An unparseable start value: the mtime of metadata.txt dates the start."""
    old = running(start_time="sometime", metadata_mtime_ns=ns(NOW - timedelta(hours=49)))
    recent = running(start_time="sometime", metadata_mtime_ns=ns(NOW - timedelta(hours=1)))
    assert decide(old) is Readiness.NEVER_STOPPED
    assert decide(recent) is Readiness.IN_PROGRESS
    assert decide(old, max_run_duration=timedelta(hours=72)) is Readiness.IN_PROGRESS


def not_started(**changes: object) -> RunFacts:
    return facts(started=False, stopped=False, start_time=None, newest_change_ns=None, **changes)


def test_never_started_by_start_grace() -> None:
    young = not_started(dir_mtime_ns=ns(NOW - timedelta(minutes=59)))
    old = not_started(dir_mtime_ns=ns(NOW - timedelta(minutes=61)))
    assert decide(young) is Readiness.IN_PROGRESS
    assert decide(old) is Readiness.NEVER_STARTED
    assert decide(old, start_grace=timedelta(hours=2)) is Readiness.IN_PROGRESS


def test_never_started_when_any_later_run_of_the_partition_exists() -> None:
    young = not_started(dir_mtime_ns=ns(NOW - timedelta(minutes=1)))
    readiness, reason = decide_readiness(
        young, policy=POLICY, now=NOW, heads=partition_heads([(100, 1, False), (105, 1, False)])
    )
    assert readiness is Readiness.NEVER_STARTED
    assert "run 105 of partition 1" in reason
    assert decide(young, partition_heads([(105, 3, True)])) is Readiness.IN_PROGRESS


def test_partition_heads_keep_the_highest_runs() -> None:
    heads = partition_heads([(5, 1, True), (9, 1, False), (7, 1, True), (8, None, True)])
    assert heads.later_run(1, 5) == 9
    assert heads.later_started(1, 5) == 7
    assert heads.later_started(1, 7) is None
    assert heads.later_run(None, 1) is None


@pytest.mark.parametrize(
    ("readiness", "released", "auto", "expected"),
    [
        (Readiness.READY, False, False, True),
        (Readiness.IN_PROGRESS, True, True, False),
        (Readiness.NEVER_STOPPED, False, False, False),
        (Readiness.NEVER_STOPPED, True, False, True),
        (Readiness.NEVER_STOPPED, False, True, True),
        (Readiness.NEVER_STARTED, True, False, True),
        (Readiness.NO_METADATA, True, True, False),
        (Readiness.UNREADABLE, True, True, False),
    ],
)
def test_import_eligibility(
    readiness: Readiness, released: bool, auto: bool, expected: bool
) -> None:
    policy = ScanPolicy(archive_never_stopped=auto)
    assert import_eligible(readiness, released=released, policy=policy) is expected


def test_scan_policy_from_settings() -> None:
    section = ScannerSection(
        settle_seconds=5,
        max_run_duration_hours=3,
        start_grace_minutes=10,
        archive_never_stopped=True,
    )
    assert scan_policy(section) == ScanPolicy(
        settle_seconds=5.0,
        max_run_duration=timedelta(hours=3),
        start_grace=timedelta(minutes=10),
        archive_never_stopped=True,
    )
    assert scan_policy(ScannerSection()) == ScanPolicy()


METADATA = (
    b"Config name: BootDAQ standard/CRTnorthwall\n"
    b"Component #0: crt01\n"
    b"Component #1: ptb01\n"
    b"process management method: direct\n"
    b"\nDAQInterface start time: Tue Oct  1 19:03:15 UTC 2024\n"
    b"\nDAQInterface start time: Tue Oct  1 19:04:00 UTC 2024\n"
    b"\nDAQInterface stop time: Tue Oct  1 20:47:02 UTC 2024\n"
    b"\nDAQInterface stop time: Tue Oct  1 20:48:00 UTC 2024\n"
)


def test_parse_metadata_keeps_every_start_and_stop_in_order() -> None:
    info = parse_metadata(METADATA)
    assert info.config_value == "BootDAQ standard/CRTnorthwall"
    assert info.components == ("crt01", "ptb01")
    assert info.start_times == ("Tue Oct  1 19:03:15 UTC 2024", "Tue Oct  1 19:04:00 UTC 2024")
    assert info.stop_times == ("Tue Oct  1 20:47:02 UTC 2024", "Tue Oct  1 20:48:00 UTC 2024")
    assert info.ends_with_newline


@pytest.mark.parametrize(
    "line",
    [
        b"daqinterface stop time: Tue Oct  1 20:47:02 UTC 2024\n",
        b" DAQInterface stop time: Tue Oct  1 20:47:02 UTC 2024\n",
        b"DAQInterface stop time:\n",
        b"DAQInterface stop  time: x\n",
        b"# DAQInterface stop time: x\n",
    ],
)
def test_stop_line_must_start_the_line_in_exact_case(line: bytes) -> None:
    assert parse_metadata(b"Config name: a\n" + line).stop_times == ()


def test_stop_line_value_may_be_empty_after_whitespace() -> None:
    assert parse_metadata(b"DAQInterface stop time: \n").stop_times == ("",)


def test_parse_metadata_handles_crlf_and_undecodable_bytes() -> None:
    data = b"Config name: caf\xe9\r\nDAQInterface stop time: Tue Oct  1 20:47:02 UTC 2024\r\n"
    info = parse_metadata(data)
    assert info.stop_times == ("Tue Oct  1 20:47:02 UTC 2024",)
    assert info.config_value == "caf\udce9"
    assert info.ends_with_newline


def test_config_value_is_the_first_non_empty_line() -> None:
    info = parse_metadata(b"Config name:  \nConfig name: first\nConfig name: second\n")
    assert info.config_value == "first"
    assert parse_metadata(b"Component #0: x\n").config_value is None


def test_ends_with_newline() -> None:
    assert not parse_metadata(b"DAQInterface stop time: x").ends_with_newline
    assert not parse_metadata(b"").ends_with_newline


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"export DAQINTERFACE_PARTITION_NUMBER=1\n", 1),
        (b"export DAQINTERFACE_LOGFILE=/x\nexport DAQINTERFACE_PARTITION_NUMBER=12\n", 12),
        (b'export DAQINTERFACE_PARTITION_NUMBER="3"\n', 3),
        (b"export  DAQINTERFACE_PARTITION_NUMBER = 4 \n", 4),
        (b"export DAQINTERFACE_PARTITION_NUMBER=1\nexport DAQINTERFACE_PARTITION_NUMBER=2\n", 2),
        (b"export DAQINTERFACE_PARTITION_NUMBER=one\n", None),
        (b"export DAQINTERFACE_PARTITION_NUMBER=\xd9\xa3\n", None),
        (b"# export DAQINTERFACE_PARTITION_NUMBER=1\n", None),
        (b"export DAQINTERFACE_PARTITION_NUMBERS=1\n", None),
        (b"", None),
    ],
)
def test_parse_partition(text: bytes, expected: int | None) -> None:
    assert parse_partition(text) == expected


def test_daq_time_round_trip() -> None:
    when = datetime(2024, 10, 1, 19, 3, 15, tzinfo=UTC)
    assert format_daq_time(when) == "Tue Oct  1 19:03:15 UTC 2024"
    assert format_daq_time(datetime(2024, 10, 21, 0, 0, 0, tzinfo=UTC)) == (
        "Mon Oct 21 00:00:00 UTC 2024"
    )
    assert parse_daq_time("Tue Oct  1 19:03:15 UTC 2024") == when


@pytest.mark.parametrize(
    "value",
    [
        "",
        "yesterday",
        "Tue Oct  1 19:03:15 CEST 2024",
        "Tue Foo  1 19:03:15 UTC 2024",
        "Tue Oct 32 19:03:15 UTC 2024",
        "Tue Oct  1 19:03 UTC 2024",
        "Tue Oct  1 25:03:15 UTC 2024",
    ],
)
def test_parse_daq_time_rejects_other_text(value: str) -> None:
    assert parse_daq_time(value) is None
