"""`rra demo`: sample records, the UconDB stand-in and the service, archiving on their own."""

import secrets
from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import EXIT_FAILED, settings_or_exit
from app.cli.serve import run_service
from app.demo import DEMO_FOLDER, DEMO_USER, prepare_demo, running_runs
from app.logsetup import configure_logging
from app.runrecords.sample import stop_run
from app.ucondb_server.runner import serve_in_background
from app.ucondb_server.state import make_state


def register(cli: typer.Typer) -> None:
    """Add `rra demo` and `rra stop-sample-run`."""

    @cli.command("demo")
    def demo(
        directory: Annotated[Path, typer.Option("--dir", help="Where the demo lives.")] = Path(
            "rra-demo"
        ),
        runs: Annotated[int, typer.Option(min=1, help="Sample runs to generate.")] = 20,
        port: Annotated[int, typer.Option(help="Dashboard and API port.")] = 8080,
        ucondb_port: Annotated[int, typer.Option(help="UconDB stand-in port.")] = 8081,
    ) -> None:
        """Generate sample records, start the UconDB stand-in and the service; archive them all."""
        password = secrets.token_urlsafe(12)
        config = prepare_demo(
            directory, runs=runs, password=password, ucondb_port=ucondb_port, port=port
        )
        settings = settings_or_exit(config)
        configure_logging(settings)
        state = make_state(
            data_path=directory.resolve() / "ucondb.sqlite3",
            folders=[DEMO_FOLDER],
            users={DEMO_USER: password},
        )
        records = settings.source_files.run_records_dir
        with serve_in_background(state, port=ucondb_port) as ucondb:
            typer.echo(f"UconDB stand-in: {ucondb.base_url}")
            typer.echo(f"Dashboard:       http://127.0.0.1:{port}/   (API docs at /docs)")
            typer.echo(f"Configuration:   {config}")
            for run in running_runs(records):
                typer.echo(
                    f"Run {run} is still running; end it with:  rra stop-sample-run {records} {run}"
                )
            run_service(settings, host="127.0.0.1", port=port)

    @cli.command("stop-sample-run")
    def stop_sample_run(
        records: Annotated[Path, typer.Argument(help="The sample run-records directory.")],
        run: Annotated[int, typer.Argument(help="The running run to end.")],
    ) -> None:
        """Append DAQInterface's stop line to a running sample run, as a STOP transition does."""
        try:
            line = stop_run(records, run)
        except (ValueError, OSError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(EXIT_FAILED) from None
        typer.echo(f"run {run}: appended {line.strip()!r}")
