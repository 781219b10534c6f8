"""Ordered JSON objects that may repeat keys: artdaq_database documents keep duplicate keys."""

from collections.abc import Iterator
from typing import Any, TypeAlias


class Pairs(list[tuple[str, Any]]):
    """A JSON object as an ordered list of (key, value) pairs; a dict would drop duplicates."""

    def get(self, key: str, default: Any = None) -> Any:
        """Value of the first pair named `key`, as dict.get would give for unique keys."""
        for name, value in self:
            if name == key:
                return value
        return default

    def keys(self) -> Iterator[str]:
        """Keys in document order, duplicates included."""
        return (name for name, _ in self)


JsonObject: TypeAlias = Pairs | dict[str, Any]
"""An object as read: ordered `Pairs`, or a dict where key order and duplicates do not matter."""
