"""`rra token create|list|revoke`: API bearer tokens for scripts and operators."""

from typing import Annotated

import typer

from app.auth.tokens import TokenError, create_token, list_tokens, revoke_token
from app.cli.common import EXIT_FAILED, ConfigOption, ledger_session, settings_or_exit
from app.models import TokenScope

token_cli = typer.Typer(help="API tokens: create, list, revoke.", no_args_is_help=True)


def _when(moment: object) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}Z" if moment else "-"


@token_cli.command("create")
def create_command(
    name: Annotated[str, typer.Option("--name", help="Who or what uses the token.")],
    scope: Annotated[TokenScope, typer.Option("--scope", help="read, operate or admin.")],
    config: ConfigOption = None,
) -> None:
    """Create a token and print its secret (shown only this once)."""
    settings = settings_or_exit(config)
    try:
        with ledger_session(settings) as session:
            issued = create_token(session, name, scope)
    except TokenError as exc:
        typer.echo(f"cannot create token: {exc}", err=True)
        raise typer.Exit(EXIT_FAILED) from None
    typer.echo(f"token {name!r} (scope {scope.value}) created; store this secret now:", err=True)
    typer.echo(issued.secret)


@token_cli.command("list")
def list_command(config: ConfigOption = None) -> None:
    """List tokens: name, scope, created, last used, revoked (never the secrets)."""
    settings = settings_or_exit(config)
    with ledger_session(settings) as session:
        tokens = list_tokens(session)
    if not tokens:
        typer.echo("no tokens (create one with `rra token create --name N --scope read`)")
        return
    width = max(len("NAME"), *(len(token.name) for token in tokens))
    typer.echo(f"{'NAME':<{width}}  SCOPE    CREATED               LAST USED             REVOKED")
    for token in tokens:
        typer.echo(
            f"{token.name:<{width}}  {token.scope.value:<7}  {_when(token.created_at):<20}  "
            f"{_when(token.last_used_at):<20}  {_when(token.revoked_at)}"
        )


@token_cli.command("revoke")
def revoke_command(
    name: Annotated[str, typer.Argument(help="Name of the token to revoke.")],
    config: ConfigOption = None,
) -> None:
    """Revoke a token; requests using it get 401 from now on."""
    settings = settings_or_exit(config)
    try:
        with ledger_session(settings) as session:
            token = revoke_token(session, name)
    except TokenError as exc:
        typer.echo(f"cannot revoke token: {exc}", err=True)
        raise typer.Exit(EXIT_FAILED) from None
    typer.echo(f"token {name!r} revoked at {_when(token.revoked_at)}")


def register(cli: typer.Typer) -> None:
    """Add `rra token` to the command line."""
    cli.add_typer(token_cli, name="token")
