"""What the stages share while the pipeline runs: settings, ledger, stores, limits."""

import os
import socket
import threading
import uuid
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy.engine import Engine

from app.pipeline.import_processes import ImportProcesses
from app.pipeline.ledger import RetryPolicy
from app.pipeline.store_context import StoreContext
from app.stores.ucondb.client import UconDBClient


def worker_id() -> str:
    """A lease owner name that says which host and process hold a row."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class PipelineContext(StoreContext):
    """Built once per process (service or CLI command); shared by every worker thread."""

    engine: Engine
    owner: str
    stop: threading.Event = field(default_factory=threading.Event)

    @cached_property
    def import_processes(self) -> ImportProcesses | None:
        """The import workers' processes, when `pipeline.import_in_processes` asks for them."""
        pipeline = self.settings.pipeline
        if not pipeline.import_in_processes:
            return None
        assert pipeline.import_workers is not None
        return ImportProcesses(self.settings, pipeline.import_workers)

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

    @cached_property
    def packing_slot(self) -> threading.Lock:
        """One migration at a time packs (holding a run's exported files and its blob together), so
        n migrate workers hold at most n + 1 records' worth, not 2n; exports still overlap."""
        return threading.Lock()

    def close(self) -> None:
        """Release network clients and worker processes."""
        if "ucondb" in self.__dict__:
            self.ucondb.close()
        if self.__dict__.get("import_processes") is not None:
            self.import_processes.close()
