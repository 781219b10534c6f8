"""What a FHiCL-to-record conversion yields, and the shapes of pluggable converters.

Kept apart from the converter itself so the storage layer does not depend on the parser.
"""

from collections.abc import Callable
from dataclasses import dataclass

from app.fhicl.pairs import Pairs


@dataclass(frozen=True)
class Conversion:
    """What the converter made of one file, and what the store had to change to keep it ASCII."""

    document: Pairs
    comments: list[Pairs]
    parse_error: str | None = None
    ascii_replaced: bool = False


Converter = Callable[[bytes, str], Conversion]
Regenerator = Callable[[Pairs], str]
