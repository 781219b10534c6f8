"""Runs of one configuration carry byte-identical FHiCL files, so each distinct file is parsed
and converted once and later runs reuse the result (conversion depends on the bytes alone)."""

import hashlib
import logging
import sqlite3
import threading
from pathlib import Path

import diskcache
from cachetools import LRUCache

from app.stores.artdaqdb.conversion import Conversion
from app.stores.artdaqdb.convert import convert_source

log = logging.getLogger(__name__)

# What reading or writing the shared cache can raise; it is only a shortcut, so none fails a run.
_SHARED_ERRORS = (OSError, sqlite3.Error, diskcache.Timeout)


def _packed_size(conversion: Conversion) -> int:
    return conversion.packed_size


class ConversionCache:
    """`convert_source` remembered by the sha256 of the source, least recently used first out
    once the kept (compressed) texts exceed `max_bytes` (0 keeps nothing). Failed parses are
    not kept: their message names the run.

    With `shared`, conversions also go to a size-bounded on-disk cache in that directory, which
    the import worker processes of one pipeline share, so a file one of them converted is not
    parsed again by the others."""

    def __init__(self, max_bytes: int, shared: Path | None = None) -> None:
        self._max_bytes = max_bytes
        self._kept: LRUCache[bytes, Conversion] = LRUCache(
            maxsize=max(max_bytes, 1), getsizeof=_packed_size
        )
        self._lock = threading.Lock()
        self._shared = (
            diskcache.Cache(str(shared), size_limit=max_bytes)
            if shared is not None and max_bytes
            else None
        )

    def __call__(self, source: bytes, name: str) -> Conversion:
        key = hashlib.sha256(source).digest()
        with self._lock:
            known = self._kept.get(key)
        if known is None:
            known = self._shared_get(key)
            if known is not None:
                self._keep(key, known)
        if known is not None:
            return known
        conversion = convert_source(source, name)
        if conversion.parse_error is None and conversion.packed_size <= self._max_bytes:
            self._keep(key, conversion)
            self._shared_set(key, conversion)
        return conversion

    def _keep(self, key: bytes, conversion: Conversion) -> None:
        with self._lock:
            self._kept[key] = conversion

    def _shared_get(self, key: bytes) -> Conversion | None:
        if self._shared is None:
            return None
        try:
            found = self._shared.get(key)
        except _SHARED_ERRORS as exc:
            log.warning("shared conversion cache unreadable, converting instead: %s", exc)
            return None
        return found if isinstance(found, Conversion) else None

    def _shared_set(self, key: bytes, conversion: Conversion) -> None:
        if self._shared is None:
            return
        try:
            self._shared.set(key, conversion)
        except _SHARED_ERRORS as exc:
            log.warning("shared conversion cache not written: %s", exc)
