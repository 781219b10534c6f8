"""Storage of the UconDB stand-in: folders, versions and per-folder de-duplicated blobs in SQLite.

Keys are TEXT with SQLite's binary collation, so range lookups compare them as strings, the way
the real server's PostgreSQL does for ASCII keys.
"""

import json
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS folders (name TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS blobs (
    folder TEXT NOT NULL, data_key INTEGER NOT NULL, size INTEGER NOT NULL,
    adler32 INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (folder, data_key));
CREATE INDEX IF NOT EXISTS blobs_by_sum ON blobs (folder, size, adler32);
CREATE TABLE IF NOT EXISTS versions (
    folder TEXT NOT NULL, id INTEGER NOT NULL, object TEXT NOT NULL, key TEXT,
    tv REAL NOT NULL, tr REAL NOT NULL, tags TEXT NOT NULL, data_key INTEGER NOT NULL,
    PRIMARY KEY (folder, id));
CREATE UNIQUE INDEX IF NOT EXISTS versions_by_key ON versions (folder, object, key);
"""
_META = """
SELECT v.object, v.folder, v.tv, v.tr, v.tags, b.adler32, b.size, v.data_key, v.id, v.key
FROM versions v JOIN blobs b ON b.folder = v.folder AND b.data_key = v.data_key
"""

_MOVE_KEY = "UPDATE versions SET key = NULL WHERE folder = ? AND object = ? AND key = ?"


class KeyExists(Exception):
    """The (folder, object, key) already has a version."""


class UconStore:
    """Thread-safe SQLite storage; every method runs in its own short transaction."""

    def __init__(
        self,
        path: str | Path = ":memory:",
        *,
        namespace: str = "ucon_test",
        folders: Iterable[str] = ("run_records",),
    ) -> None:
        self.namespace = namespace
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.executescript(_SCHEMA)
        self._last_tr = 0.0
        for folder in folders:
            self._db.execute("INSERT OR IGNORE INTO folders VALUES (?)", (self.qualify(folder),))

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def qualify(self, folder: str) -> str:
        """`ns.folder` as given, or the default namespace prepended to a bare name."""
        return folder if "." in folder else f"{self.namespace}.{folder}"

    def has_folder(self, fq: str) -> bool:
        """Whether the fully qualified folder is configured."""
        return self._one("SELECT 1 FROM folders WHERE name = ?", fq) is not None

    def folders(self, namespace: str) -> list[str]:
        """Bare names of the namespace's folders."""
        prefix = f"{namespace}."
        rows = self._all("SELECT name FROM folders ORDER BY name")
        return [name[len(prefix) :] for (name,) in rows if name.startswith(prefix)]

    def objects(self, fq: str) -> list[str]:
        """Objects that have at least one version."""
        rows = self._all("SELECT DISTINCT object FROM versions WHERE folder = ? ORDER BY 1", fq)
        return [name for (name,) in rows]

    def tags(self, fq: str) -> list[str]:
        """Every tag used in the folder."""
        rows = self._all("SELECT tags FROM versions WHERE folder = ?", fq)
        return sorted({tag for (tags,) in rows for tag in json.loads(tags)})

    def object_exists(self, fq: str, obj: str) -> bool:
        """An object exists while it has a version."""
        return (
            self._one("SELECT 1 FROM versions WHERE folder = ? AND object = ?", fq, obj) is not None
        )

    def key_exists(self, fq: str, obj: str, key: str) -> bool:
        """Whether some version of the object holds this key."""
        sql = "SELECT 1 FROM versions WHERE folder = ? AND object = ? AND key = ?"
        return self._one(sql, fq, obj, key) is not None

    def insert(
        self,
        fq: str,
        obj: str,
        data: bytes,
        *,
        key: str | None,
        tags: Sequence[str],
        tv: float,
        override: bool,
    ) -> dict[str, Any]:
        """Store a version (re-using an identical blob); `override` moves an existing key."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if key is not None and self.key_exists(fq, obj, key):
                    if not override:
                        raise KeyExists(key)
                    self._db.execute(_MOVE_KEY, (fq, obj, key))
                data_key = self._blob_key(fq, data)
                version_id = self._next(fq, "versions", "id")
                self._last_tr = max(time.time(), self._last_tr + 1e-6)
                self._db.execute(
                    "INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (fq, version_id, obj, key, tv, self._last_tr, json.dumps(list(tags)), data_key),
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return self.metadata(fq, version_id)

    def metadata(self, fq: str, version_id: int) -> dict[str, Any]:
        """The metadata JSON object of one version, keys in the real server's order."""
        return _meta(self._one(_META + " WHERE v.folder = ? AND v.id = ?", fq, version_id))

    def select(
        self,
        fq: str,
        obj: str,
        *,
        key: str | None = None,
        tag: str | None = None,
        tv_max: float,
        tr_max: float | None = None,
    ) -> int | None:
        """Version id by key, else by tag (newest tr), else the newest with tv <= tv_max."""
        if key is not None:
            row = self._one(
                "SELECT id FROM versions WHERE folder = ? AND object = ? AND key = ?", fq, obj, key
            )
            return None if row is None else row[0]
        sql = "SELECT id, tags FROM versions WHERE folder = ? AND object = ? AND tv <= ?"
        args: list[Any] = [fq, obj, tv_max]
        if tr_max is not None:
            sql += " AND tr < ?"
            args.append(tr_max)
        for version_id, tags in self._all(sql + " ORDER BY tr DESC", *args):
            if tag is None or tag in json.loads(tags):
                return version_id
        return None

    def version_data(self, fq: str, version_id: int) -> bytes | None:
        """The blob bytes of a version."""
        row = self._one(
            "SELECT b.data FROM versions v JOIN blobs b ON b.folder = v.folder "
            "AND b.data_key = v.data_key WHERE v.folder = ? AND v.id = ?",
            fq,
            version_id,
        )
        return None if row is None else bytes(row[0])

    def blob(self, fq: str, data_key: int) -> bytes | None:
        """Blob row `data_key` (not a version key)."""
        row = self._one("SELECT data FROM blobs WHERE folder = ? AND data_key = ?", fq, data_key)
        return None if row is None else bytes(row[0])

    def versions(self, fq: str, obj: str, tv_max: float) -> list[dict[str, Any]]:
        """All versions visible at tv_max, newest tr first."""
        sql = _META + " WHERE v.folder = ? AND v.object = ? AND v.tv <= ? ORDER BY v.tr DESC"
        return [_meta(row) for row in self._all(sql, fq, obj, tv_max)]

    def by_ids(self, fq: str, ids: Sequence[int]) -> list[dict[str, Any]]:
        """Versions with these ids; unknown ids are skipped."""
        sql = _META + f" WHERE v.folder = ? AND v.id IN ({','.join('?' * len(ids))})"
        return [_meta(row) for row in self._all(sql, fq, *ids)]

    def by_keys(self, fq: str, obj: str, keys: Sequence[str]) -> list[dict[str, Any]]:
        """Versions with these keys; unknown keys are skipped."""
        marks = ",".join("?" * len(keys))
        sql = _META + f" WHERE v.folder = ? AND v.object = ? AND v.key IN ({marks})"
        return [_meta(row) for row in self._all(sql, fq, obj, *keys)]

    def by_key_range(
        self, fq: str, obj: str, key_min: str | None, key_max: str | None
    ) -> list[dict[str, Any]]:
        """Versions with key_min <= key < key_max, compared as strings."""
        sql = _META + " WHERE v.folder = ? AND v.object = ? AND v.key IS NOT NULL"
        args: list[Any] = [fq, obj]
        if key_min is not None:
            sql += " AND v.key >= ?"
            args.append(key_min)
        if key_max is not None:
            sql += " AND v.key < ?"
            args.append(key_max)
        return [_meta(row) for row in self._all(sql, *args)]

    def replace_blob_bytes(self, fq: str, obj: str, key: str, data: bytes) -> None:
        """Overwrite a version's blob bytes but not its size or Adler-32 (corruption, for tests)."""
        with self._lock:
            self._db.execute(
                "UPDATE blobs SET data = ? WHERE folder = ? AND data_key = "
                "(SELECT data_key FROM versions WHERE folder = ? AND object = ? AND key = ?)",
                (data, fq, fq, obj, key),
            )

    def _blob_key(self, fq: str, data: bytes) -> int:
        size, adler = len(data), zlib.adler32(data) & 0xFFFFFFFF
        sql = "SELECT data_key, data FROM blobs WHERE folder = ? AND size = ? AND adler32 = ?"
        for data_key, stored in self._all(sql, fq, size, adler):
            if bytes(stored) == data:
                return data_key
        data_key = self._next(fq, "blobs", "data_key")
        self._db.execute(
            "INSERT INTO blobs VALUES (?, ?, ?, ?, ?)", (fq, data_key, size, adler, data)
        )
        return data_key

    def _next(self, fq: str, table: str, column: str) -> int:
        row = self._one(f"SELECT COALESCE(MAX({column}), 0) + 1 FROM {table} WHERE folder = ?", fq)  # noqa: S608
        return int(row[0])

    def _one(self, sql: str, *args: Any) -> tuple[Any, ...] | None:
        with self._lock:
            return self._db.execute(sql, args).fetchone()

    def _all(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()


def _meta(row: tuple[Any, ...] | None) -> dict[str, Any]:
    if row is None:
        raise LookupError("version vanished")
    obj, folder, tv, tr, tags, adler, size, data_key, version_id, key = row
    return {
        "object": obj,
        "folder": folder,
        "tv": tv,
        "tr": tr,
        "tags": json.loads(tags),
        "adler32": adler,
        "uadler32": adler & 0xFFFFFFFF,
        "data_size": size,
        "data_key": str(data_key),
        "id": version_id,
        "key": key,
    }
