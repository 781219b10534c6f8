"""When has a run ended? The readiness rules of run-records.md §4, as pure functions.

Nothing here touches the filesystem: the scanner gathers `RunFacts` (from files, or from the
ledger when nothing changed) and these functions decide, so every rule is testable with an
injected clock.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from app.config import ScannerSection
from app.models import Readiness
from app.runrecords.metadata import parse_daq_time

FLAGGED = frozenset(
    {
        Readiness.NEVER_STOPPED,
        Readiness.NEVER_STARTED,
        Readiness.NO_METADATA,
        Readiness.UNREADABLE,
        Readiness.VANISHED,
    }
)
"""Readiness values shown to operators as needing attention."""


@dataclass(frozen=True)
class ScanPolicy:
    """Readiness settings: settle period, maximum run duration, start grace, auto-archiving."""

    settle_seconds: float = 60.0
    max_run_duration: timedelta = timedelta(hours=48)
    start_grace: timedelta = timedelta(hours=1)
    archive_never_stopped: bool = False


@dataclass(frozen=True)
class RunFacts:
    """What readiness is decided from. `newest_change_ns` (newest mtime/ctime in the directory)
    is needed only for a run with a stop line; the others never read it."""

    run_number: int
    metadata_problem: str | None
    started: bool
    stopped: bool
    ends_with_newline: bool
    start_time: str | None
    metadata_mtime_ns: int | None
    dir_mtime_ns: int
    partition: int | None
    newest_change_ns: int | None = None


@dataclass(frozen=True)
class PartitionHeads:
    """Per DAQInterface partition: the highest run present, and the highest run that started."""

    highest: dict[int, int] = field(default_factory=dict)
    highest_started: dict[int, int] = field(default_factory=dict)

    def later_run(self, partition: int | None, run: int) -> int | None:
        """A higher-numbered run of the same partition, if any."""
        return _later(self.highest, partition, run)

    def later_started(self, partition: int | None, run: int) -> int | None:
        """A higher-numbered run of the same partition that has a start (or stop) line."""
        return _later(self.highest_started, partition, run)


def partition_heads(runs: Iterable[tuple[int, int | None, bool]]) -> PartitionHeads:
    """Index `(run, partition, started)` triples; runs without a partition take no part."""
    heads = PartitionHeads()
    for run, partition, started in runs:
        if partition is None:
            continue
        heads.highest[partition] = max(run, heads.highest.get(partition, run))
        if started:
            heads.highest_started[partition] = max(run, heads.highest_started.get(partition, run))
    return heads


def decide_readiness(
    facts: RunFacts, *, policy: ScanPolicy, now: datetime, heads: PartitionHeads
) -> tuple[Readiness, str]:
    """Classify a run directory and say why, in words an operator can act on."""
    if facts.metadata_problem is not None:
        return Readiness.NO_METADATA, f"metadata.txt {facts.metadata_problem}"
    if facts.stopped:
        return _stopped(facts, policy=policy, now=now)
    if facts.started:
        return _started_only(facts, policy=policy, now=now, heads=heads)
    later = heads.later_run(facts.partition, facts.run_number)
    if later is not None:
        return (
            Readiness.NEVER_STARTED,
            f"no start or stop line, and run {later} of partition {facts.partition} exists",
        )
    if now - _from_ns(facts.dir_mtime_ns) > policy.start_grace:
        return (
            Readiness.NEVER_STARTED,
            f"no start or stop line, and the directory is older than {_span(policy.start_grace)}",
        )
    return Readiness.IN_PROGRESS, "no start line yet (within the start grace period)"


def import_eligible(readiness: Readiness, *, released: bool, policy: ScanPolicy) -> bool:
    """Whether the import row may be `pending`: ready, or a dead run released or auto-archived."""
    if readiness is Readiness.READY:
        return True
    dead = readiness in (Readiness.NEVER_STOPPED, Readiness.NEVER_STARTED)
    return dead and (released or policy.archive_never_stopped)


def settles_at(facts: RunFacts, *, policy: ScanPolicy, now: datetime) -> datetime | None:
    """When a run that waits only for its settle period becomes `ready`; None for any other run.
    The service scans again at that moment rather than at its next tick."""
    complete = facts.metadata_problem is None and facts.stopped and facts.ends_with_newline
    if not complete or facts.newest_change_ns is None:
        return None
    at = _from_ns(facts.newest_change_ns) + timedelta(seconds=policy.settle_seconds)
    return at if at > now else None


def _stopped(facts: RunFacts, *, policy: ScanPolicy, now: datetime) -> tuple[Readiness, str]:
    if not facts.ends_with_newline:
        return (
            Readiness.IN_PROGRESS,
            "stop line present but metadata.txt does not end with a newline (append incomplete)",
        )
    if facts.newest_change_ns is None:
        raise ValueError(f"run {facts.run_number}: newest change time is needed after a stop line")
    age = (now - _from_ns(facts.newest_change_ns)).total_seconds()
    if age < policy.settle_seconds:
        return (
            Readiness.IN_PROGRESS,
            f"stop line present; last change {max(age, 0):.0f} s ago, settling for "
            f"{policy.settle_seconds:g} s",
        )
    return Readiness.READY, "stop line present and the directory has settled"


def _started_only(
    facts: RunFacts, *, policy: ScanPolicy, now: datetime, heads: PartitionHeads
) -> tuple[Readiness, str]:
    later = heads.later_started(facts.partition, facts.run_number)
    if later is not None:
        return (
            Readiness.NEVER_STOPPED,
            f"no stop line, and run {later} of partition {facts.partition} has started since",
        )
    started = parse_daq_time(facts.start_time or "")
    if started is None and facts.metadata_mtime_ns is not None:
        started = _from_ns(facts.metadata_mtime_ns)
    if started is not None and now - started > policy.max_run_duration:
        return (
            Readiness.NEVER_STOPPED,
            f"no stop line, and the run started more than {_span(policy.max_run_duration)} ago "
            f"({started:%Y-%m-%d %H:%M:%S} UTC)",
        )
    return Readiness.IN_PROGRESS, "running: start line present, no stop line yet"


def _later(index: dict[int, int], partition: int | None, run: int) -> int | None:
    if partition is None:
        return None
    highest = index.get(partition)
    return highest if highest is not None and highest > run else None


def _from_ns(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / 1e9, UTC)


def _span(span: timedelta) -> str:
    seconds = span.total_seconds()
    return f"{seconds / 3600:g} h" if seconds >= 3600 else f"{seconds:g} s"


def scan_policy(section: ScannerSection) -> ScanPolicy:
    """The policy configured in the `scanner` section of the settings."""
    return ScanPolicy(
        settle_seconds=float(section.settle_seconds),
        max_run_duration=timedelta(hours=section.max_run_duration_hours),
        start_grace=timedelta(minutes=section.start_grace_minutes),
        archive_never_stopped=section.archive_never_stopped,
    )
