"""Commands of this concern (filled in by the module's owner)."""

import typer


def register(cli: typer.Typer) -> None:
    """Add this module's commands to `rra`."""
