"""The `rra` command: one Typer application; each concern registers its own commands."""

import typer

from app import __version__
from app.cli import (
    artdaqdb,
    db,
    demo,
    fhicl,
    legacy,
    pipeline,
    records,
    report,
    serve,
    tokens,
    ucondb,
)

cli = typer.Typer(
    name="rra",
    help="Run Record Archiver: archive artdaq run records to artdaq_database and UconDB.",
    no_args_is_help=True,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"rra {__version__}")
        raise typer.Exit(0)


@cli.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Run Record Archiver."""


for _module in (
    serve,
    demo,
    db,
    records,
    pipeline,
    fhicl,
    artdaqdb,
    ucondb,
    tokens,
    report,
    legacy,
):
    _module.register(cli)
