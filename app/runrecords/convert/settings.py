"""`settings.txt` → `settings.fcl`: `key: value` lines of the DAQInterface settings file (§9.4)."""

import re

from app.runrecords.convert import repair
from app.runrecords.convert.notes import Converted, Notes, note_duplicate
from app.runrecords.convert.repair import legacy_numeric, legacy_quote
from app.runrecords.convert.syntax import Context
from app.runrecords.convert.text import decode, join_lines

_KEY_SEPARATORS = re.compile(r"[\s\-()/#.]+")


def _list_value(value: str, notes: Notes, number: int, line: str) -> str:
    """`[ a, b ]` with the legacy item rewriting; only items that are not valid values get fq."""
    if not value.endswith("]") and len(value) > 1:
        notes.add(
            number, "value_repaired", "list has no closing ']'; its last character is lost", line
        )
    items = []
    for raw in value[1:-1].split(","):
        item = raw.strip()
        if not item:
            continue
        if (item.startswith('"') and item.endswith('"')) or (
            item.startswith("'") and item.endswith("'")
        ):
            item = item[1:-1]
        item = item.replace("-", "_")
        items.append(repair.value(item, item, notes, number, line, Context.ITEM))
    return f"[ {', '.join(items)} ]"


def _value(value: str, notes: Notes, number: int, line: str) -> str:
    if value.startswith("["):
        return _list_value(value, notes, number, line)
    if legacy_numeric(value):
        rendered = value
    elif value.lower() in ("true", "false"):
        rendered = value.lower()
    else:
        rendered = legacy_quote(value)
    return repair.value(rendered, value, notes, number, line)


def convert_settings(data: bytes) -> Converted:
    """Convert the bytes of `settings.txt` to `settings.fcl`, with the warnings."""
    notes = Notes("settings.txt")
    lines: list[str] = []
    keys: dict[str, int] = {}
    for number, line in enumerate(decode(data, notes).splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        name, colon, rest = stripped.partition(":")
        if not colon:
            notes.add(number, "line_dropped", "line has no ':'", line)
            continue
        key = repair.key(_KEY_SEPARATORS.sub("_", name.strip()), notes, number, line)
        note_duplicate(keys, key, number, notes, "key")
        lines.append(f"{key}: {_value(rest.strip(), notes, number, line)}")
    return Converted(join_lines(lines), notes.warnings)
