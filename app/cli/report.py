"""`rra report`: the status report from the ledger (legacy `--report-status`)."""

from typing import Annotated

import typer

from app.cli.common import EXIT_FAILED, ConfigOption, ledger_session, settings_or_exit
from app.reports.legacy_text import render_legacy_text
from app.reports.status import build_status_report


def register(cli: typer.Typer) -> None:
    """Add `rra report`."""

    @cli.command("report")
    def report_command(
        compare_state: Annotated[
            bool, typer.Option("--compare-state", help="Add the state comparison section.")
        ] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
        config: ConfigOption = None,
    ) -> None:
        """Print ranges, gaps and recommendations; exit 1 when a source could not be listed."""
        settings = settings_or_exit(config)
        with ledger_session(settings) as session:
            report = build_status_report(session, settings)
        if as_json:
            typer.echo(report.model_dump_json(indent=2))
        else:
            typer.echo(render_legacy_text(report, compare_state=compare_state), nl=False)
        if not report.ok:
            raise typer.Exit(EXIT_FAILED)
