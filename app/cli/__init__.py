"""The `rra` command (`app.cli.application`), loaded when it runs: spawned import worker
processes import their parent's main script again, here the `rra` entry point, so this module
must not load the whole application."""


def main() -> None:
    """Console-script entry point."""
    from app.allocator import return_large_buffers
    from app.cli.application import cli

    return_large_buffers()
    cli()
