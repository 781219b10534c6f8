"""Seeding the ledger once from the legacy tool's state files and failure logs (legacy.md §4).

Corrupt inputs are reported with file and line and nothing is applied: the legacy tool's habit
of reading a damaged file as empty caused surprise backlogs.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session

from app.config import Settings
from app.models import LedgerMeta, Stage, StageStatus, State
from app.pipeline.ledger import add_event
from app.timeutil import utcnow

ACTOR = "import-legacy-state"


class LegacyStateError(ValueError):
    """A legacy file that cannot be read as the legacy tool wrote it; names file and line."""


@dataclass
class LegacyStageState:
    """What one stage's legacy files say."""

    watermark: dict[str, int] = field(default_factory=dict)
    failed: list[int] = field(default_factory=list)


@dataclass
class LegacyImportReport:
    """What was found, what was added, and which files were absent."""

    stages: dict[Stage, LegacyStageState] = field(default_factory=dict)
    added: dict[Stage, list[int]] = field(default_factory=dict)
    missing_files: list[Path] = field(default_factory=list)


def read_state_file(path: Path) -> dict[str, int]:
    """`last_contiguous_run` / `last_attempted_run` of a state file (missing keys are 0)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LegacyStateError(f"{path}: not a JSON state file ({exc})") from None
    if not isinstance(data, dict):
        raise LegacyStateError(f"{path}: expected a JSON object, found {type(data).__name__}")
    values: dict[str, int] = {}
    for key in ("last_contiguous_run", "last_attempted_run"):
        value = data.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise LegacyStateError(f"{path}: {key} must be a non-negative integer, got {value!r}")
        values[key] = value
    return values


def read_failure_log(path: Path) -> list[int]:
    """Distinct run numbers of a failure log, sorted; a non-digit line is an error."""
    runs: set[int] = set()
    for number, line in enumerate(
        path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1
    ):
        text = line.strip()
        if not text:
            continue
        if not (text.isascii() and text.isdigit()):
            raise LegacyStateError(f"{path}:{number}: {text[:40]!r} is not a run number")
        runs.add(int(text))
    return sorted(runs)


def read_legacy_state(settings: Settings) -> LegacyImportReport:
    """Read the four legacy files named in `app.*`; raise LegacyStateError on corruption."""
    report = LegacyImportReport()
    app = settings.app
    files = {
        Stage.IMPORT: (app.import_state_file, app.import_failure_log),
        Stage.MIGRATE: (app.migrate_state_file, app.migrate_failure_log),
    }
    for stage, (state_file, failure_log) in files.items():
        assert state_file is not None and failure_log is not None
        found = LegacyStageState()
        if state_file.is_file():
            found.watermark = read_state_file(state_file)
        else:
            report.missing_files.append(state_file)
        if failure_log.is_file():
            found.failed = read_failure_log(failure_log)
        else:
            report.missing_files.append(failure_log)
        report.stages[stage] = found
    return report


def apply_legacy_state(session: Session, report: LegacyImportReport, settings: Settings) -> None:
    """Add `retry` rows for logged failures (existing rows untouched) and keep the watermarks."""
    now = utcnow()
    for stage, found in report.stages.items():
        log_path = (
            settings.app.import_failure_log
            if stage == Stage.IMPORT
            else settings.app.migrate_failure_log
        )
        added = []
        for run in found.failed:
            if session.get(StageStatus, (run, stage)) is not None:
                continue
            session.add(
                StageStatus(
                    run_number=run,
                    stage=stage,
                    state=State.RETRY,
                    next_attempt_at=now,
                    last_error=f"listed in the legacy failure log {log_path}",
                )
            )
            add_event(
                session,
                run=run,
                stage=stage,
                actor=ACTOR,
                to_state=State.RETRY,
                message=f"seeded from the legacy failure log {log_path}",
            )
            added.append(run)
        report.added[stage] = added
        if found.watermark:
            key = f"legacy_watermark.{stage.value}"
            meta = session.get(LedgerMeta, key) or LedgerMeta(key=key)
            if meta.value != found.watermark:
                meta.value = found.watermark
                meta.updated_at = now
                session.add(meta)
    changed = {stage: runs for stage, runs in report.added.items() if runs}
    if changed or not session.get(LedgerMeta, "legacy_state_imported"):
        session.merge(LedgerMeta(key="legacy_state_imported", value={"at": now.isoformat()}))
        add_event(session, run=None, stage=None, actor=ACTOR, message=describe(report))


def describe(report: LegacyImportReport) -> str:
    """One line: per stage the watermark values and how many failed runs were seeded."""
    parts = []
    for stage, found in report.stages.items():
        parts.append(
            f"{stage.value}: watermark {found.watermark or 'none'}, "
            f"{len(found.failed)} logged failure(s), "
            f"{len(report.added.get(stage, []))} new retry row(s)"
        )
    if report.missing_files:
        parts.append("absent: " + ", ".join(map(str, report.missing_files)))
    return "; ".join(parts)
