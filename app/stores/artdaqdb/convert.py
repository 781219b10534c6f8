"""FHiCL source bytes → the `document` and `comments` parts of a stored record (snippet mode).

The store must accept every file of a run, so a file the parser rejects is still stored, with
the `archiver_parse_error` placeholder of artdaqdb.md §11.2, and the raw block keeps its bytes.
"""

import re

from app.fhicl.dbjson import fhicl_to_document
from app.fhicl.errors import FhiclError
from app.fhicl.pairs import Pairs
from app.stores.artdaqdb.conversion import Conversion
from app.stores.artdaqdb.dialect import ascii_only, dumps_part

PARSE_ERROR_KEY = "archiver_parse_error"
_IN_DIALECT = re.compile(rb"[\t\n\r\x08\x0c\x20-\x7e]*")
_MAX_ERROR_LENGTH = 240


def _table(children: Pairs, comment: str) -> Pairs:
    return Pairs([("type", "table"), ("comment", comment), ("children", children)])


def placeholder_document(message: str) -> Pairs:
    """`data.main = {"archiver_parse_error": message}` with its metadata (§11.2)."""
    atom = Pairs([("type", "string_doublequoted"), ("comment", ""), ("annotation", "")])
    return Pairs(
        [
            ("data", Pairs([("prolog", Pairs()), ("main", Pairs([(PARSE_ERROR_KEY, message)]))])),
            (
                "metadata",
                Pairs(
                    [
                        ("prolog", _table(Pairs(), "#prolog")),
                        ("main", _table(Pairs([(PARSE_ERROR_KEY, atom)]), "#main")),
                    ]
                ),
            ),
            ("search", []),
        ]
    )


def no_comments() -> list[Pairs]:
    """The C++ converter's comments value for a file without comments."""
    return [Pairs([("linenum", 0), ("value", "No comments")])]


def _unparsable(error: str) -> Conversion:
    message, _ = ascii_only(error)
    message = message.replace("\n", " ")[:_MAX_ERROR_LENGTH]
    return Conversion.of(
        dumps_part(placeholder_document(message)), dumps_part(no_comments()), parse_error=message
    )


def convert_source(source: bytes, name: str) -> Conversion:
    """Convert one file with the project's snippet-mode converter; never raises on bad FHiCL."""
    text = source.decode("utf-8", errors="surrogateescape")
    try:
        converted = fhicl_to_document(text, name=name)
    except FhiclError as exc:
        return _unparsable(str(exc))
    except RecursionError:
        return _unparsable(f"{name}: nested too deeply to parse (tables or sequences)")
    comments = list(converted.comments) or no_comments()
    if _IN_DIALECT.fullmatch(source):  # every stored string comes from the source: nothing to fix
        return Conversion.of(dumps_part(converted.document), dumps_part(comments))
    document, doc_changed = ascii_only(converted.document)
    comments, comments_changed = ascii_only(comments)
    return Conversion.of(
        dumps_part(document), dumps_part(comments), ascii_replaced=doc_changed or comments_changed
    )
