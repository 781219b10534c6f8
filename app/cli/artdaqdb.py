"""`rra artdaqdb …`: operator actions on the artdaq_database archive database."""

from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import EXIT_FAILED, EXIT_OK, ConfigOption, settings_or_exit
from app.redact import redact_url
from app.stores.artdaqdb.errors import ArtdaqStoreError
from app.stores.artdaqdb.rebuild import rebuild_indexes
from app.stores.artdaqdb.uri import UriError, filesystem_root

artdaqdb_cli = typer.Typer(
    help="artdaq_database archive database: maintenance.", no_args_is_help=True
)

UriOption = Annotated[
    str | None,
    typer.Option(
        "--uri",
        help="filesystemdb:///path/to/db_archive (default: artdaq_db.database_uri of --config).",
        show_default=False,
    ),
]


@artdaqdb_cli.command("rebuild-index")
def rebuild_index_command(uri: UriOption = None, config: ConfigOption = None) -> None:
    """Rebuild every collection's index.json from its documents.

    Stop every writer (the service, DAQInterface, bulkloader) first: the C++ tools take no locks.
    """
    database_uri = uri or settings_or_exit(config).artdaq_db.database_uri
    try:
        report = rebuild_indexes(Path(filesystem_root(database_uri)))
    except (UriError, ArtdaqStoreError, OSError) as exc:
        typer.echo(f"cannot rebuild {redact_url(database_uri)}: {exc}", err=True)
        raise typer.Exit(EXIT_FAILED) from None
    for collection, count in sorted(report.indexed.items()):
        typer.echo(f"{collection}: {count} documents indexed")
    for line in report.warnings:
        typer.echo(f"warning: {line}", err=True)
    for line in report.skipped:
        typer.echo(f"skipped: {line}", err=True)
    raise typer.Exit(EXIT_FAILED if report.skipped else EXIT_OK)


def register(cli: typer.Typer) -> None:
    """Add `rra artdaqdb` to the command line."""
    cli.add_typer(artdaqdb_cli, name="artdaqdb")
