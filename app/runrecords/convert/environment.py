"""`environment.txt` → `environment.fcl`: flat `NAME: "value"` lines (§9.6).

Warnings name the variable but never show its value, which may be sensitive.
"""

import re

from app.runrecords.convert import repair
from app.runrecords.convert.notes import Converted, Notes, note_duplicate
from app.runrecords.convert.syntax import is_string
from app.runrecords.convert.text import decode, dots, has_non_ascii, join_lines

_EXPORT = re.compile(r"^export\s+([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")


def convert_environment(data: bytes) -> Converted:
    """Convert the bytes of `environment.txt` to `environment.fcl`, with the warnings."""
    notes = Notes("environment.txt")
    lines: list[str] = []
    names: dict[str, int] = {}
    for number, line in enumerate(decode(data, notes).splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _EXPORT.match(stripped)
        if match is None:
            notes.add(number, "line_dropped", "not an 'export NAME=value' line")
            continue
        name, raw = match.group(1), match.group(2).strip()
        value = raw.strip("'\"")
        literal = '"' + dots(value).replace('"', '\\"') + '"'
        if not is_string(literal):
            notes.add(number, "value_repaired", f"value of {name} is not a valid FHiCL string")
            literal = repair.fq(value)
        elif has_non_ascii(value):
            notes.add(
                number, "non_ascii_replaced", f"non-ASCII characters in {name} written as '.'"
            )
        if value != raw:
            notes.add(
                number, "quotes_stripped", f"quote characters removed from the ends of {name}"
            )
        note_duplicate(names, name, number, notes, "variable")
        lines.append(f"{name}: {literal}")
    return Converted(join_lines(lines), notes.warnings)
