"""`known_boardreaders_list.txt` → `known_boardreaders_list.fcl`: one sequence per line (§9.3)."""

from app.runrecords.convert import repair
from app.runrecords.convert.notes import Converted, Notes, note_duplicate
from app.runrecords.convert.syntax import is_string
from app.runrecords.convert.text import decode, join_lines


def _tokens(line: str) -> list[str]:
    """Whitespace-separated tokens; a quoted part joins the current token and its `"` ends it."""
    tokens: list[str] = []
    current = ""
    quoted = False
    for char in line:
        if char == '"':
            current += char
            if quoted:
                tokens.append(current)
                current = ""
            quoted = not quoted
        elif char.isspace() and not quoted:
            if current:
                tokens.append(current)
            current = ""
        else:
            current += char
    if current:
        tokens.append(current)
    return tokens


def _item(token: str, notes: Notes, number: int, line: str) -> tuple[str, bool]:
    """The rendered item and whether the legacy tool copied it verbatim (already quoted)."""
    if token.startswith('"') and token.endswith('"'):
        if is_string(token):
            return token, True
        notes.add(number, "value_repaired", "quoted field is not a valid FHiCL string", line)
        return repair.fq(token[1:-1] if len(token) > 1 else token), True
    return repair.string(token, notes, number, line), False


def convert_known_boardreaders_list(data: bytes) -> Converted:
    """Convert the bytes of `known_boardreaders_list.txt`, with the warnings."""
    notes = Notes("known_boardreaders_list.txt")
    lines: list[str] = []
    labels: dict[str, int] = {}
    for number, line in enumerate(decode(data, notes).splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        tokens = _tokens(stripped)
        if len(tokens) < 2:
            notes.add(number, "line_dropped", "a component line needs a label and a host", line)
            continue
        key = repair.key(tokens[0], notes, number, line)
        note_duplicate(labels, key, number, notes, "component")
        items = [_item(token, notes, number, line) for token in tokens[1:]]
        closing = " ]" if any(verbatim for _, verbatim in items) else "]"
        lines.append(f"{key}: [{', '.join(rendered for rendered, _ in items)}{closing}")
    return Converted(join_lines(lines), notes.warnings)
