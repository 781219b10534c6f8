"""The filesystemdb search index `<collection>/index.json` (artdaqdb.md §5.4, §6.1).

The project replicates the C++ `SearchIndex::addDocument` exactly and keeps the invariants the
C++ listing silently assumes: breaking them breaks listing for every user of the database.
"""

import bisect
import gc
import json
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.fhicl.pairs import JsonObject, Pairs
from app.stores.artdaqdb.dialect import DialectError, check_text
from app.stores.artdaqdb.errors import ArtdaqStoreError
from app.stores.artdaqdb.timestamps import is_timestamp

EMPTY_INDEX_TEXT = (
    '{"ouid":[], "version":{},"configurations.name":{}, "entities.name":{},'
    '"aliases.active.name":{}, "runs.name":{},"configurations.assigned":{} }'
)
TABLES = (
    "version",
    "configurations.name",
    "entities.name",
    "aliases.active.name",
    "runs.name",
    "configurations.assigned",
)
READ_ATTEMPTS = 4
READ_RETRY_DELAY = 0.05

Index = dict[str, Any]
_STRING_TYPE = frozenset({str})


class IndexCorruptError(ArtdaqStoreError):
    """An index.json that stays unparsable or malformed after the transient-read retries."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(
            f"{path}: corrupt index ({reason}); run `rra artdaqdb rebuild-index` after checking"
            " that no C++ tool is writing"
        )
        self.path = path
        self.reason = reason


def empty_index() -> Index:
    """A fresh in-memory index with every table."""
    return {"ouid": [], **{table: {} for table in TABLES}}


def _validated(raw: object) -> Index:
    if not isinstance(raw, dict):
        raise ValueError("top level is not an object")
    index = empty_index()
    for key, value in raw.items():
        expected = list if key == "ouid" else dict
        if key in index and not isinstance(value, expected):
            raise ValueError(f"{key!r} is not a JSON {'array' if expected is list else 'object'}")
        if isinstance(value, dict) and not all(isinstance(v, list) for v in value.values()):
            raise ValueError(f"{key!r} has a value that is not an array")
        index[key] = value
    return index


@contextmanager
def _collector_paused() -> Iterator[None]:
    """A 100,000-run index is millions of lists and strings without cycles; letting the cyclic
    collector rescan them while they are built roughly doubles the time of a parse or a write."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse_index(text: str) -> Index:
    """Parse index text (any layout; written by the C++ tools or by us); ValueError if bad."""
    with _collector_paused():
        return _validated(json.loads(text))


def read_index(path: Path) -> Index:
    """Read an index, treating a parse failure as a C++ writer mid-write first (§7 rule 5).

    A missing file reads as empty: the C++ tools create it lazily on first search.
    """
    reason = ""
    for attempt in range(READ_ATTEMPTS):
        try:
            return parse_index(path.read_text(encoding="ascii"))
        except FileNotFoundError:
            return empty_index()
        except (ValueError, UnicodeDecodeError) as exc:
            reason = str(exc)
        if attempt + 1 < READ_ATTEMPTS:
            time.sleep(READ_RETRY_DELAY * (attempt + 1))
    raise IndexCorruptError(path, reason)


def _only_strings(values: object) -> bool:
    return isinstance(values, list) and _STRING_TYPE.issuperset(map(type, values))


def render_index(index: Index) -> str:
    """Serialise an index in the dialect (key order of the C++ literal, unknown keys kept).

    An index holds only strings, so after a type check the C encoder can write it; at 100,000
    runs the file has millions of oids and the generic dialect writer would dominate the cost.
    """
    for key, value in index.items():
        tables = [value] if key == "ouid" else list(value.values())
        if not all(map(_only_strings, tables)):
            raise DialectError(f"index table {key!r} holds something other than string lists")
    with _collector_paused():
        text = json.dumps(index, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    check_text(text)
    return text


def _insert_sorted(values: list[str], value: str) -> None:
    position = bisect.bisect_left(values, value)
    if position == len(values) or values[position] != value:
        values.insert(position, value)


def _add(table: dict[str, list[str]], key: str, value: str) -> None:
    _insert_sorted(table.setdefault(key, []), value)


def _named(items: object) -> list[JsonObject]:
    if not isinstance(items, list):
        return []
    return [
        item
        for item in items
        if isinstance(item, Pairs | dict) and isinstance(item.get("name"), str)
    ]


@dataclass(frozen=True)
class IndexEntry:
    """What `addDocument` records for one document."""

    oid: str
    version: str | None
    configurations: tuple[tuple[str, str | None], ...]
    entities: tuple[str, ...]
    aliases: tuple[str, ...]
    runs: tuple[str, ...]


def entry_for(oid: str, record: JsonObject) -> IndexEntry:
    """Read the indexed fields of a record, tolerating old or partial records."""
    aliases = record.get("aliases")
    version = record.get("version")
    return IndexEntry(
        oid=oid,
        version=version if isinstance(version, str) else None,
        configurations=tuple(
            (item.get("name"), item.get("assigned"))
            for item in _named(record.get("configurations"))
        ),
        entities=tuple(item.get("name") for item in _named(record.get("entities"))),
        aliases=tuple(
            item.get("name")
            for item in _named(aliases.get("active") if isinstance(aliases, Pairs | dict) else None)
        ),
        runs=tuple(item.get("name") for item in _named(record.get("runs"))),
    )


def add_entry(index: Index, entry: IndexEntry) -> None:
    """`SearchIndex::addDocument`: add the oid to `ouid` and under every indexed value."""
    _insert_sorted(index["ouid"], entry.oid)
    if entry.version is not None:
        _add(index["version"], entry.version, entry.oid)
    for name, assigned in entry.configurations:
        _add(index["configurations.name"], name, entry.oid)
        if isinstance(assigned, str):
            _add(index["configurations.assigned"], name, assigned)
    for name in entry.entities:
        _add(index["entities.name"], name, entry.oid)
    for name in entry.aliases:
        _add(index["aliases.active.name"], name, entry.oid)
    for name in entry.runs:
        _add(index["runs.name"], name, entry.oid)


def has_entry(index: Index, entry: IndexEntry) -> bool:
    """True when every table already lists this document (nothing to add)."""
    checks: list[tuple[Mapping[str, list[str]], str, str]] = []
    if entry.version is not None:
        checks.append((index["version"], entry.version, entry.oid))
    for name, assigned in entry.configurations:
        checks.append((index["configurations.name"], name, entry.oid))
        if isinstance(assigned, str):
            checks.append((index["configurations.assigned"], name, assigned))
    checks += [(index["entities.name"], name, entry.oid) for name in entry.entities]
    checks += [(index["aliases.active.name"], name, entry.oid) for name in entry.aliases]
    checks += [(index["runs.name"], name, entry.oid) for name in entry.runs]
    return _contains(index["ouid"], entry.oid) and all(
        _contains(table.get(key, []), value) for table, key, value in checks
    )


def _contains(values: list[str], value: str) -> bool:
    position = bisect.bisect_left(values, value)
    return position < len(values) and values[position] == value


def invariant_problems(index: Index) -> list[str]:
    """The §5.4 invariants the C++ readers assume, as human-readable violations."""
    problems: list[str] = []
    entity_oids = {oid for oids in index["entities.name"].values() for oid in oids}
    version_oids = {oid for oids in index["version"].values() for oid in oids}
    for name, oids in index["configurations.name"].items():
        lost = sorted(set(oids) - entity_oids)
        if lost:
            problems.append(f"configuration {name!r}: oids {lost} have no entities.name entry")
        if name not in index["configurations.assigned"]:
            problems.append(f"configuration {name!r} has no configurations.assigned entry")
    lost = sorted(entity_oids - version_oids)
    if lost:
        problems.append(f"oids {lost} are under entities.name but not under version")
    for name, stamps in index["configurations.assigned"].items():
        bad = [stamp for stamp in stamps if not is_timestamp(stamp)]
        if bad:
            problems.append(f"configuration {name!r} has malformed assigned timestamps {bad}")
    for table in ("ouid", *TABLES):
        values = [index["ouid"]] if table == "ouid" else list(index[table].values())
        if any(list(v) != sorted(set(v)) for v in values):
            problems.append(f"{table}: a list is not sorted and unique")
    return problems
