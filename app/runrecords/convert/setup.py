"""`setup.txt` → `setup.fcl`: the whole setup script as one string, no final newline (§9.5).

Warnings give counts and line numbers only: a setup script may hold credentials.
"""

import re

from app.runrecords.convert.notes import Converted, Notes
from app.runrecords.convert.text import decode, dots

_UNPRINTABLE = re.compile(r"[^\t\n\x20-\x7e]")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _lines_of(pattern: re.Pattern[str], text: str) -> str:
    numbers = sorted({text.count("\n", 0, m.start()) + 1 for m in pattern.finditer(text)})
    shown = ", ".join(str(n) for n in numbers[:10])
    return shown + (", ..." if len(numbers) > 10 else "")


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
