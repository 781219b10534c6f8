"""A read of every collection index of a filesystemdb, and the questions the store asks of it.

Answers come from the indexes alone, without opening documents, so they stay cheap at
100,000 runs; oid lists are sorted (a §5.4 invariant), so membership is a binary search.
"""

import bisect
from dataclasses import dataclass
from pathlib import Path

from app.stores.artdaqdb.index import Index, read_index
from app.stores.artdaqdb.layout import collections, index_path
from app.stores.artdaqdb.naming import SYSTEM_METADATA
from app.stores.artdaqdb.results import StoredDocument


def _contains(values: list[str], value: str) -> bool:
    position = bisect.bisect_left(values, value)
    return position < len(values) and values[position] == value


def _first_key_listing(table: dict[str, list[str]], oid: str, keys: list[str]) -> str | None:
    return next((key for key in keys if _contains(table[key], oid)), None)


@dataclass(frozen=True)
class IndexSnapshot:
    """The indexes of every collection except SystemMetadata, read once."""

    indexes: dict[str, Index]

    @classmethod
    def load(cls, root: Path) -> "IndexSnapshot":
        """Read the indexes (call under the database lock)."""
        return cls(
            {
                name: read_index(index_path(root, name))
                for name in collections(root)
                if name != SYSTEM_METADATA
            }
        )

    def configurations_with_prefix(self, prefix: str) -> list[str]:
        """Configuration names, across collections, that start with `prefix`."""
        names = {
            name
            for index in self.indexes.values()
            for name in index["configurations.name"]
            if name.startswith(prefix)
        }
        return sorted(names)

    def _describe(
        self, collection: str, oids: list[str], version_prefix: str
    ) -> list[StoredDocument]:
        index = self.indexes[collection]
        versions = [key for key in index["version"] if key.startswith(version_prefix)]
        configurations = [
            key for key in index["configurations.name"] if key.startswith(version_prefix)
        ]
        entities = list(index["entities.name"])
        described = []
        for oid in oids:
            described.append(
                StoredDocument(
                    collection=collection,
                    entity=_first_key_listing(index["entities.name"], oid, entities) or "",
                    version=_first_key_listing(index["version"], oid, versions) or "",
                    configuration=_first_key_listing(
                        index["configurations.name"], oid, configurations
                    )
                    or "",
                    oid=oid,
                )
            )
        return described

    def documents_of_configuration(self, configuration: str) -> list[StoredDocument]:
        """Every indexed document carrying `configuration`, in every collection."""
        found: list[StoredDocument] = []
        for collection, index in sorted(self.indexes.items()):
            oids = index["configurations.name"].get(configuration, [])
            found += self._describe(collection, list(oids), configuration)
        return found

    def documents_of_run(self, run: str) -> list[StoredDocument]:
        """Every indexed document whose `runs.name` is `run`, in every collection."""
        found: list[StoredDocument] = []
        for collection, index in sorted(self.indexes.items()):
            oids = index["runs.name"].get(run, [])
            found += self._describe(collection, list(oids), f"{run}/")
        return found

    def lookup(self, collection: str, configuration: str, version: str, entity: str) -> list[str]:
        """Oids indexed under all three names in one collection (index intersection)."""
        index = self.indexes.get(collection)
        if index is None:
            return []
        by_version = index["version"].get(version, [])
        return [
            oid
            for oid in by_version
            if _contains(index["entities.name"].get(entity, []), oid)
            and _contains(index["configurations.name"].get(configuration, []), oid)
        ]
