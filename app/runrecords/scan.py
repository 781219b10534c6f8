"""The scanner: record every run directory in the ledger and decide when each is ready.

Incremental rule. Every scan lists the root and stats each run directory and its `metadata.txt`
(two `stat` calls per run, no reads). A run's files are read again only when a cheap signal
changed: the directory's mtime (files added, removed or renamed) or the size or mtime of
`metadata.txt`. Otherwise:
* a `ready` run is left alone;
* a run that is not ready is re-decided from what the ledger remembers (start/stop lines,
  partition, mtimes), because time alone can change its readiness; only a run with a stop line
  is stat-walked again (settle period) and has the last byte of `metadata.txt` checked;
* an archived run (`archived_hash` set) is re-hashed only when a cheap signal changed, and is
  flagged `changed_after_archive` when its content hash no longer matches.
A file rewritten in place with the same size and mtime is therefore not noticed, which
DAQInterface never does (its files are read-only; `metadata.txt` only grows).

The function never commits: the caller's unit of work does.
"""

import errno
import logging
import os
import stat
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from sqlmodel import Session, select, update

from app.models import Readiness, Run, RunEvent, SourceAnomaly, Stage, StageStatus, State
from app.runrecords.convert import config_name_from_metadata
from app.runrecords.dirstat import summarize_run_dir
from app.runrecords.listing import Anomaly, RunEntry, list_run_records
from app.runrecords.metadata import parse_metadata, parse_partition
from app.runrecords.reader import RecordError, hash_record
from app.runrecords.readiness import (
    FLAGGED,
    RunFacts,
    ScanPolicy,
    decide_readiness,
    import_eligible,
    partition_heads,
    settles_at,
)
from app.runrecords.runnumbers import AnomalyReason
from app.timeutil import utcnow

log = logging.getLogger(__name__)

ACTOR = "scanner"
METADATA = "metadata.txt"
ENVIRONMENT = "environment.txt"
METADATA_READ_LIMIT = 16 * 1024 * 1024
ENVIRONMENT_READ_LIMIT = 1024 * 1024
_TIME_CHARS = 128
_NAME_CHARS = 512
_OPEN_STATES = (State.WAITING, State.PENDING)


@dataclass
class ScanResult:
    """What one scan found; lists are run numbers (or names) for display, in ascending order."""

    new: list[int] = field(default_factory=list)
    ready: list[int] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)
    flagged: list[tuple[int, str]] = field(default_factory=list)
    vanished: list[int] = field(default_factory=list)
    anomalies: list[Anomaly] = field(default_factory=list)
    unchanged: int = 0
    next_settled_at: datetime | None = None
    """When the first run still inside its settle period becomes ready (None: none is)."""

    def counts(self) -> dict[str, int]:
        """Summary numbers: new runs, newly ready, not ready, newly flagged, anomalies, ..."""
        return {
            "new": len(self.new),
            "ready": len(self.ready),
            "waiting": len(self.waiting),
            "flagged": len(self.flagged),
            "vanished": len(self.vanished),
            "anomalies": len(self.anomalies),
            "unchanged": self.unchanged,
        }


@dataclass
class _Seen:
    """One listed run during a scan: its ledger row and, when re-decided, its facts."""

    entry: RunEntry
    run: Run
    created: bool = False
    revived: bool = False
    facts: RunFacts | None = None
    reread: bool = False
    problem: str | None = None


def scan_records(
    session: Session, run_records_dir: Path, *, policy: ScanPolicy, now: datetime | None = None
) -> ScanResult:
    """Scan the run-records directory into the ledger; raises `RunRecordsDirError` if unusable."""
    now = now or utcnow()
    listing = list_run_records(run_records_dir)
    runs = {run.run_number: run for run in session.exec(select(Run))}
    rows = {
        row.run_number: row
        for row in session.exec(select(StageStatus).where(StageStatus.stage == Stage.IMPORT))
    }
    result = ScanResult()
    anomalies = list(listing.anomalies)
    seen = [_see(session, entry, runs, now, result) for _, entry in sorted(listing.runs.items())]
    for item in seen:
        _observe(session, item, now, result)
        if item.problem is not None:
            anomalies.append(
                Anomaly(str(item.entry.number), AnomalyReason.UNREADABLE, item.problem)
            )
    heads = partition_heads(
        (run.run_number, run.partition, run.start_time is not None or run.stop_time is not None)
        for run in runs.values()
        if run.present and run.run_number in listing.runs
    )
    for item in seen:
        if item.problem is not None:
            readiness, reason = Readiness.UNREADABLE, f"run directory unreadable: {item.problem}"
        elif item.facts is None:
            result.unchanged += 1
            continue
        else:
            readiness, reason = decide_readiness(item.facts, policy=policy, now=now, heads=heads)
            _note_settling(result, settles_at(item.facts, policy=policy, now=now))
        changed = _set_readiness(session, item, readiness, reason, now, result)
        eligible = import_eligible(readiness, released=item.run.released, policy=policy)
        _sync_import_row(session, rows, item.run.run_number, eligible=eligible, now=now)
        if not changed and not item.reread:
            result.unchanged += 1
    for number in sorted(set(runs) - set(listing.runs)):
        _vanish(session, runs[number], rows.get(number), now, result)
    _record_anomalies(session, anomalies, now)
    result.anomalies = sorted(anomalies, key=lambda a: a.name)
    result.waiting = sorted(
        n for n, run in runs.items() if run.present and run.readiness is not Readiness.READY
    )
    session.exec(update(Run).where(Run.present.is_(True)).values(last_scanned_at=now))
    return result


def _note_settling(result: ScanResult, at: datetime | None) -> None:
    """Keep the earliest moment a settling run becomes ready."""
    if at is not None and (result.next_settled_at is None or at < result.next_settled_at):
        result.next_settled_at = at


def _see(
    session: Session, entry: RunEntry, runs: dict[int, Run], now: datetime, result: ScanResult
) -> _Seen:
    """The ledger row for a listed run, created on first sight, revived if it had vanished."""
    run = runs.get(entry.number)
    if run is None:
        run = Run(run_number=entry.number, first_seen_at=now, last_scanned_at=now)
        session.add(run)
        runs[entry.number] = run
        result.new.append(entry.number)
        return _Seen(entry=entry, run=run, created=True)
    if not run.present:
        run.present = True
        _event(session, run.run_number, None, None, None, "run directory is back", now)
        return _Seen(entry=entry, run=run, revived=True)
    return _Seen(entry=entry, run=run)


def _observe(session: Session, item: _Seen, now: datetime, result: ScanResult) -> None:
    """Fill `item.facts` from the files when a cheap signal changed, else from the ledger."""
    run, entry = item.run, item.entry
    try:
        meta = _stat_or_none(entry.path / METADATA)
        signature = (meta.st_size, meta.st_mtime_ns) if meta else (None, None)
        unchanged = (
            not (item.created or item.revived)
            and run.readiness is not Readiness.UNREADABLE
            and run.dir_mtime_ns == entry.dir_mtime_ns
            and signature == (run.metadata_size, run.metadata_mtime_ns)
        )
        if unchanged and run.readiness is Readiness.READY:
            return
        if unchanged:
            item.facts = _facts_from_ledger(run, entry, has_metadata=meta is not None)
        else:
            item.reread = True
            item.facts = _facts_from_files(run, entry, meta)
            if run.archived_hash is not None:
                _check_archived_content(session, run, entry.path, now, result)
    except OSError as exc:
        item.problem = exc.strerror or str(exc)


def _facts_from_files(run: Run, entry: RunEntry, meta: os.stat_result | None) -> RunFacts:
    """Read `metadata.txt` and `environment.txt`, stat-walk the directory, update the row."""
    problem: str | None = "is missing"
    info = None
    config_name = None
    if meta is not None and meta.st_size > METADATA_READ_LIMIT:
        problem = f"is larger than {METADATA_READ_LIMIT} bytes; not read"
    elif meta is not None:
        try:
            data = _read_capped(entry.path / METADATA, METADATA_READ_LIMIT)
            info = parse_metadata(data)
            config_name = config_name_from_metadata(data)[0][:_NAME_CHARS]
            problem = None
        except _TooLarge:
            problem = f"grew past {METADATA_READ_LIMIT} bytes while being read"
        except OSError as exc:
            problem = f"is unreadable: {exc.strerror or exc}"
    summary = summarize_run_dir(entry.path)
    run.dir_mtime_ns = entry.dir_mtime_ns
    remembered = meta if info is not None else None
    run.metadata_size = remembered.st_size if remembered else None
    run.metadata_mtime_ns = remembered.st_mtime_ns if remembered else None
    run.start_time = _bounded(info.start_times[-1]) if info and info.start_times else None
    run.stop_time = _bounded(info.stop_times[-1]) if info and info.stop_times else None
    run.config_name = config_name
    run.partition = _partition(entry.path)
    run.file_count = summary.file_count
    run.total_bytes = summary.total_bytes
    return RunFacts(
        run_number=run.run_number,
        metadata_problem=problem,
        started=bool(info and info.start_times),
        stopped=bool(info and info.stop_times),
        ends_with_newline=bool(info and info.ends_with_newline),
        start_time=run.start_time,
        metadata_mtime_ns=meta.st_mtime_ns if meta else None,
        dir_mtime_ns=entry.dir_mtime_ns,
        partition=run.partition,
        newest_change_ns=summary.newest_change_ns,
    )


def _facts_from_ledger(run: Run, entry: RunEntry, *, has_metadata: bool) -> RunFacts:
    """Facts of an unchanged run without reading it; a stopped run is stat-walked for settling."""
    stopped = has_metadata and run.stop_time is not None
    newline = stopped and _ends_with_newline(entry.path / METADATA)
    return RunFacts(
        run_number=run.run_number,
        metadata_problem=None if has_metadata else "is missing",
        started=run.start_time is not None,
        stopped=stopped,
        ends_with_newline=newline,
        start_time=run.start_time,
        metadata_mtime_ns=run.metadata_mtime_ns,
        dir_mtime_ns=entry.dir_mtime_ns,
        partition=run.partition,
        newest_change_ns=summarize_run_dir(entry.path).newest_change_ns if newline else None,
    )


def _check_archived_content(
    session: Session, run: Run, path: Path, now: datetime, result: ScanResult
) -> None:
    """Re-hash an archived run whose cheap signals moved; flag it if its content differs."""
    try:
        run.content_hash = hash_record(path)
    except RecordError as exc:
        _event(session, run.run_number, None, None, None, f"cannot re-hash: {exc}", now)
        return
    if run.content_hash != run.archived_hash and not run.changed_after_archive:
        run.changed_after_archive = True
        message = (
            f"content changed after archive: archived {run.archived_hash}, "
            f"now {run.content_hash}; not re-archived automatically"
        )
        _event(session, run.run_number, None, None, None, message, now)
        result.flagged.append((run.run_number, "changed_after_archive"))


def _set_readiness(
    session: Session,
    item: _Seen,
    readiness: Readiness,
    reason: str,
    now: datetime,
    result: ScanResult,
) -> bool:
    """Store the decision; an event and a result entry only when it changed."""
    run = item.run
    previous = None if item.created else run.readiness
    run.readiness_reason = reason
    if previous is readiness:
        return False
    run.readiness = readiness
    _event(session, run.run_number, None, previous, readiness, reason, now)
    if readiness is Readiness.READY:
        result.ready.append(run.run_number)
    elif readiness in FLAGGED:
        result.flagged.append((run.run_number, f"{readiness.value}: {reason}"))
    return True


def _sync_import_row(
    session: Session, rows: dict[int, StageStatus], number: int, *, eligible: bool, now: datetime
) -> None:
    """Import row: `pending` when eligible, else `waiting`; rows past `pending` stay as they are."""
    target = State.PENDING if eligible else State.WAITING
    row = rows.get(number)
    if row is not None and (row.state not in _OPEN_STATES or row.state is target):
        return
    if row is None:
        row = StageStatus(run_number=number, stage=Stage.IMPORT)
        session.add(row)
        rows[number] = row
        previous = None
    else:
        previous = row.state
    row.state = target
    row.next_attempt_at = now if target is State.PENDING else None
    row.updated_at = now
    message = "record is ready for import" if eligible else "record is not ready"
    _event(session, number, Stage.IMPORT, previous, target, message, now)


def _vanish(
    session: Session, run: Run, row: StageStatus | None, now: datetime, result: ScanResult
) -> None:
    """A run directory that is gone: keep the row, mark it absent, hold back a pending import."""
    if not run.present:
        return
    run.present = False
    previous = run.readiness
    run.readiness = Readiness.VANISHED
    run.readiness_reason = "run directory is gone"
    _event(session, run.run_number, None, previous, Readiness.VANISHED, run.readiness_reason, now)
    result.vanished.append(run.run_number)
    if row is not None and row.state is State.PENDING:
        row.state = State.WAITING
        row.next_attempt_at = None
        row.updated_at = now
        _event(session, run.run_number, Stage.IMPORT, State.PENDING, State.WAITING, "vanished", now)


def _record_anomalies(session: Session, anomalies: list[Anomaly], now: datetime) -> None:
    """Upsert this scan's anomalies; drop (with an event) those no longer present."""
    current = {a.name: a for a in anomalies}
    stored = {row.name: row for row in session.exec(select(SourceAnomaly))}
    for name, anomaly in current.items():
        row = stored.get(name)
        if row is None:
            row = SourceAnomaly(name=name, reason=anomaly.reason.value, first_seen_at=now)
            session.add(row)
            _anomaly_event(session, anomaly.name, f"{anomaly.reason.value}: {anomaly.detail}", now)
        elif row.reason != anomaly.reason.value:
            _anomaly_event(
                session, name, f"{row.reason} → {anomaly.reason.value}: {anomaly.detail}", now
            )
            row.reason = anomaly.reason.value
        row.detail = anomaly.detail
        row.last_seen_at = now
    for name in stored.keys() - current.keys():
        _anomaly_event(session, name, f"{stored[name].reason} cleared (entry gone or fixed)", now)
        session.delete(stored[name])


def _anomaly_event(session: Session, name: str, message: str, now: datetime) -> None:
    _event(session, None, None, None, None, f"source entry {name!r}: {message}", now)


def _event(
    session: Session,
    run_number: int | None,
    stage: Stage | None,
    previous: str | None,
    current: str | None,
    message: str,
    now: datetime,
) -> None:
    session.add(
        RunEvent(
            run_number=run_number,
            stage=stage,
            at=now,
            actor=ACTOR,
            from_state=previous,
            to_state=current,
            message=message,
        )
    )


def _partition(run_dir: Path) -> int | None:
    try:
        return parse_partition(_read_capped(run_dir / ENVIRONMENT, ENVIRONMENT_READ_LIMIT))
    except (OSError, _TooLarge):
        return None


def _bounded(value: str) -> str:
    return value[:_TIME_CHARS]


class _TooLarge(Exception):
    """A small DAQInterface file that is not small; the scanner does not read it."""


def _open_regular(path: Path) -> BinaryIO:
    """Open a file for reading, refusing anything but a regular file: a named pipe would block
    the scan (and with it every later scan) forever."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        if not stat.S_ISREG(mode):
            kind = "a named pipe" if stat.S_ISFIFO(mode) else "a special file"
            raise OSError(errno.EINVAL, f"{kind}, not a regular file", str(path))
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _read_capped(path: Path, limit: int) -> bytes:
    with _open_regular(path) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise _TooLarge
    return data


def _stat_or_none(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except FileNotFoundError:
        return None


def _ends_with_newline(path: Path) -> bool:
    """The last byte of a file, read without reading the rest."""
    try:
        with _open_regular(path) as handle:
            size = os.fstat(handle.fileno()).st_size
            return size > 0 and os.pread(handle.fileno(), 1, size - 1) == b"\n"
    except OSError:
        return False
