"""What a FHiCL-to-record conversion yields, and the shapes of pluggable converters.

Kept apart from the converter itself so the storage layer does not depend on the parser.
"""

import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.fhicl.pairs import Pairs


@dataclass(frozen=True)
class Conversion:
    """What the converter made of one file, and what the store had to change to keep it ASCII.

    The `document` and `comments` parts are kept as their dialect text (ASCII), serialised at
    once and zlib-compressed to about a tenth: the trees are some thirty times the source's size,
    the texts four, and a whole run's conversions are held until its records are written.
    """

    document_zlib: bytes
    comments_zlib: bytes
    parse_error: str | None = None
    ascii_replaced: bool = False

    @classmethod
    def of(
        cls,
        document_json: str,
        comments_json: str,
        *,
        parse_error: str | None = None,
        ascii_replaced: bool = False,
    ) -> "Conversion":
        """A conversion from its two dialect texts."""
        return cls(_pack(document_json), _pack(comments_json), parse_error, ascii_replaced)

    @property
    def document_json(self) -> str:
        """The `document` part's dialect text."""
        return zlib.decompress(self.document_zlib).decode("ascii")

    @property
    def comments_json(self) -> str:
        """The `comments` part's dialect text."""
        return zlib.decompress(self.comments_zlib).decode("ascii")

    @property
    def packed_size(self) -> int:
        """Bytes held for the two parts."""
        return len(self.document_zlib) + len(self.comments_zlib)

    @property
    def document(self) -> Pairs:
        """The `document` part as a tree (parsed again on each use: comparisons are rare)."""
        return _ordered(self.document_json)

    @property
    def comments(self) -> list[Pairs]:
        """The `comments` part as a list of objects."""
        return _ordered(self.comments_json)


def _pack(text: str) -> bytes:
    return zlib.compress(text.encode("ascii"), 1)  # the fastest level already gives ~10x


def _ordered(text: str) -> Any:
    return json.loads(text, object_pairs_hook=Pairs)


Converter = Callable[[bytes, str], Conversion]
Regenerator = Callable[[Pairs], str]
