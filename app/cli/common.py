"""What every `rra` command shares: the --config option, settings, ledger access, exit codes."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.config import ConfigError, Settings, load_settings
from app.db import lock_sqlite_ledger, make_engine, session_scope

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_UNEXPECTED = 2
EXIT_INTERRUPTED = 130

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        envvar="RRA_CONFIG",
        help="Configuration file (legacy config.yaml format). Default: ./config.yaml.",
        show_default=False,
    ),
]


def settings_or_exit(path: Path | None) -> Settings:
    """Load the settings; a bad configuration prints one clear message and exits 1."""
    try:
        return load_settings(path)
    except ConfigError as exc:
        typer.echo(f"configuration error: {exc}", err=True)
        raise typer.Exit(EXIT_FAILED) from None


def ledger_engine(settings: Settings) -> Engine:
    """The ledger engine for these settings."""
    assert settings.database.url is not None
    return make_engine(settings.database.url, busy_timeout_ms=settings.database.busy_timeout_ms)


@contextmanager
def exclusive_ledger(settings: Settings) -> Iterator[Engine]:
    """An up-to-date ledger engine for a batch command, refused (LedgerLockedError) while a
    service owns the same SQLite ledger."""
    from app.migrate import upgrade

    lock = lock_sqlite_ledger(str(settings.database.url))
    engine = ledger_engine(settings)
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        if lock is not None:
            lock.close()


@contextmanager
def ledger_session(settings: Settings) -> Iterator[Session]:
    """A committed-on-success session on an up-to-date ledger, for one CLI command."""
    from app.migrate import upgrade

    engine = ledger_engine(settings)
    try:
        upgrade(engine)
        with session_scope(engine) as session:
            yield session
    finally:
        engine.dispose()


def configure_cli_logging(verbose: bool = False) -> None:
    """Plain log lines on stderr for batch commands."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s - %(name)s - %(levelname)s - %(message)s",
    )
    quiet_libraries()


def quiet_libraries() -> None:
    """Per-request lines of httpx and migration chatter are noise at INFO."""
    for name in ("httpx", "httpcore", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
