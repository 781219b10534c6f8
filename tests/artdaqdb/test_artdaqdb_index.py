"""index.json: C++ semantics, invariants, corruption, rebuild (API and CLI), large listings."""

import json
from pathlib import Path

import pytest
from adb_helpers import small_run_files, tree_state
from typer.testing import CliRunner

from app.cli.application import cli
from app.fhicl.pairs import Pairs
from app.stores.artdaqdb.dialect import DialectError
from app.stores.artdaqdb.fsio import TEMP_PREFIX
from app.stores.artdaqdb.index import (
    EMPTY_INDEX_TEXT,
    IndexCorruptError,
    add_entry,
    empty_index,
    entry_for,
    invariant_problems,
    parse_index,
    render_index,
)
from app.stores.artdaqdb.rebuild import rebuild_indexes
from app.stores.artdaqdb.results import Outcome

STAMP = "2024-10-01T14:03:20.117-0500"


def _record(configuration: str, version: str, entity: str, run: str, stamp: str = STAMP) -> Pairs:
    named = [Pairs([("name", configuration), ("assigned", stamp)])]
    return Pairs(
        [
            ("version", version),
            ("configurations", named),
            ("entities", [Pairs([("name", entity), ("assigned", stamp)])]),
            ("aliases", Pairs([("active", []), ("history", [])])),
            ("runs", [Pairs([("name", run), ("assigned", stamp)])]),
        ]
    )


def test_initial_index_text_is_the_cxx_literal() -> None:
    assert EMPTY_INDEX_TEXT == (
        '{"ouid":[], "version":{},"configurations.name":{}, "entities.name":{},'
        '"aliases.active.name":{}, "runs.name":{},"configurations.assigned":{} }'
    )
    assert parse_index(EMPTY_INDEX_TEXT) == empty_index()


def test_add_document_replicates_search_index_add_document() -> None:
    index = empty_index()
    add_entry(index, entry_for("bb", _record("12500/standard", "12500/standard", "boot", "12500")))
    later = "2024-10-01T15:05:02.311-0500"
    rh2 = _record("12500/standard", "12500/standardv1", "RunHistory2", "12500", later)
    add_entry(index, entry_for("aa", rh2))
    add_entry(index, entry_for("aa", rh2))
    assert index == {
        "ouid": ["aa", "bb"],
        "version": {"12500/standard": ["bb"], "12500/standardv1": ["aa"]},
        "configurations.name": {"12500/standard": ["aa", "bb"]},
        "entities.name": {"boot": ["bb"], "RunHistory2": ["aa"]},
        "aliases.active.name": {},
        "runs.name": {"12500": ["aa", "bb"]},
        "configurations.assigned": {"12500/standard": [STAMP, later]},
    }
    assert invariant_problems(index) == []


def test_invariant_violations_are_named() -> None:
    index = empty_index()
    index["configurations.name"]["1/a"] = ["x"]
    index["entities.name"]["e"] = ["y"]
    index["configurations.assigned"]["1/b"] = ["Fri Jan 13 18:28:16 2017"]
    index["ouid"] = ["b", "a"]
    problems = "\n".join(invariant_problems(index))
    for fragment in ("no entities.name", "no configurations.assigned", "not under version"):
        assert fragment in problems
    assert "malformed assigned" in problems and "not sorted" in problems


def test_archive_rewrites_indexes_that_still_satisfy_the_invariants(store, db_root: Path) -> None:
    files = small_run_files()
    for run in range(1, 6):
        store.archive_run(run, "standard", files)
        store.update_run_stop(run, "standard", b"a: 1\n", files["schema"])
    built = {
        c: parse_index((db_root / c / "index.json").read_text())
        for c in ("RunHistory", "SystemLayout")
    }
    assert all(invariant_problems(index) == [] for index in built.values())
    report = rebuild_indexes(db_root)
    assert report.indexed == {"RunHistory": 15, "SystemLayout": 10} and report.skipped == ()
    for collection, index in built.items():
        assert parse_index((db_root / collection / "index.json").read_text()) == index


def test_corrupt_index_is_an_error_naming_the_file_and_nothing_is_written(
    store, db_root: Path
) -> None:
    files = small_run_files()
    store.archive_run(1, "standard", files)
    index_file = db_root / "RunHistory" / "index.json"
    index_file.write_text('{"ouid":["a",')
    before = tree_state(db_root)
    with pytest.raises(IndexCorruptError, match=str(index_file)):
        store.list_runs()
    with pytest.raises(IndexCorruptError, match="rebuild-index"):
        store.archive_run(2, "standard", files)
    assert tree_state(db_root) == before
    index_file.write_text('{"ouid":{}}')
    with pytest.raises(IndexCorruptError, match="'ouid' is not a JSON array"):
        store.list_runs()


def test_rebuild_index_command_repairs_a_corrupt_index(store, db_root: Path, db_uri: str) -> None:
    files = small_run_files()
    store.archive_run(1, "standard", files)
    store.archive_run(2, "standard", files)
    (db_root / "RunHistory" / "index.json").write_text("garbage")
    (db_root / f"{TEMP_PREFIX}stale.json").write_text("{}")
    result = CliRunner().invoke(cli, ["artdaqdb", "rebuild-index", "--uri", db_uri])
    assert result.exit_code == 0, result.output
    assert "RunHistory: 4 documents indexed" in result.output
    assert store.list_runs().runs == (1, 2)
    assert not list(db_root.glob(f"{TEMP_PREFIX}*"))
    assert store.archive_run(2, "standard", files).outcome is Outcome.UNCHANGED


def test_rebuild_index_reads_the_uri_from_the_configuration(
    store, db_root: Path, db_uri: str, tmp_path: Path
) -> None:
    store.archive_run(3, "standard", small_run_files())
    (db_root / "RunHistory" / "index.json").unlink()
    (db_root / "RunHistory" / "notes.txt").write_text("stray")
    config = tmp_path / "config.yaml"
    config.write_text(
        "source_files: {run_records_dir: /tmp}\n"
        f"artdaq_db: {{database_uri: '{db_uri}', fcl_conf_dir: /tmp}}\n"
        "ucon_db: {server_url: 'http://127.0.0.1:1/app', folder_name: f, object_name: o,"
        " writer_user: u, writer_password: p}\n"
    )
    result = CliRunner().invoke(cli, ["artdaqdb", "rebuild-index", "--config", str(config)])
    assert result.exit_code == 1
    assert "notes.txt: not an <oid>.json document file" in result.output
    assert store.list_runs().runs == (3,)


def test_rebuild_leaves_out_timestamps_the_cxx_listing_cannot_parse(db_root: Path) -> None:
    db_root.mkdir()
    collection = db_root / "RunHistory"
    collection.mkdir()
    old = _record("5/standard", "5/standard", "boot", "5", "Fri Jan 13 18:28:16 2017")
    (collection / ("ab" * 12 + ".json")).write_text(json.dumps({k: _plain(v) for k, v in old}))
    report = rebuild_indexes(db_root)
    assert report.indexed == {"RunHistory": 1} and "not a §3.6 timestamp" in report.warnings[0]
    index = parse_index((collection / "index.json").read_text())
    assert index["runs.name"] == {"5": ["ab" * 12]} and index["configurations.assigned"] == {}


def _plain(value: object) -> object:
    if isinstance(value, Pairs):
        return {key: _plain(item) for key, item in value}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def test_listing_100000_runs_reads_only_the_index(store, db_root: Path) -> None:
    store.archive_run(1, "standard", small_run_files())
    index = parse_index((db_root / "RunHistory" / "index.json").read_text())
    runs = range(2, 100_002)
    index["runs.name"].update({str(run): [f"{run:024x}"] for run in runs})
    index["runs.name"].update({"0": ["f" * 24], "0012": ["e" * 24], "abc": ["d" * 24]})
    (db_root / "RunHistory" / "index.json").write_text(json.dumps(index))
    listing = store.list_runs()
    assert listing.runs == (1, *runs)
    assert [anomaly.split("'")[1] for anomaly in listing.anomalies] == ["0", "0012", "abc"]


@pytest.mark.parametrize("bad", [None, True, 7, ["nested"]])
def test_index_writer_refuses_anything_but_string_lists(bad: object) -> None:
    index = empty_index()
    index["runs.name"]["1"] = ["a" * 24, bad]
    with pytest.raises(DialectError, match=r"runs\.name"):
        render_index(index)
    index = empty_index()
    index["ouid"] = ["a" * 24]
    assert render_index(index) == (
        '{"ouid":["aaaaaaaaaaaaaaaaaaaaaaaa"],"version":{},"configurations.name":{},'
        '"entities.name":{},"aliases.active.name":{},"runs.name":{},"configurations.assigned":{}}'
    )
