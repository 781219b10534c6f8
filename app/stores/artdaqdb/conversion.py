"""What a FHiCL-to-record conversion yields, and the shapes of pluggable converters.

Kept apart from the converter itself so the storage layer does not depend on the parser.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.fhicl.pairs import Pairs


@dataclass(frozen=True)
class Conversion:
    """What the converter made of one file, and what the store had to change to keep it ASCII.

    The `document` and `comments` parts are kept as their dialect text: serialised at once, the
    trees (some thirty times the source's size) are freed while the rest of the run converts.
    """

    document_json: str
    comments_json: str
    parse_error: str | None = None
    ascii_replaced: bool = False

    @property
    def document(self) -> Pairs:
        """The `document` part as a tree (parsed again on each use: comparisons are rare)."""
        return _ordered(self.document_json)

    @property
    def comments(self) -> list[Pairs]:
        """The `comments` part as a list of objects."""
        return _ordered(self.comments_json)


def _ordered(text: str) -> Any:
    return json.loads(text, object_pairs_hook=Pairs)


Converter = Callable[[bytes, str], Conversion]
Regenerator = Callable[[Pairs], str]
