"""Which rendered keys and values are valid FHiCL (run-records.md §8.1).

Keys, numbers, names and double-quoted strings are checked here directly because they make up
almost every converter element; anything else (a passed-through `[...]`, a single-quoted string)
is handed to the project's FHiCL parser inside the context the converter writes it in. That
parser does not resolve references, which fhicl-cpp would fail on, so text with `@` is refused.
"""

import re
from enum import Enum

from app.fhicl.errors import FhiclError
from app.fhicl.parser import check

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
RESERVED_KEYS = frozenset({"BEGIN_PROLOG", "END_PROLOG"})
_ATOM = re.compile(
    r"""-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?   # decimal number
      | 0x[0-9A-Fa-f]+                         # hexadecimal number
      | -?infinity
      | @nil
      | [A-Za-z_][A-Za-z0-9_]*                 # name (true and false included)
      | \d+[A-Za-z_][A-Za-z0-9_]*              # digit-start name""",
    re.VERBOSE | re.ASCII,
)
# fhicl-cpp's string token: `\"` is taken as a pair before a `"` can close the string, with no
# backtracking, so `"a\\"b"` is one string and `"C:\\"` never ends.
_STRING_TOKEN = re.compile(r'"(?>(?:\\"|[^"])*)"')
_NOT_IN_STRING = re.compile(r"[^\t\n\x20-\x7e]")
_ESCAPE = re.compile(r"\\(.?)", re.DOTALL)


class Context(Enum):
    """Where a value stands in the converter's output, as a template for the parser check."""

    LINE = "k: {}\n"
    ITEM = "k: [{}]\n"
    TABLE_LINE = "k: {{\nv: {}\n}}\n"


def is_key(key: str) -> bool:
    """A plain FHiCL name; dotted or indexed keys would be overrides of missing tables."""
    return _KEY.fullmatch(key) is not None and key not in RESERVED_KEYS


def is_string(literal: str) -> bool:
    """One double-quoted string token that fhicl-cpp accepts: printable ASCII, TAB and LF only,
    and a backslash only in the escapes `\\"`, `\\'`, `\\\\`, `\\n`, `\\t`."""
    if _STRING_TOKEN.fullmatch(literal) is None:
        return False
    content = literal[1:-1]
    return _NOT_IN_STRING.search(content) is None and all(
        escape.group(1) and escape.group(1) in "\"'\\nt" for escape in _ESCAPE.finditer(content)
    )


def is_value(text: str, context: Context) -> bool:
    """Whether `text`, written where `context` says, parses as a FHiCL value."""
    if _ATOM.fullmatch(text) or is_string(text):
        return True
    if not text or text[0] not in "[{'\"" or "@" in text or _STRING_TOKEN.fullmatch(text):
        return False
    try:
        check(context.value.format(text), filename="<converted value>")
    except FhiclError:
        return False
    return True
