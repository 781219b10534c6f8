"""`python -m app.cli` runs the `rra` command."""

from app.cli import main

main()
