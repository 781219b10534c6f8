"""The operators' run-range syntax: `100-200,205,300+` and `last 50`.

Ranges become SQL conditions; the integers between the bounds are never materialised.
"""

import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, false, or_

_PART = re.compile(r"^(?P<lo>[0-9]+)(?:(?P<dash>-)(?P<hi>[0-9]+)|(?P<plus>\+))?$")
_LAST = re.compile(r"^last\s+(?P<n>[0-9]+)$", re.IGNORECASE)
MAX_RUN = 2_147_483_647


class RangeSyntaxError(ValueError):
    """A run selection that does not follow the syntax; the message shows the bad part."""


@dataclass(frozen=True)
class RunSelection:
    """Closed intervals (hi None = open-ended), or the newest `last` runs."""

    intervals: tuple[tuple[int, int | None], ...] = ()
    last: int | None = None

    def condition(self, column: ColumnElement[int]) -> ColumnElement[bool]:
        """A SQL condition on `column` for the intervals (`last` is applied by the caller)."""
        if not self.intervals:
            return false()
        parts = []
        for lo, hi in self.intervals:
            parts.append(column >= lo if hi is None else and_(column >= lo, column <= hi))
        return or_(*parts)

    def contains(self, run: int) -> bool:
        """Whether `run` falls in one of the intervals."""
        return any(run >= lo and (hi is None or run <= hi) for lo, hi in self.intervals)


def parse_runs(text: str) -> RunSelection:
    """Parse `100-200,205,300+` or `last 50`; raise RangeSyntaxError naming the bad part."""
    stripped = text.strip()
    last = _LAST.match(stripped)
    if last:
        count = int(last.group("n"))
        if count < 1:
            raise RangeSyntaxError("'last N' needs N >= 1")
        return RunSelection(last=count)
    intervals: list[tuple[int, int | None]] = []
    for raw in stripped.split(","):
        part = raw.strip().replace(" ", "")
        match = _PART.match(part)
        if not match:
            raise RangeSyntaxError(
                f"{raw.strip()!r} is not a run, a range a-b, an open range a+, or 'last N'"
            )
        lo = int(match.group("lo"))
        hi = None if match.group("plus") else int(match.group("hi") or lo)
        if hi is not None and hi < lo:
            raise RangeSyntaxError(f"{part!r}: the range ends before it starts")
        if lo > MAX_RUN or (hi is not None and hi > MAX_RUN):
            raise RangeSyntaxError(f"{part!r}: run numbers end at {MAX_RUN}")
        intervals.append((lo, hi))
    return RunSelection(intervals=tuple(intervals))
