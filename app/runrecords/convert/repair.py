"""The legacy value helpers (§8.4) and the project's repair primitives fk and fq (§8.3).

Each converter renders an element exactly as the legacy tool did, then `key` / `value` keep it
when it is valid FHiCL and replace it with the repaired form (reported) only when it is not.
"""

import re
from typing import NamedTuple

from app.runrecords.convert.notes import Notes, excerpt
from app.runrecords.convert.syntax import RESERVED_KEYS, Context, is_key, is_string, is_value

_NOT_KEY_CHARS = re.compile(r"[^A-Za-z0-9_]+")
_NOT_STRING_CHARS = re.compile(r"[^\t\x20-\x7e]")
_LEGACY_NUMERIC = re.compile(r"[0-9]*\.?[0-9]*")


class Item(NamedTuple):
    """A sequence item with the input line it came from, for warnings."""

    value: str
    line: int
    text: str


def fk(key: str) -> str:
    """Runs of characters outside `A-Za-z0-9_` become one `_`; never empty, digit-first or a
    prolog keyword (the project's addition to §8.3: `BEGIN_PROLOG: x` cannot be a key)."""
    repaired = _NOT_KEY_CHARS.sub("_", key)
    if not repaired or repaired[0].isdigit() or repaired in RESERVED_KEYS:
        repaired = "_" + repaired
    return repaired


def fq(value: str) -> str:
    """A double-quoted string of `value` that fhicl-cpp accepts, changing as little as possible."""
    printable = _NOT_STRING_CHARS.sub(".", value)
    if printable.endswith("\\"):
        printable = printable[:-1] + "."
    return '"' + printable.replace("\\", "\\\\").replace('"', '\\"') + '"'


def legacy_numeric(value: str) -> bool:
    """N(v): non-empty, ASCII digits and at most one `.` (so `.` and `007` count)."""
    return bool(value) and _LEGACY_NUMERIC.fullmatch(value) is not None


def legacy_quote(value: str) -> str:
    """Q(v): `"..."`, `[...]` and N values pass through; anything else is quoted, `"` escaped."""
    value = value.strip()
    if (
        (value.startswith('"') and value.endswith('"'))
        or (value.startswith("[") and value.endswith("]"))
        or legacy_numeric(value)
    ):
        return value
    return '"' + value.replace('"', '\\"') + '"'


def key(rendered: str, notes: Notes, line: int, text: str) -> str:
    """The legacy key if valid, else fk of it (reported with the original line `text`)."""
    if is_key(rendered):
        return rendered
    repaired = fk(rendered)
    notes.add(
        line, "key_repaired", f"key {rendered!r} is not a FHiCL name; written as {repaired!r}", text
    )
    return repaired


def value(
    rendered: str,
    raw: str,
    notes: Notes,
    line: int,
    text: str | None,
    context: Context = Context.LINE,
) -> str:
    """The legacy rendering if valid where it stands, else fq(raw) (reported)."""
    if is_value(rendered, context):
        return rendered
    notes.add(line, "value_repaired", "value is not valid FHiCL; written as a quoted string", text)
    return fq(raw)


def string(raw: str, notes: Notes, line: int, text: str | None) -> str:
    """`"raw"` as the legacy tool wrote it (no escaping) if valid, else fq(raw) (reported)."""
    literal = f'"{raw}"'
    if is_string(literal):
        return literal
    notes.add(line, "value_repaired", f"{excerpt(raw)} is not a valid FHiCL string; escaped", text)
    return fq(raw)


def quoted_items(items: list[Item], notes: Notes) -> str:
    """A(items): `["a", "b"]` without escaping; an item that is not a valid string gets fq."""
    if not items:
        return "[]"
    return "[" + ", ".join(string(i.value, notes, i.line, i.text) for i in items) + "]"
