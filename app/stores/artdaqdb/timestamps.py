"""artdaq_database timestamps (artdaqdb.md §3.6): 28 characters, local time, numeric offset.

One malformed `configurations[].assigned` makes the C++ `findconfigs` throw for every user of the
database, so the writer only ever emits this exact shape.
"""

import re
from datetime import datetime

TIMESTAMP_PATTERN = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}")


def format_timestamp(moment: datetime | None = None) -> str:
    """`YYYY-MM-DDTHH:MM:SS.mmm±hhmm` in local time, as the C++ tools write it."""
    local = (moment or datetime.now()).astimezone()
    return (
        local.strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{local.microsecond // 1000:03d}"
        + (local.strftime("%z"))
    )


def is_timestamp(text: object) -> bool:
    """True when `text` is exactly a §3.6 timestamp (what the C++ listing can parse)."""
    return isinstance(text, str) and TIMESTAMP_PATTERN.fullmatch(text) is not None
