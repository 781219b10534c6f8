"""What UconDB returns about versions, and how run numbers map to its string keys.

Keys are text on the server, so range lookups compare them as strings; the helpers here turn
an integer run range into string ranges per decimal length and filter the answers back.
"""

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from app.stores.ucondb.checksums import BlobChecksums

_RUN_KEY = re.compile(r"0|[1-9][0-9]*")
_NAME = re.compile(r"[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)?")


@dataclass(frozen=True)
class StoredVersion:
    """One version's metadata as the server reports it."""

    version_id: int
    key: str | None
    data_key: str
    size: int
    adler32: int
    tr: float
    tags: tuple[str, ...]

    @classmethod
    def from_metadata(cls, meta: Mapping[str, Any]) -> "StoredVersion":
        """Read the server's metadata JSON; a record without the integrity fields is an error."""
        try:
            return cls(
                version_id=int(meta["id"]),
                key=None if meta.get("key") is None else str(meta["key"]),
                data_key=str(meta["data_key"]),
                size=int(meta["data_size"]),
                adler32=int(meta["adler32"]) & 0xFFFFFFFF,
                tr=float(meta.get("tr") or 0.0),
                tags=tuple(str(t) for t in meta.get("tags") or ()),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"UconDB metadata record lacks a usable field ({exc!r})") from None

    def matches(self, ours: BlobChecksums) -> bool:
        """Same size and Adler-32 as our bytes: archived, pending an MD5 check of the download."""
        return self.size == ours.size and self.adler32 == ours.adler32


@dataclass(frozen=True)
class RunListing:
    """Runs found in the store, and the versions whose keys are not run numbers."""

    runs: dict[int, StoredVersion]
    anomalies: tuple[str, ...]


def run_key(run: int) -> str:
    """The version key (and tag) of a run: canonical decimal, as the legacy archive wrote it."""
    if isinstance(run, bool) or not isinstance(run, int) or run < 0:
        raise ValueError(f"run number {run!r} is not a non-negative integer")
    return str(run)


def parse_run_key(key: str | None) -> int | None:
    """The run a key names, or None for a null or non-canonical key."""
    return int(key) if key is not None and _RUN_KEY.fullmatch(key) else None


def check_name(what: str, value: str) -> str:
    """Folder and object names are configuration; refuse what the server would mangle."""
    if not _NAME.fullmatch(value):
        raise ValueError(f"UconDB {what} {value!r} must match ^[A-Za-z0-9_]+(\\.[A-Za-z0-9_]+)?$")
    return value


def key_ranges(first: int, last: int) -> list[tuple[int, int, dict[str, str]]]:
    """(lo, hi, lookup body) per decimal length, so string ranges select exactly [first, last]."""
    if first < 0 or last < first:
        raise ValueError(f"run range {first}-{last} is empty or negative")
    ranges = []
    for digits in range(len(str(first)), len(str(last)) + 1):
        lo = max(first, 10 ** (digits - 1) if digits > 1 else 0)
        hi = min(last, 10**digits - 1)
        ranges.append((lo, hi, {"key_min": str(lo), "key_max": f"{hi}0"}))
    return ranges


def parse_json_seq(body: bytes) -> list[dict[str, Any]]:
    """Records of an RFC 7464 JSON text sequence (0x1E-separated); `null` records are dropped."""
    records = []
    for part in body.split(b"\x1e"):
        part = part.strip()
        if part:
            record = json.loads(part)
            if record is not None:
                records.append(record)
    return records


def runs_of(
    records: Iterable[Mapping[str, Any]], keep: "Iterable[tuple[int, int]] | None" = None
) -> RunListing:
    """Index records by run; keys that are null or not canonical decimals become anomalies.

    `keep` limits the result to runs inside any of the given inclusive (lo, hi) ranges.
    """
    bounds = list(keep) if keep is not None else None
    runs: dict[int, StoredVersion] = {}
    anomalies: list[str] = []
    for meta in records:
        version = StoredVersion.from_metadata(meta)
        run = parse_run_key(version.key)
        if run is None:
            anomalies.append(f"version {version.version_id} has key {version.key!r}")
        elif bounds is None or any(lo <= run <= hi for lo, hi in bounds):
            runs[run] = version
    return RunListing(runs, tuple(anomalies))
