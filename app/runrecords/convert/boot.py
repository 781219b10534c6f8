"""`boot.txt` → `boot.fcl`: plain settings, subsystem and artdaq process lists (§9.2).

The legacy grouping is kept exactly, including its data losses, which are reported instead:
blocks without a label (their fields carry into the next block), blocks written without an empty
line between them (merged), and repeated labels or subsystem ids (the later replaces the earlier).
"""

import re
from dataclasses import dataclass, field

from app.runrecords.convert import repair
from app.runrecords.convert.notes import Converted, Notes, note_duplicate
from app.runrecords.convert.repair import Item, legacy_quote
from app.runrecords.convert.syntax import Context
from app.runrecords.convert.text import decode, join_lines

_SUBSYSTEM_FIELDS = ("id", "source", "destination")
_PROCESS_TYPES = ("BoardReader", "EventBuilder", "DataLogger", "Dispatcher", "RoutingManager")
_PROCESS_FIELDS = ("host", "port", "label", "subsystem")
_WHITESPACE = re.compile(r"\s+")


@dataclass
class _Record:
    """A process or subsystem record being filled; `block` holds fields set since the last gap."""

    kind: str
    identity: str
    fields: dict[str, Item] = field(default_factory=dict)
    name: str | None = None
    block: set[str] = field(default_factory=set)

    def set(self, name: str | None, key: str, item: Item, notes: Notes) -> None:
        """Set one field as the legacy tool did, reporting when two blocks run together."""
        renamed = name is not None and self.name is not None and name != self.name
        if key in self.block or (renamed and self.block):
            notes.add(
                item.line,
                "block_merged",
                f"{self.kind} fields continue the previous block (no empty line between them); "
                "the earlier values are replaced",
                item.text,
            )
        if name is not None:
            self.name = name
        self.fields[key] = item
        self.block.add(key)


@dataclass
class _Kept:
    """Records closed with an identity (label or id), in first-seen order."""

    records: dict[str, _Record] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)

    def close(self, record: _Record, notes: Notes) -> _Record:
        """Close the current record; returns the record that continues (fresh if kept)."""
        contributed = bool(record.block)
        record.block = set()
        identity = record.fields.get(record.identity)
        if identity is None:
            if contributed:
                first = min(item.line for item in record.fields.values())
                notes.add(
                    first,
                    "process_without_label" if record.kind == "process" else "subsystem_without_id",
                    f"{record.kind} block without {record.identity}: not written; its fields "
                    "carry into the next block",
                )
            return record
        note_duplicate(self.lines, identity.value, identity.line, notes, record.kind)
        self.records[identity.value] = record
        return _Record(record.kind, record.identity)


def _field_of(key: str) -> tuple[str | None, str, str] | None:
    """(process type or None for a subsystem, record kind, field) named by a boot key."""
    for name in _SUBSYSTEM_FIELDS:
        if f"Subsystem_{name}" in key:
            return None, "subsystem", name
    for process_type in _PROCESS_TYPES:
        for name in _PROCESS_FIELDS:
            if f"{process_type}_{name}" in key:
                return process_type, "process", name
    return None


def _render_subsystems(subsystems: dict[str, _Record], notes: Notes) -> list[str]:
    lines = ["", "subsystem_settings: ["]
    for index, record in enumerate(subsystems.values()):
        lines.append("{")
        for name in _SUBSYSTEM_FIELDS:
            item = record.fields.get(name)
            if item is not None:
                lines.append(f"{name}: {repair.string(item.value, notes, item.line, item.text)}")
        lines.append("}," if index < len(subsystems) - 1 else "}")
    return [*lines, "]"]


def _render_processes(processes: dict[str, _Record], notes: Notes) -> list[str]:
    lines = ["", "artdaq_process_settings: ["]
    for index, record in enumerate(processes.values()):
        lines += ["{", f'name: "{record.name}"']
        for name in ("label", "host", "port", "subsystem"):
            item = record.fields.get(name)
            if item is None:
                if name == "host":
                    lines.append('host: "not set"')
            elif name == "port":
                rendered = repair.value(
                    item.value, item.value, notes, item.line, item.text, Context.TABLE_LINE
                )
                lines.append(f"port: {rendered}")
            else:
                lines.append(f"{name}: {repair.string(item.value, notes, item.line, item.text)}")
        lines.append("}," if index < len(processes) - 1 else "}")
    return [*lines, "]"]


def convert_boot(data: bytes) -> Converted:
    """Convert the bytes of `boot.txt` to `boot.fcl`, with the warnings."""
    notes = Notes("boot.txt")
    plain: list[str] = []
    plain_keys: dict[str, int] = {}
    processes, subsystems = _Kept(), _Kept()
    process, subsystem = _Record("process", "label"), _Record("subsystem", "id")
    for number, line in enumerate(decode(data, notes).splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("#"):
            continue
        if not stripped:
            process = processes.close(process, notes)
            subsystem = subsystems.close(subsystem, notes)
            continue
        name, colon, rest = stripped.partition(":")
        if not colon:
            notes.add(number, "line_dropped", "line has no ':'", line)
            continue
        key, value = _WHITESPACE.sub("_", name.strip()), rest.strip()
        target = _field_of(key)
        if target is None:
            fixed = repair.key(key, notes, number, line)
            note_duplicate(plain_keys, fixed, number, notes, "key")
            plain.append(
                f"{fixed}: {repair.value(legacy_quote(value), value, notes, number, line)}"
            )
        else:
            process_type, kind, field_name = target
            record = process if kind == "process" else subsystem
            record.set(process_type, field_name, Item(value, number, line), notes)
    processes.close(process, notes)
    subsystems.close(subsystem, notes)
    for generated in ("subsystem_settings", "artdaq_process_settings"):
        if generated in plain_keys and (subsystems.records or generated != "subsystem_settings"):
            notes.add(
                plain_keys[generated],
                "duplicate_key",
                f"key {generated!r} is hidden by the list the converter generates under that name",
            )
    lines = plain
    if subsystems.records:
        lines += _render_subsystems(subsystems.records, notes)
    lines += _render_processes(processes.records, notes)
    return Converted(join_lines(lines), notes.warnings)
