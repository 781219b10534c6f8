"""`ranks.txt` → `ranks.fcl`: the rank table as a `ranks` table of string sequences (§9.7)."""

from app.runrecords.convert import repair
from app.runrecords.convert.notes import Converted, Notes, note_duplicate
from app.runrecords.convert.repair import Item, quoted_items
from app.runrecords.convert.text import decode, join_lines

_ROW_FIELDS = 5


def convert_ranks(data: bytes) -> Converted:
    """Convert the bytes of `ranks.txt` to `ranks.fcl`, with the warnings."""
    notes = Notes("ranks.txt")
    lines: list[str] = []
    keys: dict[str, int] = {}
    for number, line in enumerate(decode(data, notes).splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        tokens = [Item(token, number, line) for token in stripped.split()]
        if not lines:
            lines += ["ranks: {", f"  header: {quoted_items(tokens, notes)}"]
            keys["header"] = number
        elif len(tokens) < _ROW_FIELDS:
            notes.add(number, "line_dropped", f"rank row has fewer than {_ROW_FIELDS} fields", line)
        else:
            key = repair.key(f"rank{tokens[4].value}", notes, number, line)
            note_duplicate(keys, key, number, notes, "rank")
            lines.append(f"  {key}: {quoted_items(tokens, notes)}")
    if lines:
        lines.append("}")
    return Converted(join_lines(lines), notes.warnings)
