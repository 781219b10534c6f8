"""Fixtures for the artdaq_database store tests: database roots and run file sets."""

from pathlib import Path

import pytest
from adb_helpers import sbnd_run_files

from app.stores.artdaqdb.filesystem import FilesystemStore
from app.stores.artdaqdb.store import open_store


@pytest.fixture
def db_uri(tmp_path: Path) -> str:
    """A fresh filesystemdb URI (the root does not exist yet)."""
    return f"filesystemdb://{tmp_path}/test_db_archive"


@pytest.fixture
def db_root(db_uri: str) -> Path:
    """The root directory of `db_uri`."""
    return Path(db_uri.removeprefix("filesystemdb://"))


@pytest.fixture
def store(db_uri: str) -> FilesystemStore:
    """The project's filesystemdb backend on a fresh database."""
    built = open_store(db_uri)
    assert isinstance(built, FilesystemStore)
    return built


@pytest.fixture
def sbnd_files(testdata: Path) -> dict[str, bytes]:
    """A realistic run: ~20 SBND process FHiCL files, metadata and schema."""
    return sbnd_run_files(testdata)
