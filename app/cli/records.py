"""`rra scan` and `rra sample-records`: the run-records directory from the command line."""

from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import EXIT_FAILED, ConfigOption, exclusive_ledger, settings_or_exit
from app.db import LedgerLockedError
from app.pipeline.context import PipelineContext, worker_id
from app.pipeline.runner import scan
from app.runrecords.listing import RunRecordsDirError
from app.runrecords.sample import write_sample_records
from app.runrecords.sample_defects import sample_defects
from app.runrecords.scan import ScanResult


def register(cli: typer.Typer) -> None:
    """Add `rra scan` and `rra sample-records`."""

    @cli.command("scan")
    def scan_command(config: ConfigOption = None) -> None:
        """Scan the run-records directory into the ledger and decide which runs are ready."""
        settings = settings_or_exit(config)
        root = settings.source_files.run_records_dir
        try:
            with exclusive_ledger(settings) as engine:
                result = scan(PipelineContext(settings=settings, engine=engine, owner=worker_id()))
        except (RunRecordsDirError, LedgerLockedError) as exc:
            typer.echo(f"scan failed: {exc}", err=True)
            raise typer.Exit(EXIT_FAILED) from None
        typer.echo(_describe(root, result))

    @cli.command("sample-records")
    def sample_records_command(
        dest: Annotated[Path, typer.Argument(help="Directory to create the run records in.")],
        runs: Annotated[int, typer.Option("--runs", min=0, help="Number of runs.")],
        first_run: Annotated[int, typer.Option("--first-run", min=1)] = 1000,
        large: Annotated[
            bool, typer.Option("--large", help="110 processes, about 12 MB per run.")
        ] = False,
        defects: Annotated[
            bool, typer.Option("--defects", help="Add damaged and unusual entries.")
        ] = False,
        running: Annotated[
            int, typer.Option("--running", min=0, help="How many of the newest runs still run.")
        ] = 1,
        seed: Annotated[int, typer.Option("--seed")] = 0,
    ) -> None:
        """Write sample run records in DAQInterface's formats (for demos and tests)."""
        try:
            numbers = write_sample_records(
                dest,
                runs=runs,
                first_run=first_run,
                large=large,
                defects=defects,
                running=running,
                seed=seed,
            )
        except (ValueError, OSError) as exc:
            typer.echo(f"cannot write sample records: {exc}", err=True)
            raise typer.Exit(EXIT_FAILED) from None
        typer.echo(
            f"wrote {len(numbers)} run directories to {dest}: {_ranges(numbers) or 'none'} "
            f"({running} still running)"
        )
        if defects:
            for defect in sample_defects(first_run, runs):
                typer.echo(f"  {defect.name:<12} {defect.defect:<22} expect {defect.expected}")


def _describe(root: Path, result: ScanResult) -> str:
    counts = result.counts()
    lines = [f"scanned {root}: " + ", ".join(f"{value} {name}" for name, value in counts.items())]
    if result.new:
        lines.append(f"new: {_ranges(result.new)}")
    if result.ready:
        lines.append(f"newly ready: {_ranges(result.ready)}")
    if result.waiting:
        lines.append(f"waiting: {_ranges(result.waiting)}")
    lines += [f"flagged {run}: {reason}" for run, reason in result.flagged]
    if result.vanished:
        lines.append(f"vanished: {_ranges(result.vanished)}")
    lines += [f"anomaly {a.name}: {a.reason.value} ({a.detail})" for a in result.anomalies]
    return "\n".join(lines)


def _ranges(numbers: list[int]) -> str:
    """`1000-1005,1010` for a sorted list: short output however many runs there are."""
    spans: list[list[int]] = []
    for number in sorted(numbers):
        if spans and number == spans[-1][1] + 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)
