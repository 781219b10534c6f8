"""What the stages share while the pipeline runs: settings, ledger, stores, limits."""

import os
import socket
import threading
import uuid
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from sqlalchemy.engine import Engine

from app.config import Settings
from app.pipeline.conversions import ReusedConversions
from app.pipeline.ledger import RetryPolicy
from app.runrecords.convert.selection import parse_fhiclize_generate
from app.stores.artdaqdb.backend import ArtdaqStore
from app.stores.artdaqdb.store import open_configured_store
from app.stores.ucondb.client import UconDBClient


def worker_id() -> str:
    """A lease owner name that says which host and process hold a row."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class PipelineContext:
    """Built once per process (service or CLI command); shared by every worker thread."""

    settings: Settings
    engine: Engine
    owner: str
    stop: threading.Event = field(default_factory=threading.Event)

    @cached_property
    def policy(self) -> RetryPolicy:
        """Attempt budget and backoff from the settings."""
        pipeline = self.settings.pipeline
        assert pipeline.max_attempts is not None and pipeline.backoff_base_seconds is not None
        return RetryPolicy(
            max_attempts=pipeline.max_attempts,
            base_seconds=pipeline.backoff_base_seconds,
            max_seconds=pipeline.backoff_max_seconds,
            jitter=pipeline.backoff_jitter,
        )

    @cached_property
    def generate(self) -> frozenset[str]:
        """Which conversions and generated files the legacy `fhiclize_generate` enables."""
        return parse_fhiclize_generate(self.settings.fhiclize_generate)

    @cached_property
    def converter(self) -> ReusedConversions:
        """The store's FHiCL converter, reusing the import stage's validation parse."""
        return ReusedConversions()

    @cached_property
    def store(self) -> ArtdaqStore:
        """The configured artdaq_database backend."""
        return open_configured_store(self.settings.artdaq_db, converter=self.converter)

    @cached_property
    def ucondb(self) -> UconDBClient:
        """The UconDB client (uploads serialised inside it, reads concurrent)."""
        ucon = self.settings.ucon_db
        return UconDBClient(
            ucon.server_url,
            ucon.folder_name,
            ucon.object_name,
            user=ucon.writer_user,
            password=ucon.writer_password,
            timeout_seconds=ucon.timeout_seconds,
            connect_timeout_seconds=ucon.connect_timeout_seconds,
            ca_bundle=ucon.ca_bundle,
            stop=self.stop,
        )

    @cached_property
    def upload_slots(self) -> threading.BoundedSemaphore:
        """Concurrent UconDB uploads allowed (the real server serialises them)."""
        return threading.BoundedSemaphore(self.settings.pipeline.ucondb_upload_concurrency)

    def run_dir(self, run: int) -> Path:
        """The run's record directory."""
        return self.settings.source_files.run_records_dir / str(run)

    def schema_path(self) -> Path:
        """`schema.fcl` of the configured `fcl_conf_dir`, stored with every run."""
        return self.settings.artdaq_db.fcl_conf_dir / "schema.fcl"

    def close(self) -> None:
        """Release network clients."""
        if "ucondb" in self.__dict__:
            self.ucondb.close()
