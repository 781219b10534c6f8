"""Database URIs (artdaqdb.md §1): roots, `${VAR}` expansion, `_archive` warning, redaction."""

from pathlib import PurePosixPath

import pytest

from app.config import ArtdaqDbSection
from app.stores.artdaqdb.filesystem import FilesystemStore
from app.stores.artdaqdb.store import open_configured_store
from app.stores.artdaqdb.tools import ToolsStore
from app.stores.artdaqdb.uri import UriError, archive_name_warning, database_name, filesystem_root


def test_filesystem_root_follows_the_cxx_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARTDAQ_DATABASE_DATADIR", "/daq/database")
    uri = "filesystemdb://${ARTDAQ_DATABASE_DATADIR}/filesystemdb/sbnd_db_archive/"
    assert filesystem_root(uri) == PurePosixPath("/daq/database/filesystemdb/sbnd_db_archive")
    monkeypatch.delenv("ARTDAQ_DATABASE_DATADIR")
    with pytest.raises(UriError, match="absolute path"):
        filesystem_root(uri)
    with pytest.raises(UriError, match="not a filesystemdb"):
        filesystem_root("mongodb://h/x")


def test_archive_suffix_warning_and_redaction() -> None:
    assert archive_name_warning("filesystemdb:///x/filesystemdb/test_db_archive") is None
    assert database_name("mongodb://h:27017/icarus_db_archive?replicaSet=rs0") == (
        "icarus_db_archive"
    )
    warning = archive_name_warning("mongodb://user:topsecret@h:27017/icarus_db?replicaSet=rs0")
    assert warning and "icarus_db" in warning and "topsecret" not in warning
    with pytest.raises(UriError, match=r"\*\*\*") as error:
        database_name("mongodb://user:topsecret@h:27017")
    assert "topsecret" not in str(error.value)


def test_configured_store_picks_the_backend(tmp_path) -> None:
    section = ArtdaqDbSection(
        database_uri=f"filesystemdb://{tmp_path}/a_archive", fcl_conf_dir=tmp_path
    )
    assert isinstance(open_configured_store(section, staging=tmp_path), FilesystemStore)
    tools = ArtdaqDbSection(
        database_uri="mongodb://u:p@h/a_archive",
        fcl_conf_dir=tmp_path,
        use_tools=True,
        remote_host="daq01",
        tools_timeout_seconds=7,
        ssh_strict_host_key_checking=False,
    )
    store = open_configured_store(tools, staging=tmp_path)
    assert isinstance(store, ToolsStore)
    assert (store.runner.remote_host, store.runner.timeout) == ("daq01", 7)
    assert store.runner.strict_host_key_checking is False
    assert store.runner.ssh_command("true")[:4] == ["ssh", "-o", "BatchMode=yes", "-o"]
    assert "StrictHostKeyChecking=no" in store.runner.ssh_command("true")
