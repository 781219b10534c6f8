"""Run listings as downloadable CSV or JSON, produced row by row from a run iterator."""

import csv
import io
from collections.abc import Iterable, Iterator

from app.models import Stage
from app.reports.run_listing import RunSummaryPublic

_RUN_COLUMNS = (
    "run_number",
    "on_filesystem",
    "readiness",
    "config_name",
    "start_time",
    "stop_time",
    "excluded_reason",
)
_STAGE_COLUMNS = ("state", "attempts", "error_kind", "last_error", "next_attempt_at", "updated_at")
CSV_HEADER = (
    *_RUN_COLUMNS,
    *(f"{stage.value}_{name}" for stage in Stage for name in _STAGE_COLUMNS),
)


def _csv_row(run: RunSummaryPublic) -> list[object]:
    data = run.model_dump(mode="json")
    row: list[object] = [data[name] for name in _RUN_COLUMNS]
    for stage in Stage:
        brief = data["stages"].get(stage.value) or {}
        row += [brief.get(name) for name in _STAGE_COLUMNS]
    return row


def csv_chunks(runs: Iterable[RunSummaryPublic], *, chunk_rows: int = 500) -> Iterator[str]:
    """The header, then the runs as CSV text in chunks of `chunk_rows` rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    pending = 0
    for run in runs:
        writer.writerow(_csv_row(run))
        pending += 1
        if pending >= chunk_rows:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue()


def json_chunks(runs: Iterable[RunSummaryPublic], *, chunk_rows: int = 500) -> Iterator[str]:
    """The runs as one JSON array, in chunks of `chunk_rows` elements."""
    parts: list[str] = []
    opened = False
    for run in runs:
        parts.append(run.model_dump_json())
        if len(parts) >= chunk_rows:
            yield ("," if opened else "[") + ",".join(parts)
            opened, parts = True, []
    if parts:
        yield ("," if opened else "[") + ",".join(parts)
        opened = True
    yield "]" if opened else "[]"
