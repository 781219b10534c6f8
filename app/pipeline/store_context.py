"""What the import stage needs from the settings alone, so that worker processes can build it."""

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from app.config import Settings
from app.pipeline.conversion_cache import ConversionCache
from app.pipeline.conversions import ReusedConversions
from app.runrecords.convert.selection import parse_fhiclize_generate
from app.stores.artdaqdb.backend import ArtdaqStore
from app.stores.artdaqdb.store import open_configured_store


@dataclass
class StoreContext:
    """What the import needs from the settings alone: source records and the store (no ledger),
    so import worker processes can build their own."""

    settings: Settings
    shared_conversions: Path | None = field(default=None, kw_only=True)

    @cached_property
    def generate(self) -> frozenset[str]:
        """Which conversions and generated files the legacy `fhiclize_generate` enables."""
        return parse_fhiclize_generate(self.settings.fhiclize_generate)

    @cached_property
    def conversion_cache(self) -> ConversionCache:
        """Conversions of files already seen, by content (runs repeat their configuration), and
        those of the other import processes when they share a directory."""
        megabytes = self.settings.pipeline.conversion_cache_mb
        return ConversionCache(megabytes * 1_000_000, self.shared_conversions)

    @cached_property
    def converter(self) -> ReusedConversions:
        """The store's FHiCL converter, reusing the import stage's validation parse."""
        return ReusedConversions()

    @cached_property
    def store(self) -> ArtdaqStore:
        """The configured artdaq_database backend."""
        staging = self.settings.pipeline.staging_dir
        assert staging is not None  # derived from app.work_dir when not set
        return open_configured_store(
            self.settings.artdaq_db, staging=staging, converter=self.converter
        )

    def run_dir(self, run: int) -> Path:
        """The run's record directory."""
        return self.settings.source_files.run_records_dir / str(run)

    def schema_path(self) -> Path:
        """`schema.fcl` of the configured `fcl_conf_dir`, stored with every run."""
        return self.settings.artdaq_db.fcl_conf_dir / "schema.fcl"
