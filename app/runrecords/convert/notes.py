"""Conversion warnings: every repair, drop or merge is reported, naming file and line (§8.2)."""

import re
from dataclasses import dataclass, field
from typing import NamedTuple

MAX_WARNINGS_PER_FILE = 100
_EXCERPT_CHARS = 100
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/\s@]+@")


class Converted(NamedTuple):
    """One converter's result: the output bytes and the warnings about what it changed."""

    data: bytes
    warnings: list[str]


@dataclass
class Notes:
    """Collects the warnings of one conversion, each once; a damaged file cannot flood the run
    with warnings: past MAX_WARNINGS_PER_FILE only a count is kept."""

    file: str
    _shown: list[str] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)
    _suppressed: int = 0

    def add(self, line: int | None, code: str, detail: str, text: str | None = None) -> None:
        """Record `code` at `line`; `text` (the original line) is shown shortened and redacted."""
        where = self.file if line is None else f"{self.file}:{line}"
        shown = "" if text is None else f": {excerpt(text)}"
        warning = f"{where}: {code}: {detail}{shown}"
        if warning in self._seen:
            return
        self._seen.add(warning)
        if len(self._shown) < MAX_WARNINGS_PER_FILE:
            self._shown.append(warning)
        else:
            self._suppressed += 1

    @property
    def warnings(self) -> list[str]:
        """The warnings in input order, plus a count of those not listed."""
        if not self._suppressed:
            return list(self._shown)
        return [*self._shown, f"{self.file}: {self._suppressed} more warning(s) not listed"]


def excerpt(text: str) -> str:
    """A short, single-line, credential-free rendering of input text for a warning."""
    redacted = _URL_CREDENTIALS.sub(r"\g<scheme>***@", text)
    if len(redacted) > _EXCERPT_CHARS:
        redacted = redacted[:_EXCERPT_CHARS] + "..."
    return ascii(redacted)


def note_duplicate(seen: dict[str, int], name: str, line: int, notes: Notes, what: str) -> None:
    """Remember where `name` was defined; a redefinition hides the earlier one, so report it."""
    if name in seen:
        notes.add(
            line,
            "duplicate_key",
            f"{what} {name!r} already defined on line {seen[name]}; readers see only the last",
        )
    seen[name] = line
