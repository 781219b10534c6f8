"""Each FHiCL file of a run is parsed once: the import stage validates by converting, and the
store, asked to convert the same bytes in the same thread, gets that conversion back."""

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from app.stores.artdaqdb.conversion import Conversion
from app.stores.artdaqdb.convert import convert_source


class ReusedConversions:
    """A store converter that returns the conversions prepared for the run being imported."""

    def __init__(self) -> None:
        self._local = threading.local()

    @contextmanager
    def prepared(self, conversions: Mapping[str, tuple[bytes, Conversion]]) -> Iterator[None]:
        """Within the block, `entity → (source, conversion)` answers this thread's calls."""
        self._local.conversions = conversions
        try:
            yield
        finally:
            self._local.conversions = None

    def __call__(self, source: bytes, entity: str) -> Conversion:
        prepared = getattr(self._local, "conversions", None) or {}
        known = prepared.get(entity)
        if known is not None and known[0] == source:
            return known[1]
        return convert_source(source, entity)
