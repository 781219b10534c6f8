"""Helpers several test modules share: free loopback ports, a minimal config.yaml, and apps
started on the test ledger."""

import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(root: Path, db_url: str) -> Path:
    path = root / "config.yaml"
    path.write_text(
        f"""
app:
  work_dir: {root}/work
source_files:
  run_records_dir: {root}/records
artdaq_db:
  database_uri: filesystemdb://{root}/db_archive
  fcl_conf_dir: {root}/conf
ucon_db:
  server_url: http://127.0.0.1:9/app
  folder_name: f
  object_name: configuration
  writer_user: writer
  writer_password: do-not-show-me
database:
  url: "{db_url}"
"""
    )
    return path


@contextmanager
def started_apps(settings_for: Callable[..., Settings]) -> Iterator[Callable[..., TestClient]]:
    """A starter of apps (lifespan: migrations; no background work) with
    `settings_for(**options)`; every app it started is stopped when the block ends."""
    with ExitStack() as stack:
        yield lambda **options: stack.enter_context(
            TestClient(create_app(settings_for(**options), background=False))
        )
