"""FHiCL files on disk: find them under the paths an operator names, and validate each one."""

from collections.abc import Iterable, Iterator
from pathlib import Path

from app.fhicl.errors import FhiclError
from app.fhicl.parser import check


def fhicl_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Each named file, and every `*.fcl` below each named directory (sorted, recursively)."""
    for path in paths:
        if path.is_dir():
            yield from sorted(found for found in path.rglob("*.fcl") if found.is_file())
        else:
            yield path


def decode(source: bytes) -> str:
    """Source bytes as text; undecodable bytes survive as surrogates so nothing is lost."""
    return source.decode("utf-8", errors="surrogateescape")


def check_file(path: Path) -> FhiclError | None:
    """The file's first syntax error, or None if fhicl-cpp would parse it.

    An unreadable file raises OSError: that is not a verdict on its content.
    """
    try:
        check(decode(path.read_bytes()), filename=str(path))
    except FhiclError as error:
        return error
    return None
