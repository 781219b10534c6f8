"""`metadata.txt` → `metadata.fcl`: the legacy line machine (run-records.md §9.1).

Like the legacy tool, the component list and each kind's log file list keep growing over the
whole file: a second list of the same kind repeats the earlier entries. Deviation: a section or
component list still open at end of file is written out (the legacy tool kept only an open
dispatcher section), as if one more empty line followed; every repair and drop is reported.
"""

import re
from dataclasses import dataclass, field

from app.runrecords.convert import repair
from app.runrecords.convert.notes import Converted, Notes, note_duplicate
from app.runrecords.convert.repair import Item, legacy_quote, quoted_items
from app.runrecords.convert.text import decode, join_lines, without_placeholders

_SECTION_KEYS = {
    f"{kind} logfiles": f"{kind.replace(' ', '_')}_logfiles"
    for kind in (
        "process manager",
        "boardreader",
        "eventbuilder",
        "routingmanager",
        "datalogger",
        "dispatcher",
    )
}
_FLUSHED_BY_LEGACY_AT_EOF = "dispatcher_logfiles"
_LOWER_CASED_KEYS = re.compile(
    r"Config name|DAQInterface start time|DAQInterface stop time|Total events"
)
_COMPONENT = re.compile(r"Component #\d+")
_KEY_SEPARATORS = re.compile(r"[\s-]+")


@dataclass
class _Machine:
    """The legacy converter's state: output so far, the open logfile section or component list."""

    notes: Notes
    out: list[str] = field(default_factory=list)
    keys: dict[str, int] = field(default_factory=dict)
    section: str | None = None
    section_line: int = 0
    logfiles: dict[str, list[Item]] = field(default_factory=dict)
    components: list[Item] = field(default_factory=list)
    components_open: bool = False

    def feed(self, number: int, line: str) -> None:
        """Process one input line (legacy steps 1-6)."""
        stripped = line.strip()
        if stripped.startswith("#"):
            self._comment(number, line)
        elif not stripped:
            self._close_open()
        elif self.section is not None:
            tokens = stripped.split()
            self.logfiles.setdefault(self.section, []).append(Item(tokens[0], number, line))
            if len(tokens) > 1:
                self.notes.add(
                    number, "line_dropped", "only the first token of a log file line is kept", line
                )
        else:
            if self.components_open and not _COMPONENT.match(stripped):
                self._close_components()
            name, colon, rest = stripped.partition(":")
            if colon:
                self._entry(number, line, name.strip(), rest.strip())
            else:
                self.notes.add(number, "line_dropped", "line has no ':'", line)

    def finish(self) -> None:
        """End of input: flush whatever is still open, reporting what the legacy tool lost."""
        if self.section is not None:
            if self.section != _FLUSHED_BY_LEGACY_AT_EOF:
                self.notes.add(
                    None,
                    "eof_section_flushed",
                    f"{self.section} still open at end of file; written out",
                )
            self._close_section()
        elif self.components_open:
            self.notes.add(
                None, "eof_section_flushed", "component list still open at end of file; written out"
            )
            self._close_components()

    def _entry(self, number: int, line: str, name: str, value: str) -> None:
        if _LOWER_CASED_KEYS.match(name):
            self._emit(number, line, name.lower().replace(" ", "_"), legacy_quote(value), value)
        elif _COMPONENT.match(name):
            self.components.append(Item(value, number, line))
            self.components_open = True
        elif "commit/version" in name:
            key = _KEY_SEPARATORS.sub("_", name).replace("commit/version", "commit_or_version")
            info = value.replace('"', " ")
            self._emit(number, line, key, f'"{info}"', info)
        elif name == "pmt logfile":
            self._emit(number, line, "pmt_logfiles_wildcard", legacy_quote(value), value)
        elif name == "process management method":
            self._emit(number, line, "process_management_method", legacy_quote(value), value)
        elif name in _SECTION_KEYS:
            self.section = _SECTION_KEYS[name]
            self.section_line = number
        else:
            self._emit(number, line, _KEY_SEPARATORS.sub("_", name), legacy_quote(value), value)

    def _emit(self, number: int, line: str, name: str, rendered: str, raw: str) -> None:
        key = repair.key(name, self.notes, number, line)
        note_duplicate(self.keys, key, number, self.notes, "key")
        self.out.append(f"{key}: {repair.value(rendered, raw, self.notes, number, line)}")

    def _comment(self, number: int, line: str) -> None:
        if line.startswith("#include"):
            self.notes.add(
                number,
                "comment_repaired",
                "a line starting with '#include' is an include directive; wrote '# include'",
                line,
            )
            line = "# " + line[1:]
        self.out.append(without_placeholders(line))

    def _close_open(self) -> None:
        if self.section is not None:
            self._close_section()
        elif self.components_open:
            self._close_components()

    def _close_section(self) -> None:
        assert self.section is not None
        note_duplicate(self.keys, self.section, self.section_line, self.notes, "key")
        items = self.logfiles.get(self.section, [])
        self.out += ["", f"{self.section}: {quoted_items(items, self.notes)}"]
        self.section = None

    def _close_components(self) -> None:
        note_duplicate(self.keys, "components", self.components[-1].line, self.notes, "key")
        self.out.append(f"components: {quoted_items(self.components, self.notes)}")
        self.components_open = False


def convert_metadata(data: bytes) -> Converted:
    """Convert the bytes of `metadata.txt` to `metadata.fcl`, with the warnings."""
    notes = Notes("metadata.txt")
    machine = _Machine(notes)
    for number, line in enumerate(decode(data, notes).splitlines(), start=1):
        machine.feed(number, line)
    machine.finish()
    return Converted(join_lines(machine.out), notes.warnings)
