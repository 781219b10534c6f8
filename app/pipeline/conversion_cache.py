"""Runs of one configuration carry byte-identical FHiCL files, so each distinct file is parsed
and converted once and later runs reuse the result (conversion depends on the bytes alone)."""

import hashlib
import threading

from cachetools import LRUCache

from app.stores.artdaqdb.conversion import Conversion
from app.stores.artdaqdb.convert import convert_source


def _packed_size(conversion: Conversion) -> int:
    return conversion.packed_size


class ConversionCache:
    """`convert_source` remembered by the sha256 of the source, least recently used first out
    once the kept (compressed) texts exceed `max_bytes` (0 keeps nothing). Failed parses are
    not kept: their message names the run."""

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._kept: LRUCache[bytes, Conversion] = LRUCache(
            maxsize=max(max_bytes, 1), getsizeof=_packed_size
        )
        self._lock = threading.Lock()

    def __call__(self, source: bytes, name: str) -> Conversion:
        key = hashlib.sha256(source).digest()
        with self._lock:
            known = self._kept.get(key)
        if known is not None:
            return known
        conversion = convert_source(source, name)
        if conversion.parse_error is None and conversion.packed_size <= self._max_bytes:
            with self._lock:
                self._kept[key] = conversion
        return conversion
