"""`rra legacy [config.yaml] [flags]`: the legacy command line, so cron lines switch over as is.

Same flags (including `/?`), same exit codes, the legacy log format and marker lines on stdout;
the work itself is done by the project's pipeline, report and reconcile functions.
"""

import argparse
import fcntl
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TextIO

import typer

from app.cli.common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_UNEXPECTED
from app.cli.pipeline import stop_on_signals
from app.config import ConfigError, Settings, load_settings
from app.db import LedgerLockedError, lock_sqlite_ledger, make_engine, session_scope
from app.logsetup import configure_logging
from app.migrate import upgrade
from app.models import Stage, State
from app.pipeline.claims import Claim
from app.pipeline.context import PipelineContext, worker_id
from app.pipeline.driver import RunResult
from app.pipeline.reconcile import reconcile, refresh_listings
from app.pipeline.runner import WorkRequest, run_work, scan
from app.reports.legacy_text import render_legacy_text
from app.reports.status import build_status_report
from app.runrecords.listing import RunRecordsDirError

log = logging.getLogger("app.legacy")
RULE, STAGE_RULE = "=" * 70, "=" * 60
_HELP_ALIASES = {"/?", "/h", "/help"}
_WARNING_PREFIXES = ("  Failed Runs:", "  Missing in ")

STAGE_TEXT = {
    Stage.IMPORT: (
        "Import",
        "imported",
        "STAGE: Import - Importing runs from filesystem to ArtdaqDB",
        "STAGE: Import Recovery - Retrying failed imports",
    ),
    Stage.MIGRATE: (
        "Migration",
        "migrated",
        "STAGE: Migration - Migrating runs from ArtdaqDB to UconDB",
        "STAGE: Migration Recovery - Retrying failed migrations",
    ),
}


class LegacyLockHeldError(RuntimeError):
    """Another archiver (legacy or `rra legacy`) holds `app.lock_file`."""


def build_parser() -> argparse.ArgumentParser:
    """The legacy flags: at most one mode, plus the modifiers."""
    parser = argparse.ArgumentParser(
        prog="rra legacy",
        description="Run Record Archiver, legacy command line (same flags and exit codes).",
    )
    parser.add_argument("config_file", nargs="?", default="config.yaml")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument(
        "--incremental",
        action="store_true",
        help="only runs above the stage's contiguous watermark; cap batch_size",
    )
    parser.add_argument(
        "--validate",
        action="store_true",
        help="check metadata.fcl of each packed blob (a failure fails the run)",
    )
    parser.add_argument(
        "--compare-state",
        action="store_true",
        help="implies --report-status; adds the state comparison",
    )
    modes = parser.add_mutually_exclusive_group()
    for flag in (
        "--import-only",
        "--migrate-only",
        "--retry-failed-import",
        "--retry-failed-migrate",
        "--report-status",
        "--recover-import-state",
        "--recover-migrate-state",
    ):
        modes.add_argument(flag, action="store_true")
    return parser


@contextmanager
def legacy_lock(path: Path) -> Iterator[None]:
    """The legacy single-instance lock, taken without truncating the file (legacy defect 1)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LegacyLockHeldError(
                f"another archiver instance holds the lock file {path}"
            ) from None
        yield


def _banner(config: Path) -> None:
    for line in (RULE, "Run Record Archiver Starting", f"Config: {config}", RULE):
        log.info(line)


def _report(ctx: PipelineContext, settings: Settings, *, compare_state: bool) -> int:
    with suppress(RunRecordsDirError):  # recorded as a failed source; the report shows it
        scan(ctx)
    refresh_listings(ctx)
    with session_scope(ctx.engine) as session:
        report = build_status_report(session, settings)
    for line in render_legacy_text(report, compare_state=compare_state).splitlines():
        if line.startswith("✗"):
            log.error(line)
        elif line.startswith(_WARNING_PREFIXES):
            log.warning(line)
        else:
            log.info(line)
    return EXIT_OK if report.ok else EXIT_FAILED


def _log_result(stage: Stage, claim: Claim, result: RunResult | None) -> None:
    if result is None:
        return
    name, done_word, _, _ = STAGE_TEXT[stage]
    if result.state == State.DONE:
        log.info("✓ Run %s %s successfully", claim.run, done_word)
    else:
        log.error("✗ Run %s %s failed: %s", claim.run, name.lower(), result.message)


def _stages(ctx: PipelineContext, args: argparse.Namespace, settings: Settings) -> int:
    retry = args.retry_failed_import or args.retry_failed_migrate
    if args.import_only or args.retry_failed_import:
        stages: tuple[Stage, ...] = (Stage.IMPORT,)
    elif args.migrate_only or args.retry_failed_migrate:
        stages = (Stage.MIGRATE,)
    else:
        stages = (Stage.IMPORT, Stage.MIGRATE)
    mode = {(Stage.IMPORT,): "Import Only", (Stage.MIGRATE,): "Migration Only"}.get(
        stages, "Full Pipeline"
    )
    if retry:
        log.info(
            "=== Execution Mode: %s ===",
            "Retry Failed Imports" if args.retry_failed_import else "Retry Failed Migrations",
        )
    else:
        log.info(
            "=== Execution Mode: %s (%s) ===", mode, "Incremental" if args.incremental else "Full"
        )
    cap = None if retry else settings.app.batch_size * (1 if args.incremental else 10)
    failed_any = False
    for stage in stages:
        if ctx.stop.is_set():
            break
        name, _, heading, retry_heading = STAGE_TEXT[stage]
        for line in (STAGE_RULE, retry_heading if retry else heading, STAGE_RULE):
            log.info(line)
        request = WorkRequest(
            stages=(stage,),
            incremental=args.incremental and not retry,
            limit_per_stage=cap,
            retry_failed=retry,
            validate=args.validate,
            scan=stage == Stage.IMPORT and not retry,
        )
        report = run_work(
            ctx, request, progress=lambda _e, claim, result: _log_result(claim.stage, claim, result)
        )
        if report.failed_runs:
            failed_any = True
            log.error("✗ %s Stage completed with failures (exit code: 1)", name)
        else:
            log.info("✓ %s Stage completed successfully (exit code: 0)", name)
    if ctx.stop.is_set():
        log.info("✓ GRACEFUL SHUTDOWN COMPLETED")
        log.info("Reason: interrupted by a signal")
        return EXIT_INTERRUPTED
    if failed_any:
        log.error("✗ EXECUTION COMPLETED WITH FAILURES (exit code: 1)")
        return EXIT_FAILED
    log.info("✓ EXECUTION COMPLETED SUCCESSFULLY")
    return EXIT_OK


def run_legacy(argv: list[str], *, stream: TextIO | None = None) -> int:
    """Parse the legacy flags and do what they ask; returns the legacy exit code."""
    args = build_parser().parse_args(["--help" if a in _HELP_ALIASES else a for a in argv])
    config = Path(args.config_file)
    try:
        settings = load_settings(config)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    configure_logging(settings, stream=stream or sys.stdout, verbose=args.verbose)
    _banner(config)
    report_only = args.report_status or args.compare_state
    recover = args.recover_import_state or args.recover_migrate_state
    engine = make_engine(
        str(settings.database.url), busy_timeout_ms=settings.database.busy_timeout_ms
    )
    ctx = PipelineContext(settings=settings, engine=engine, owner=worker_id())
    try:
        assert settings.app.lock_file is not None
        with legacy_lock(settings.app.lock_file):
            if report_only:
                upgrade(engine)
                code = _report(ctx, settings, compare_state=args.compare_state)
            else:
                owner = lock_sqlite_ledger(str(settings.database.url))
                try:
                    upgrade(engine)
                    with stop_on_signals(ctx.stop):
                        code = _recover(ctx) if recover else _stages(ctx, args, settings)
                finally:
                    if owner is not None:
                        owner.close()
        log.info("Archiver execution complete.")
        return code
    except (LegacyLockHeldError, LedgerLockedError) as exc:
        log.error("ERROR SUMMARY")
        log.error("Error Type: %s", type(exc).__name__)
        log.error("Error Message: %s", exc)
        log.error("Archiver terminated due to error.")
        return EXIT_FAILED
    except Exception as exc:
        log.exception("UNEXPECTED ERROR SUMMARY")
        log.error("Error Type: %s", type(exc).__name__)
        log.error("Error Message: %s", exc)
        log.error("Archiver terminated due to error.")
        return EXIT_UNEXPECTED
    finally:
        ctx.close()
        engine.dispose()


def _recover(ctx: PipelineContext) -> int:
    log.info("=== Execution Mode: Recover State (reconcile with artdaq_database and UconDB) ===")
    result = reconcile(ctx)
    for stage, drift in result.drift.items():
        log.info(
            "%s: %d vanished, %d queued to verify, %d held without a source record",
            STAGE_TEXT[stage][0],
            len(drift.vanished),
            len(drift.requeued),
            len(drift.untracked),
        )
    for name, error in result.errors.items():
        log.error("✗ %s query failed: %s", name, error)
    return EXIT_FAILED if result.errors else EXIT_OK


def register(cli: typer.Typer) -> None:
    """Add `rra legacy`."""

    @cli.command(
        "legacy",
        context_settings={
            "allow_extra_args": True,
            "ignore_unknown_options": True,
            "help_option_names": [],
        },
        add_help_option=False,
    )
    def legacy(ctx: typer.Context) -> None:
        """The legacy command line: `rra legacy config.yaml --incremental` etc. (`--help`)."""
        raise typer.Exit(run_legacy(list(ctx.args)))
