"""`setup.txt` → `setup.fcl`: the whole setup script as one string, no final newline (§9.5).

Warnings give counts and line numbers only: a setup script may hold credentials.
"""

import re

from app.runrecords.convert.notes import Converted, Notes
from app.runrecords.convert.text import decode, dots

_UNPRINTABLE = re.compile(r"[^\t\n\x20-\x7e]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_LINES_SHOWN = 10


def _lines_of(pattern: re.Pattern[str], text: str) -> str:
    """The first line numbers where `pattern` occurs, for the warning (linear in the text)."""
    numbers = []
    for number, line in enumerate(text.split("\n"), start=1):
        if pattern.search(line):
            numbers.append(str(number))
            if len(numbers) > _LINES_SHOWN:
                return ", ".join(numbers[:_LINES_SHOWN]) + ", ..."
    return ", ".join(numbers)


def convert_setup(data: bytes) -> Converted:
    """Convert the bytes of `setup.txt` to `setup.fcl`, with the warnings."""
    notes = Notes("setup.txt")
    text = decode(data, notes)
    if _NON_ASCII.search(text):
        notes.add(
            None,
            "non_ascii_replaced",
            f"non-ASCII characters written as '.' (lines {_lines_of(_NON_ASCII, text)})",
        )
    script = dots(text)
    if _UNPRINTABLE.search(script):
        notes.add(
            None,
            "value_repaired",
            f"control characters written as '.' (lines {_lines_of(_UNPRINTABLE, script)})",
        )
        script = _UNPRINTABLE.sub(".", script)
    if script.endswith("\\"):
        notes.add(None, "value_repaired", "final backslash (no newline after it) written as '.'")
        script = script[:-1] + "."
    escaped = script.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return Converted(f'setup_script: "{escaped}"'.encode("ascii"), notes.warnings)
