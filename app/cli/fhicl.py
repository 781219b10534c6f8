"""`rra fhicl …`: validate FHiCL files and show the artdaq_database document made from one."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import EXIT_FAILED, EXIT_OK
from app.fhicl.files import check_file, fhicl_files
from app.stores.artdaqdb.convert import convert_source
from app.stores.artdaqdb.dialect import DialectError
from app.stores.artdaqdb.document import build_record
from app.stores.artdaqdb.naming import InvalidNameError, collection_for, configuration_name

fhicl_cli = typer.Typer(
    help="FHiCL files: validation and artdaq_database conversion.", no_args_is_help=True
)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


@fhicl_cli.command("check")
def check_command(
    paths: Annotated[
        list[Path], typer.Argument(help="FHiCL files, or directories to search for *.fcl.")
    ],
) -> None:
    """Report every file fhicl-cpp would reject, as file:line:column: message."""
    checked = invalid = 0
    for path in fhicl_files(paths):
        checked += 1
        try:
            error = check_file(path)
        except OSError as exc:
            invalid += 1
            typer.echo(f"{path}: cannot read: {exc.strerror or exc}")
            continue
        if error is not None:
            invalid += 1
            typer.echo(str(error))
    typer.echo(f"{_plural(checked, 'file')} checked, {invalid} invalid")
    raise typer.Exit(EXIT_FAILED if invalid else EXIT_OK)


@fhicl_cli.command("to-json")
def to_json_command(
    path: Annotated[Path, typer.Argument(help="The FHiCL file to convert.")],
    run: Annotated[int, typer.Option(help="Run number the record is filed under.")] = 1,
    config_name: Annotated[
        str, typer.Option(help="Configuration name C of the record's R/C configuration.")
    ] = "standard",
) -> None:
    """Print the artdaq_database record the archiver would store for this file (run R, config C).

    A file the parser rejects is still printed (with the archiver_parse_error placeholder the store
    keeps for it), the error goes to stderr, and the exit code is 1.
    """
    entity = path.stem
    try:
        source = path.read_bytes()
        configuration = configuration_name(run, config_name)
        built = build_record(
            source,
            converter=convert_source,
            collection=collection_for(entity),
            configuration=configuration,
            version=configuration,
            entity=entity,
            run=str(run),
        )
        text = built.text
    except OSError as exc:
        typer.echo(f"{path}: cannot read: {exc.strerror or exc}", err=True)
        raise typer.Exit(EXIT_FAILED) from None
    except (InvalidNameError, DialectError) as exc:
        typer.echo(f"{path}: {exc}", err=True)
        raise typer.Exit(EXIT_FAILED) from None
    sys.stdout.write(text + "\n")
    if built.conversion.parse_error:
        typer.echo(f"{path}: not valid FHiCL: {built.conversion.parse_error}", err=True)
        raise typer.Exit(EXIT_FAILED)
    raise typer.Exit(EXIT_OK)


def register(cli: typer.Typer) -> None:
    """Add `rra fhicl check` and `rra fhicl to-json` to the command line."""
    cli.add_typer(fhicl_cli, name="fhicl")
