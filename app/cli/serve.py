"""`rra serve`: the long-running service under uvicorn."""

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import typer
import uvicorn

from app.cli.common import EXIT_FAILED, ConfigOption, settings_or_exit
from app.config import Settings
from app.db import LedgerLockedError, lock_sqlite_ledger
from app.logsetup import configure_logging

log = logging.getLogger(__name__)


class StopCleanlyServer(uvicorn.Server):
    """uvicorn, except that a SIGTERM/SIGINT stop ends the process with status 0.

    uvicorn re-raises the stop signal after its graceful shutdown, so a clean stop would look
    like a crash (-15) to service managers and scripts.
    """

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        stops = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in stops}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def run_service(settings: Settings, *, host: str, port: int) -> None:
    """Serve until SIGTERM/SIGINT, holding the SQLite ledger's single-instance lock; exit 1
    when another instance owns the ledger or the server could not start."""
    from app.main import create_app

    try:
        lock = lock_sqlite_ledger(str(settings.database.url))
    except LedgerLockedError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_FAILED) from None
    server = StopCleanlyServer(
        uvicorn.Config(
            create_app(settings),
            host=host,
            port=port,
            log_config=None,
            timeout_graceful_shutdown=int(settings.service.shutdown_grace_seconds),
        )
    )
    try:
        server.run()
    finally:
        if lock is not None:
            lock.close()
    if not server.started:
        raise typer.Exit(EXIT_FAILED)


def register(cli: typer.Typer) -> None:
    """Add `rra serve` to the command line."""

    @cli.command("serve")
    def serve(
        config: ConfigOption = None,
        host: str | None = typer.Option(None, help="Bind address (default: service.host)."),
        port: int | None = typer.Option(None, help="Port (default: service.port)."),
    ) -> None:
        """Run the archiver service: REST API, dashboard, scheduler. SIGTERM/SIGINT stop it."""
        settings = settings_or_exit(config)
        configure_logging(settings)
        run_service(
            settings,
            host=host or settings.service.host,
            port=port if port is not None else settings.service.port,
        )
