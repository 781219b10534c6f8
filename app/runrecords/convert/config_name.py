"""The configuration name a run is stored under in artdaq_database (run-records.md §6)."""

import re

from app.runrecords.convert.notes import Notes
from app.runrecords.convert.text import decode, without_placeholders

DEFAULT_CONFIG_NAME = "standard"
_CONFIG = re.compile(r"^Config name:\s+(.*)")


def config_name_from_metadata(metadata: bytes) -> tuple[str, list[str]]:
    """DAQInterface's rule: the first non-empty `Config name:` value, each subconfiguration with
    `/` → `_`, joined with `_`; `standard` (with a warning) when there is no such line."""
    notes = Notes("metadata.txt")
    text = decode(metadata, Notes("metadata.txt"))
    for number, line in enumerate(text.splitlines(), start=1):
        match = _CONFIG.match(line)
        if match and match.group(1).strip():
            name = "_".join(part.replace("/", "_") for part in match.group(1).split())
            readable = without_placeholders(name)
            if readable != name:
                notes.add(
                    number,
                    "undecodable_bytes",
                    "bytes of the configuration name that are "
                    f"not UTF-8 written as '.': {readable!r}",
                )
            return readable, notes.warnings
    notes.add(
        None,
        "config_name_missing",
        f"no non-empty 'Config name:' line; using {DEFAULT_CONFIG_NAME!r}",
    )
    return DEFAULT_CONFIG_NAME, notes.warnings
