"""`rra ucondb-server`: the local UconDB stand-in (a test double), with optional fault injection."""

from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from app.ucondb_server import DEFAULT_PREFIX, create_app, make_state
from app.ucondb_server.state import DEFAULT_MAX_BODY_BYTES, startup_faults


def register(cli: typer.Typer) -> None:
    """Add this module's commands to `rra`."""

    @cli.command("ucondb-server")
    def ucondb_server(
        port: Annotated[int, typer.Option(help="TCP port to listen on.")],
        host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
        prefix: Annotated[str, typer.Option(help="Application path (the base URL's path).")] = (
            DEFAULT_PREFIX
        ),
        data: Annotated[
            Path | None, typer.Option(help="SQLite file for the versions (default: in memory).")
        ] = None,
        namespace: Annotated[str, typer.Option(help="Namespace of bare folder names.")] = (
            "ucon_test"
        ),
        folder: Annotated[
            list[str] | None, typer.Option(help="Folder to provide (repeatable; run_records).")
        ] = None,
        user: Annotated[str | None, typer.Option(help="Digest user allowed to upload.")] = None,
        password: Annotated[
            str | None, typer.Option(envvar="RRA_UCONDB_SERVER_PASSWORD", help="Its password.")
        ] = None,
        read_only: Annotated[bool, typer.Option(help="Answer uploads with 405.")] = False,
        max_body_bytes: Annotated[int, typer.Option(help="Upload size limit.")] = (
            DEFAULT_MAX_BODY_BYTES
        ),
        delay: Annotated[float, typer.Option(help="Fault: seconds before every answer.")] = 0.0,
        error_rate: Annotated[
            float, typer.Option(min=0.0, max=1.0, help="Fault: share failed.")
        ] = 0.0,
        error_status: Annotated[int, typer.Option(help="Fault: status of failures.")] = 500,
        drop_rate: Annotated[
            float,
            typer.Option(min=0.0, max=1.0, help="Fault: share of uploads stored, then dropped."),
        ] = 0.0,
        truncate_rate: Annotated[
            float, typer.Option(min=0.0, max=1.0, help="Fault: share of downloads cut to half.")
        ] = 0.0,
        stall_rate: Annotated[
            float, typer.Option(min=0.0, max=1.0, help="Fault: share that hang.")
        ] = 0.0,
        seed: Annotated[int | None, typer.Option(help="Seed of fault dice and shuffles.")] = None,
        control: Annotated[bool, typer.Option(help="Serve the test-only /_control API.")] = False,
    ) -> None:
        """Serve a UconDB-compatible stand-in for tests and demos (not the real server)."""
        if (user is None) != (password is None):
            typer.echo("error: --user and --password go together", err=True)
            raise typer.Exit(1)
        folders = folder or ["run_records"]
        faults = startup_faults(
            delay_seconds=delay,
            error_rate=error_rate,
            error_status=error_status,
            drop_rate=drop_rate,
            truncate_rate=truncate_rate,
            stall_rate=stall_rate,
        )
        state = make_state(
            data_path=data or ":memory:",
            namespace=namespace,
            folders=folders,
            users={user: password} if user and password else None,
            read_only=read_only,
            max_body_bytes=max_body_bytes,
            faults=faults,
            seed=seed,
        )
        typer.echo(
            f"UconDB stand-in at http://{host}:{port}{prefix} (folders: {', '.join(folders)})"
        )
        uvicorn.run(create_app(state, prefix=prefix, control=control), host=host, port=port)
