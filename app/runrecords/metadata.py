"""What the scanner needs from `metadata.txt` and `environment.txt` (run-records.md §2.3, §2.8, §4).

Text is decoded as UTF-8 with undecodable bytes kept as surrogates (§7.1) and split with
`str.splitlines()` (§7.3), so these facts agree with what the converters later see.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime

_START = re.compile(r"DAQInterface start time:\s+(.*)")
_STOP = re.compile(r"DAQInterface stop time:\s+(.*)")
_CONFIG = re.compile(r"Config name:\s+(.*)")
_COMPONENT = re.compile(r"Component #\d+:\s*(.+)")
_PARTITION = re.compile(r"export\s+DAQINTERFACE_PARTITION_NUMBER\s*=\s*(.*)")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class MetadataInfo:
    """Facts of one `metadata.txt`; start and stop values keep every occurrence, in file order."""

    config_value: str | None
    components: tuple[str, ...]
    start_times: tuple[str, ...]
    stop_times: tuple[str, ...]
    ends_with_newline: bool


def decode(data: bytes | str) -> str:
    """UTF-8 text with undecodable bytes preserved as surrogates, never dropped."""
    return data if isinstance(data, str) else data.decode("utf-8", "surrogateescape")


def parse_metadata(data: bytes | str) -> MetadataInfo:
    """Config line, components and start/stop lines; stop/start match at line start, exact case."""
    text = decode(data)
    config_value: str | None = None
    components: list[str] = []
    starts: list[str] = []
    stops: list[str] = []
    for line in text.splitlines():
        if match := _STOP.match(line):
            stops.append(match.group(1).strip())
        elif match := _START.match(line):
            starts.append(match.group(1).strip())
        elif config_value is None and (match := _CONFIG.match(line)):
            config_value = match.group(1).strip() or None
        elif match := _COMPONENT.match(line.strip()):
            components.append(match.group(1).strip())
    return MetadataInfo(
        config_value=config_value,
        components=tuple(components),
        start_times=tuple(starts),
        stop_times=tuple(stops),
        ends_with_newline=text.endswith("\n"),
    )


def parse_partition(environment: bytes | str) -> int | None:
    """`DAQINTERFACE_PARTITION_NUMBER` from `environment.txt` (last definition wins, like bash)."""
    partition: int | None = None
    for line in decode(environment).splitlines():
        if match := _PARTITION.fullmatch(line.strip()):
            value = match.group(1).strip().strip("'\"")
            partition = int(value) if value.isascii() and value.isdigit() else None
    return partition


def parse_daq_time(value: str) -> datetime | None:
    """A `date --utc` stamp (`Tue Oct  1 19:03:15 UTC 2024`); None when it is not one."""
    parts = value.split()
    if len(parts) != 6 or parts[4] not in ("UTC", "GMT") or parts[1] not in _MONTHS:
        return None
    try:
        hour, minute, second = (int(p) for p in parts[3].split(":"))
        return datetime(
            int(parts[5]),
            _MONTHS.index(parts[1]) + 1,
            int(parts[2]),
            hour,
            minute,
            second,
            tzinfo=UTC,
        )
    except ValueError:
        return None


def format_daq_time(when: datetime) -> str:
    """The inverse of `parse_daq_time`: `date --utc` output with a space-padded day."""
    moment = when.astimezone(UTC)
    weekday = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[moment.weekday()]
    month = _MONTHS[moment.month - 1]
    return f"{weekday} {month} {moment.day:>2} {moment:%H:%M:%S} UTC {moment.year}"
