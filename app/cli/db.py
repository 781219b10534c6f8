"""`rra db …`: ledger schema management."""

import typer

from app import migrate
from app.cli.common import EXIT_FAILED, ConfigOption, ledger_engine, settings_or_exit
from app.db import describe_url

db_cli = typer.Typer(help="Ledger database: migrations and status.", no_args_is_help=True)


@db_cli.command("upgrade")
def upgrade_command(config: ConfigOption = None) -> None:
    """Apply the ledger migrations (the service also does this at start-up)."""
    settings = settings_or_exit(config)
    engine = ledger_engine(settings)
    try:
        migrate.upgrade(engine)
        typer.echo(
            f"ledger {describe_url(str(settings.database.url))} "
            f"at revision {migrate.current_revision(engine)}"
        )
    except Exception as exc:
        typer.echo(f"cannot upgrade the ledger: {exc}", err=True)
        raise typer.Exit(EXIT_FAILED) from None
    finally:
        engine.dispose()


@db_cli.command("current")
def current_command(config: ConfigOption = None) -> None:
    """Print the ledger's revision and whether it is the newest."""
    settings = settings_or_exit(config)
    engine = ledger_engine(settings)
    try:
        current = migrate.current_revision(engine)
        head = migrate.head_revision(engine)
    finally:
        engine.dispose()
    typer.echo(f"current {current or '(empty)'}; newest {head}")
    if current != head:
        raise typer.Exit(EXIT_FAILED)


def register(cli: typer.Typer) -> None:
    """Add `rra db` to the command line."""
    cli.add_typer(db_cli, name="db")
