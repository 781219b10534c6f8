"""The generated `RunHistory.fcl` and `RunHistory2.fcl`, both read from `metadata.txt` (§9.8, §9.9).

Their warnings are filed under `metadata.txt` (the input) and name the generated file.
"""

import re

from app.runrecords.convert import repair
from app.runrecords.convert.notes import Converted, Notes
from app.runrecords.convert.repair import Item, quoted_items
from app.runrecords.convert.text import decode, dots, has_non_ascii, join_lines

_CONFIG = re.compile(r"^Config name:\s*(.+)")
_COMPONENT = re.compile(r"^Component #\d+:\s*(.+)")
_TIME = re.compile(r"^DAQInterface (start|stop) time:\s+(.*)")


def generate_run_history(metadata: bytes, run_number: int) -> Converted:
    """RunHistory.fcl: run number, the last config name line, and the components in order."""
    notes = Notes("metadata.txt")
    config: Item | None = None
    components: list[Item] = []
    for number, line in enumerate(decode(metadata, notes).splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if match := _CONFIG.match(stripped):
            config = Item(match.group(1).strip(), number, f"RunHistory.fcl: {line}")
        elif match := _COMPONENT.match(stripped):
            components.append(Item(match.group(1).strip(), number, f"RunHistory.fcl: {line}"))
    lines = [f"run_number: {run_number}", ""]
    if config is not None and config.value:
        lines += [
            f"config_name: {repair.string(config.value, notes, config.line, config.text)}",
            "",
        ]
    if components:
        lines += [f"components: {quoted_items(components, notes)}", ""]
    return Converted(join_lines(lines), notes.warnings)


def generate_run_history2(metadata: bytes) -> Converted | None:
    """RunHistory2.fcl: every start and stop time line, in file order; None when there is none."""
    notes = Notes("metadata.txt")
    lines: list[str] = []
    for number, line in enumerate(decode(metadata, notes).splitlines(), start=1):
        match = _TIME.match(line)
        if match is None:
            continue
        value = dots(match.group(2))
        context = f"RunHistory2.fcl: {line}"
        if has_non_ascii(match.group(2)):
            notes.add(number, "non_ascii_replaced", "non-ASCII characters written as '.'", context)
        rendered = repair.string(value, notes, number, context)
        lines.append(f"DAQInterface_{match.group(1)}_time: {rendered}")
    if not lines:
        return None
    return Converted(join_lines(lines, final_newline=False), notes.warnings)
