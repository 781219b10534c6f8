"""`rra import|migrate|run|retry`: the pipeline as batch commands with the legacy exit codes."""

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from app import migrate
from app.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_UNEXPECTED,
    ConfigOption,
    configure_cli_logging,
    exclusive_ledger,
    ledger_engine,
    settings_or_exit,
)
from app.config import Settings
from app.db import LedgerLockedError, session_scope
from app.models import Stage, State
from app.pipeline.claims import Claim
from app.pipeline.context import PipelineContext, worker_id
from app.pipeline.driver import RunResult
from app.pipeline.legacy_state import (
    LegacyStateError,
    apply_legacy_state,
    describe,
    read_legacy_state,
)
from app.pipeline.reconcile import reconcile
from app.pipeline.runner import (
    STAGE_CHOICES,
    WorkReport,
    WorkRequest,
    estimate_total,
    run_work,
)
from app.runranges import RangeSyntaxError, RunSelection, parse_runs
from app.staging import StagingError

log = logging.getLogger(__name__)
console = Console(stderr=True)

RunsOption = Annotated[
    str | None,
    typer.Option("--runs", help="Runs to work on: '100-200,205,300+' or 'last 50'."),
]
IncrementalOption = Annotated[
    bool, typer.Option("--incremental", help="Only runs above the stage's contiguous watermark.")
]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="List what would be done.")]
LimitOption = Annotated[
    int | None, typer.Option("--limit", min=1, help="At most this many runs per stage.")
]
VerboseOption = Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")]
ValidateOption = Annotated[
    bool, typer.Option("--validate", help="Check metadata.fcl of each blob; failures fail the run.")
]


def parse_selection(runs: str | None) -> RunSelection | None:
    """The --runs option, or exit 1 with the syntax error."""
    if runs is None:
        return None
    try:
        return parse_runs(runs)
    except RangeSyntaxError as exc:
        typer.echo(f"error: --runs: {exc}", err=True)
        raise typer.Exit(EXIT_FAILED) from None


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGINT/SIGTERM: stop claiming, let in-flight runs finish, release the rest."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        log.warning(
            "%s received: finishing in-flight runs, claiming no more", signal.Signals(signum).name
        )
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _print_result(stage_name: str, claim: Claim, result: RunResult | None) -> None:
    if result is None:
        return
    if result.state == State.DONE:
        console.print(f"[green]✓[/] run {claim.run} {stage_name}: {result.message}")
    elif result.state is None:
        console.print(f"[yellow]?[/] run {claim.run} {stage_name}: lease lost; outcome discarded")
    else:
        kind = result.kind.value if result.kind else "error"
        console.print(
            f"[red]✗[/] run {claim.run} {stage_name} → {result.state.value} "
            f"[{kind}]: {result.message}"
        )


def exit_code(report: WorkReport) -> int:
    """Legacy exit codes: 130 interrupted, 1 some run failed, 0 all good."""
    if report.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_FAILED if report.failed_runs else EXIT_OK


def execute(settings: Settings, request: WorkRequest) -> int:
    """Run one request in this process with progress output; returns the exit code."""
    try:
        with exclusive_ledger(settings) as engine:
            ctx = PipelineContext(settings=settings, engine=engine, owner=worker_id())
            try:
                report = _run_with_progress(ctx, request)
            finally:
                ctx.close()
    except LedgerLockedError as exc:
        typer.echo(f"error: {exc}; use the service's API or jobs instead", err=True)
        return EXIT_FAILED
    except StagingError as exc:
        typer.echo(f"error: {exc.strerror}", err=True)
        return EXIT_FAILED
    except Exception:
        log.exception("unexpected error")
        return EXIT_UNEXPECTED
    print_summary(report)
    return exit_code(report)


def _run_with_progress(ctx: PipelineContext, request: WorkRequest) -> WorkReport:
    with (
        stop_on_signals(ctx.stop),
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar,
    ):
        task = bar.add_task("runs", total=estimate_total(ctx, request) or None)

        def progress(event: str, claim: Claim, result: RunResult | None) -> None:
            if event == "started":
                bar.update(task, description=f"{claim.stage.value} run {claim.run}")
            else:
                bar.advance(task)
                _print_result(claim.stage.value, claim, result)

        return run_work(ctx, request, progress=progress)


def print_summary(report: WorkReport) -> None:
    """One line per stage (and the dry-run candidates)."""
    if report.scan is not None:
        scan = report.scan
        typer.echo(
            f"scan: {len(scan.new)} new, {len(scan.ready)} ready, "
            f"{len(scan.waiting)} waiting, {len(scan.flagged)} flagged, "
            f"{len(scan.anomalies)} odd entries"
        )
    for stage, runs in report.candidates.items():
        shown = ", ".join(map(str, runs[:20])) + (" …" if len(runs) > 20 else "")
        typer.echo(f"{stage.value}: would process {len(runs)} run(s){': ' + shown if runs else ''}")
    for stage, result in report.stages.items():
        typer.echo(
            f"{stage.value}: {len(result.succeeded)} done, {len(set(result.failed))} failed"
            + (f", {len(result.released)} released" if result.released else "")
            + (" (interrupted)" if result.interrupted else "")
        )


def _command(
    stages: tuple[Stage, ...],
    config: Path | None,
    runs: str | None,
    incremental: bool,
    dry_run: bool,
    limit: int | None,
    verbose: bool,
    validate: bool = False,
    retry_failed: bool = False,
) -> None:
    settings = settings_or_exit(config)
    configure_cli_logging(verbose)
    request = WorkRequest(
        stages=stages,
        incremental=incremental,
        runs=parse_selection(runs),
        limit_per_stage=limit,
        dry_run=dry_run,
        retry_failed=retry_failed,
        validate=validate,
    )
    raise typer.Exit(execute(settings, request))


def register(cli: typer.Typer) -> None:
    """Add the pipeline commands to `rra`."""
    register_maintenance(cli)

    @cli.command("import")
    def import_command(
        config: ConfigOption = None,
        runs: RunsOption = None,
        incremental: IncrementalOption = False,
        dry_run: DryRunOption = False,
        limit: LimitOption = None,
        verbose: VerboseOption = False,
    ) -> None:
        """Scan, then import ready runs into artdaq_database."""
        _command((Stage.IMPORT,), config, runs, incremental, dry_run, limit, verbose)

    @cli.command("migrate")
    def migrate_command(
        config: ConfigOption = None,
        runs: RunsOption = None,
        incremental: IncrementalOption = False,
        dry_run: DryRunOption = False,
        limit: LimitOption = None,
        validate: ValidateOption = False,
        verbose: VerboseOption = False,
    ) -> None:
        """Migrate imported runs to UconDB and verify the stored bytes."""
        _command((Stage.MIGRATE,), config, runs, incremental, dry_run, limit, verbose, validate)

    @cli.command("run")
    def run_command(
        config: ConfigOption = None,
        runs: RunsOption = None,
        incremental: IncrementalOption = False,
        dry_run: DryRunOption = False,
        limit: LimitOption = None,
        validate: ValidateOption = False,
        verbose: VerboseOption = False,
    ) -> None:
        """Scan, import and migrate (both stages)."""
        _command(
            (Stage.IMPORT, Stage.MIGRATE),
            config,
            runs,
            incremental,
            dry_run,
            limit,
            verbose,
            validate,
        )

    @cli.command("retry")
    def retry_command(
        config: ConfigOption = None,
        stage: Annotated[str, typer.Option(help="import, migrate or both.")] = "both",
        runs: RunsOption = None,
        dry_run: DryRunOption = False,
        verbose: VerboseOption = False,
    ) -> None:
        """Give failed runs a fresh attempt budget and process them now."""
        chosen = STAGE_CHOICES.get(stage)
        if chosen is None:
            typer.echo("error: --stage must be import, migrate or both", err=True)
            raise typer.Exit(EXIT_FAILED)
        _command(chosen, config, runs, False, dry_run, None, verbose, retry_failed=True)


def register_maintenance(cli: typer.Typer) -> None:
    """`rra reconcile` and `rra import-legacy-state`."""

    @cli.command("reconcile")
    def reconcile_command(config: ConfigOption = None, verbose: VerboseOption = False) -> None:
        """Compare the ledger with artdaq_database and UconDB and repair it."""
        settings = settings_or_exit(config)
        configure_cli_logging(verbose)
        engine = ledger_engine(settings)
        ctx = PipelineContext(settings=settings, engine=engine, owner=worker_id())
        try:
            migrate.upgrade(engine)
            report = reconcile(ctx)
        finally:
            ctx.close()
            engine.dispose()
        for name, count in report.counts.items():
            typer.echo(f"{name}: {count} run(s) listed")
        for stage, drift in report.drift.items():
            typer.echo(
                f"{stage.value}: {len(drift.vanished)} vanished (queued again), "
                f"{len(drift.requeued)} queued to verify, "
                f"{len(drift.untracked)} held without a source record"
            )
        for anomaly in report.anomalies[:20]:
            typer.echo(f"anomaly: {anomaly}")
        for name, error in report.errors.items():
            typer.echo(f"error: cannot list {name}: {error}", err=True)
        raise typer.Exit(EXIT_FAILED if report.errors else EXIT_OK)

    @cli.command("import-legacy-state")
    def import_legacy_state_command(
        config: Annotated[Path | None, typer.Argument(help="The legacy config.yaml.")] = None,
    ) -> None:
        """Seed the ledger once from the legacy state files and failure logs."""
        settings = settings_or_exit(config)
        try:
            found = read_legacy_state(settings)
        except LegacyStateError as exc:
            typer.echo(f"error: {exc}; nothing was imported", err=True)
            raise typer.Exit(EXIT_FAILED) from None
        engine = ledger_engine(settings)
        try:
            migrate.upgrade(engine)
            with session_scope(engine) as session:
                apply_legacy_state(session, found, settings)
        finally:
            engine.dispose()
        typer.echo(describe(found))
