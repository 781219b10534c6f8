"""Runs as operators look them up: filtered, keyset-paginated listings and a run's full detail.

A run is listed when the ledger knows it at all: a run directory (`runs`) or a stage row (a run
found only in a store, or read from a legacy failure log). Pages are keyset pages on the run
number, so every page costs the same and an export never holds more than one page.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, Select, and_, func, or_, true, union
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from app.db import session_scope
from app.models import ErrorKind, Readiness, Run, RunEvent, Stage, StageStatus, State, StoreRun
from app.redact import redact
from app.reports.redaction import redact_tree
from app.runranges import RunSelection

WINDOW = 2000
_RUN_FIELDS = ("present", "readiness", "config_name", "start_time", "stop_time", "excluded_reason")
_STAGE_FIELDS = (
    "run_number",
    "state",
    "attempts",
    "error_kind",
    "last_error",
    "next_attempt_at",
    "updated_at",
)
_STAGE_KEYS = {
    stage: [(name, f"{stage.value}_{name}") for name in _STAGE_FIELDS] for stage in Stage
}


@dataclass(frozen=True)
class RunFilter:
    """Which runs to list; empty tuples and None mean "any".

    `stage` narrows `states`, `error_kinds` and `text` to that stage's row (and requires one);
    without it a run matches when either stage's row does.
    """

    stage: Stage | None = None
    states: tuple[State, ...] = ()
    error_kinds: tuple[ErrorKind, ...] = ()
    text: str | None = None
    runs: RunSelection | None = None
    readiness: tuple[Readiness, ...] = ()
    excluded: bool | None = None


class StageBriefPublic(BaseModel):
    """A stage row as listed: state, attempts, the last error."""

    model_config = ConfigDict(from_attributes=True)

    state: State
    attempts: int
    error_kind: ErrorKind | None
    last_error: str | None
    next_attempt_at: datetime | None
    updated_at: datetime


class RunSummaryPublic(BaseModel):
    """One run in a listing."""

    run_number: int
    on_filesystem: bool
    readiness: Readiness | None = None
    config_name: str | None = None
    start_time: str | None = None
    stop_time: str | None = None
    excluded_reason: str | None = None
    stages: dict[Stage, StageBriefPublic]


class RunRecordPublic(BaseModel):
    """What the scanner knows about a run directory."""

    model_config = ConfigDict(from_attributes=True)

    present: bool
    readiness: Readiness
    readiness_reason: str | None
    config_name: str | None
    start_time: str | None
    stop_time: str | None
    partition: int | None
    file_count: int | None
    total_bytes: int | None
    content_hash: str | None
    archived_hash: str | None
    changed_after_archive: bool
    released: bool
    excluded_reason: str | None
    first_seen_at: datetime
    last_scanned_at: datetime


class StageDetailPublic(BaseModel):
    """A stage row in full: state, attempts, lease, error, timings, checksums, files."""

    model_config = ConfigDict(from_attributes=True)

    state: State
    attempts: int
    next_attempt_at: datetime | None
    lease_owner: str | None
    lease_until: datetime | None
    last_error: str | None
    error_kind: ErrorKind | None
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: float | None
    entity_count: int | None
    bytes: int | None
    content_hash: str | None
    blob_size: int | None
    blob_adler32: str | None
    blob_md5: str | None
    blob_sha256: str | None
    ucondb_version_id: int | None
    details: dict[str, Any] | None
    updated_at: datetime


class EventPublic(BaseModel):
    """One entry of a run's history."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    stage: Stage | None
    from_state: str | None
    to_state: str | None
    message: str | None


class RunDetailPublic(BaseModel):
    """Everything the ledger holds about one run; events newest first, bounded."""

    run_number: int
    record: RunRecordPublic | None
    stages: dict[Stage, StageDetailPublic]
    in_stores: dict[str, bool]
    events: list[EventPublic]
    more_events: bool


_KEY_COLUMNS = (col(Run.run_number), col(StageStatus.run_number))


def _known_runs(lo: int | None, hi: int | None) -> Any:
    """Run numbers the ledger knows in (`lo`, `hi`], as a one-column subquery."""
    parts = []
    for column in _KEY_COLUMNS:
        part = select(column.label("run_number"))
        if lo is not None:
            part = part.where(column > lo)
        if hi is not None:
            part = part.where(column <= hi)
        parts.append(part)
    return union(*parts).subquery("known")


def _window_end(session: Session, lo: int | None) -> int | None:
    """Where the next window of about WINDOW known runs above `lo` ends (None: to the end).

    Two index probes; each page query then unions at most 2 × WINDOW keys, so a page costs
    the same at the start of the ledger as at its end.
    """
    ends = []
    for column in _KEY_COLUMNS:
        probe = select(column).order_by(column).offset(WINDOW - 1).limit(1)
        if lo is not None:
            probe = probe.where(column > lo)
        ends.append(session.execute(probe).scalar())
    bounded = [end for end in ends if end is not None]
    return min(bounded) if bounded else None


def _newest_floor(session: Session, count: int) -> int | None:
    """The smallest of the `count` highest known run numbers (for `last N`)."""
    tops = [
        select(column.label("run_number"))
        .distinct()
        .order_by(column.desc())
        .limit(count)
        .subquery()
        for column in _KEY_COLUMNS
    ]
    merged = union(*(select(top.c.run_number) for top in tops)).subquery()
    newest = (
        select(merged.c.run_number).order_by(merged.c.run_number.desc()).limit(count).subquery()
    )
    return session.execute(select(func.min(newest.c.run_number))).scalar()


def _page_query(filt: RunFilter, *, lo: int | None, hi: int | None, limit: int) -> Select[Any]:
    known = _known_runs(lo, hi)
    number = known.c.run_number
    rows = {stage: aliased(StageStatus, name=f"s_{stage.value}") for stage in Stage}
    columns = [number.label("number")]
    columns += [getattr(Run, name).label(f"run_{name}") for name in _RUN_FIELDS]
    for stage, row in rows.items():
        columns += [getattr(row, name).label(key) for name, key in _STAGE_KEYS[stage]]
    query = select(*columns).select_from(known)
    query = query.outerjoin(Run, col(Run.run_number) == number)
    for stage, row in rows.items():
        query = query.outerjoin(row, and_(row.run_number == number, row.stage == stage))
    targets = [rows[filt.stage]] if filt.stage else list(rows.values())
    conditions: list[ColumnElement[bool]] = []
    if filt.stage:
        conditions.append(rows[filt.stage].run_number.is_not(None))
    if filt.states or filt.error_kinds:
        conditions.append(
            or_(
                *(
                    and_(
                        row.state.in_(filt.states) if filt.states else row.state.is_not(None),
                        row.error_kind.in_(filt.error_kinds) if filt.error_kinds else true(),
                    )
                    for row in targets
                )
            )
        )
    if filt.text:
        conditions.append(
            or_(
                col(Run.config_name).icontains(filt.text, autoescape=True),
                *(row.last_error.icontains(filt.text, autoescape=True) for row in targets),
            )
        )
    if filt.runs is not None and filt.runs.last is None:
        conditions.append(filt.runs.condition(number))
    if filt.readiness:
        conditions.append(col(Run.readiness).in_(filt.readiness))
    if filt.excluded is not None:
        reason = col(Run.excluded_reason)
        conditions.append(reason.is_not(None) if filt.excluded else reason.is_(None))
    return query.where(*conditions).order_by(number).limit(limit)


def _summary(row: Any, secrets: list[str | None]) -> RunSummaryPublic:
    """A listing entry from one result row (plain columns: no ORM objects per run)."""
    values = row._mapping
    briefs = {}
    for stage, keys in _STAGE_KEYS.items():
        fields = {name: values[key] for name, key in keys}
        if fields.pop("run_number") is not None:
            if fields["last_error"]:
                fields["last_error"] = redact(fields["last_error"], secrets)
            briefs[stage] = StageBriefPublic(**fields)
    return RunSummaryPublic(
        run_number=row.number,
        on_filesystem=bool(row.run_present),
        readiness=row.run_readiness,
        config_name=row.run_config_name,
        start_time=row.run_start_time,
        stop_time=row.run_stop_time,
        excluded_reason=row.run_excluded_reason,
        stages=briefs,
    )


def _bounds(
    session: Session, selection: RunSelection | None, after: int | None
) -> tuple[int | None, int | None] | None:
    """Where scanning starts (exclusive) and the highest run that can match (None: no limit);
    None when the selection cannot match anything."""
    if selection is None:
        return after, None
    if selection.last is not None:
        floor = _newest_floor(session, selection.last)
        if floor is None:
            return None
        start, ceiling = floor - 1, None
    elif selection.intervals:
        start = min(first for first, _ in selection.intervals) - 1
        ends = [last for _, last in selection.intervals]
        ceiling = None if None in ends else max(end for end in ends if end is not None)
    else:
        return None
    return (start if after is None else max(start, after)), ceiling


def runs_page(
    session: Session,
    filt: RunFilter,
    *,
    after: int | None,
    limit: int,
    secrets: list[str | None],
) -> tuple[list[RunSummaryPublic], bool]:
    """Up to `limit` matching runs above `after`, ascending, and whether more follow.

    Scans the known runs window by window until the page is full, so neither a page far into
    the ledger nor a filter that matches rarely ever sorts the whole ledger.
    """
    bounds = _bounds(session, filt.runs, after)
    if bounds is None:
        return [], False
    lo, ceiling = bounds
    found: list[Any] = []
    while ceiling is None or lo is None or lo < ceiling:
        hi = _window_end(session, lo)
        query = _page_query(filt, lo=lo, hi=hi, limit=limit + 1 - len(found))
        found += session.execute(query).all()
        if len(found) > limit or hi is None:
            break
        lo = hi
    return [_summary(row, secrets) for row in found[:limit]], len(found) > limit


def iter_runs(
    engine: Engine, filt: RunFilter, *, page_size: int, secrets: list[str | None]
) -> Iterator[RunSummaryPublic]:
    """Every matching run, one keyset page (and one short transaction) at a time."""
    after: int | None = None
    while True:
        with session_scope(engine) as session:
            items, more = runs_page(session, filt, after=after, limit=page_size, secrets=secrets)
        yield from items
        if not more:
            return
        after = items[-1].run_number


def run_detail(
    session: Session, run: int, *, events_limit: int, secrets: list[str | None]
) -> RunDetailPublic | None:
    """The run's record, stage rows, store presence and newest events; None if unknown."""
    record = session.get(Run, run)
    rows = session.exec(select(StageStatus).where(col(StageStatus.run_number) == run)).all()
    events = session.exec(
        select(RunEvent)
        .where(col(RunEvent.run_number) == run)
        .order_by(col(RunEvent.id).desc())
        .limit(events_limit + 1)
    ).all()
    if record is None and not rows and not events:
        return None
    stores = set(session.exec(select(StoreRun.store).where(col(StoreRun.run_number) == run)))
    stages = {}
    for row in rows:
        detail = StageDetailPublic.model_validate(row)
        detail.last_error = redact(row.last_error, secrets) if row.last_error else None
        detail.details = redact_tree(row.details, secrets)
        stages[row.stage] = detail
    public_record = RunRecordPublic.model_validate(record) if record else None
    if public_record and public_record.readiness_reason:
        public_record.readiness_reason = redact(public_record.readiness_reason, secrets)
    history = []
    for event in events[:events_limit]:
        item = EventPublic.model_validate(event)
        item.message = redact(event.message, secrets) if event.message else None
        history.append(item)
    return RunDetailPublic(
        run_number=run,
        record=public_record,
        stages=stages,
        in_stores={store: store in stores for store in ("artdaqdb", "ucondb")},
        events=history,
        more_events=len(events) > events_limit,
    )
