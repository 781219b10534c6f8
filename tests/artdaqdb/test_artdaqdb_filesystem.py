"""The filesystemdb backend: layout, idempotent archive, updates, export and verification."""

import base64
import hashlib
import json
import re
from pathlib import Path

import pytest
from adb_helpers import expected_of, small_run_files, tree_state

from app.fhicl.pairs import Pairs
from app.stores.artdaqdb import fs_write
from app.stores.artdaqdb.dialect import dumps, loads
from app.stores.artdaqdb.document import object_id, random_object_id, read_raw_block
from app.stores.artdaqdb.errors import ArtdaqStoreError
from app.stores.artdaqdb.fsio import LOCK_NAME, TEMP_PREFIX
from app.stores.artdaqdb.index import EMPTY_INDEX_TEXT, invariant_problems, parse_index
from app.stores.artdaqdb.layout import read_record
from app.stores.artdaqdb.results import EntityStatus, ExpectedFile, FileSource, Outcome
from app.stores.artdaqdb.store import open_store
from app.stores.artdaqdb.uri import UriError

RH2 = b'DAQInterface_start_time: "Tue Oct  1 19:03:15 UTC 2024"\nDAQInterface_stop_time: "b"\n'
OID = re.compile(r"[0-9a-f]{24}\.json")


def _index(root: Path, collection: str) -> dict:
    return parse_index((root / collection / "index.json").read_text())


def _record(root: Path, collection: str, oid: str) -> Pairs:
    return loads((root / collection / f"{oid}.json").read_text())


def _drop_from_index(root: Path, collection: str, oid: str) -> None:
    """Lose a document's index entries, as a concurrent C++ writer may make happen."""
    index = _index(root, collection)
    index["ouid"].remove(oid)
    for table, entries in index.items():
        if table != "ouid":
            for key in list(entries):
                entries[key] = [value for value in entries[key] if value != oid]
                if not entries[key]:
                    del entries[key]
    (root / collection / "index.json").write_text(json.dumps(index))


def _write_foreign(root: Path, record: Pairs, *, raw: bool = False) -> str:
    """Store a copy of `record` under a random oid, as a C++ tool would (no raw block)."""
    oid = random_object_id()
    copy = loads(dumps(record))
    if not raw:
        copy.get("origin")[:] = [item for item in copy.get("origin") if item[0] != "rawdata"]
        copy.get("origin").append(("rawdata", []))
    for index, (key, _) in enumerate(copy):
        if key == "_id":
            copy[index] = ("_id", Pairs([("$oid", oid)]))
    collection = copy.get("collection")
    (root / collection / f"{oid}.json").write_text(dumps(copy))
    index = _index(root, collection)
    index["ouid"] = sorted([*index["ouid"], oid])
    for table, key in (
        ("version", copy.get("version")),
        ("configurations.name", copy.get("configurations")[0].get("name")),
        ("entities.name", copy.get("entities")[0].get("name")),
        ("runs.name", copy.get("runs")[0].get("name")),
    ):
        index[table][key] = sorted([*index[table].get(key, []), oid])
    (root / collection / "index.json").write_text(json.dumps(index))
    return oid


def test_archive_writes_the_cxx_layout(store, db_root: Path, sbnd_files) -> None:
    result = store.archive_run(12500, "standard", sbnd_files)
    assert result.outcome is Outcome.INSERTED and result.ok
    assert {entity.status for entity in result.entities} == {EntityStatus.WRITTEN}
    assert sorted(path.name for path in db_root.iterdir()) == [
        LOCK_NAME,
        "RunHistory",
        "SystemLayout",
        "SystemMetadata",
    ]
    for collection in ("RunHistory", "SystemLayout", "SystemMetadata"):
        names = [path.name for path in (db_root / collection).iterdir()]
        assert "index.json" in names
        assert all(OID.fullmatch(name) for name in names if name != "index.json")
    assert (db_root / "SystemMetadata" / "index.json").read_text() == EMPTY_INDEX_TEXT
    meta_doc = next(p for p in (db_root / "SystemMetadata").iterdir() if p.name != "index.json")
    meta = loads(meta_doc.read_text())
    assert meta.get("document").get("database_format") == 3
    assert meta.get("_id").get("$oid") == meta_doc.stem
    assert "\n" not in meta_doc.read_text()
    for entity in result.entities:
        record = _record(db_root, entity.collection, entity.oid)
        assert record.get("_id").get("$oid") == entity.oid
        assert record.get("collection") == entity.collection
        assert entity.oid == object_id(
            entity.collection, "12500/standard", "12500/standard", entity.entity
        )
    assert [e.collection for e in result.entities if e.entity == "schema"] == ["SystemLayout"]
    for collection in ("RunHistory", "SystemLayout"):
        index = _index(db_root, collection)
        assert invariant_problems(index) == []
    run_history = _index(db_root, "RunHistory")
    assert len(run_history["runs.name"]["12500"]) == len(sbnd_files) - 1
    assert list(run_history["configurations.name"]) == ["12500/standard"]


def test_reimport_of_identical_content_changes_no_byte_and_no_mtime(
    store, db_root: Path, sbnd_files
) -> None:
    store.archive_run(12500, "standard", sbnd_files)
    before = tree_state(db_root)
    again = store.archive_run(12500, "standard", sbnd_files)
    assert again.outcome is Outcome.UNCHANGED
    assert {entity.status for entity in again.entities} == {EntityStatus.UNCHANGED}
    assert tree_state(db_root) == before


def test_export_returns_the_exact_bytes_of_real_sbnd_files(store, sbnd_files) -> None:
    store.archive_run(12500, "standard", sbnd_files)
    exported = store.export_run(12500, "standard")
    assert exported.files == {f"{entity}.fcl": data for entity, data in sbnd_files.items()}
    assert {entry.source for entry in exported.manifest} == {FileSource.RAW}
    assert [entry.file_name for entry in exported.manifest] == sorted(exported.files)
    expected = expected_of(sbnd_files)
    for entry in exported.manifest:
        assert (entry.size, entry.sha256) == expected[entry.entity][:2]
        assert entry.version == "12500/standard" and entry.oid
    assert exported.warnings == ()


OTHER_BYTES = b"not the file"


def _raw_block_of(payload: bytes) -> list[str]:
    """A well-formed raw block (§11.1) holding `payload`."""
    return [
        "archiver-raw-v1",
        f"size:{len(payload)}",
        f"sha256:{hashlib.sha256(payload).hexdigest()}",
        f"base64:{base64.b64encode(payload).decode()}",
    ]


def test_export_takes_the_records_raw_block_not_one_its_document_holds(store) -> None:
    block = ", ".join(f'"{item}"' for item in _raw_block_of(OTHER_BYTES))
    tricky = f"a: 1\norigin: {{ format: fhicl rawdata: [{block}] }}\n".encode()
    files = {**small_run_files(), "tricky": tricky}
    store.archive_run(8, "standard", files)
    assert store.export_run(8, "standard").files["tricky.fcl"] == tricky


def test_a_raw_block_nested_after_the_records_own_is_not_taken_for_it(store, db_root: Path) -> None:
    files = small_run_files()
    result = store.archive_run(9, "standard", files)
    oid = next(entity.oid for entity in result.entities if entity.entity == "boot")
    record = _record(db_root, "RunHistory", oid)
    nested = Pairs([("a", "1"), ("origin", Pairs([("rawdata", _raw_block_of(OTHER_BYTES))]))])
    document = Pairs([*record.get("document"), ("x", nested)])
    moved = Pairs([*(pair for pair in record if pair[0] != "document"), ("document", document)])
    (db_root / "RunHistory" / f"{oid}.json").write_text(dumps(moved))
    assert store.export_run(9, "standard").files["boot.fcl"] == files["boot"]


def test_unparsable_real_file_is_stored_and_exported_byte_exact(store, testdata: Path) -> None:
    crt = testdata / "sbndaq/sbn-nd/DAQInterface/configs/standard/CRTnorthwall/feb149.fcl"
    files = {**small_run_files(), "feb149": crt.read_bytes()}
    result = store.archive_run(7, "standard", files)
    feb = next(entity for entity in result.entities if entity.entity == "feb149")
    assert result.outcome is Outcome.INSERTED and feb.parse_error
    assert store.export_run(7, "standard").files["feb149.fcl"] == crt.read_bytes()


def test_partial_import_is_completed(store, db_root: Path, sbnd_files) -> None:
    first = store.archive_run(12500, "standard", sbnd_files)
    gone = [entity for entity in first.entities if entity.entity in ("schema", "metadata")]
    for entity in gone:
        (db_root / entity.collection / f"{entity.oid}.json").unlink()
    for collection in ("RunHistory", "SystemLayout"):
        (db_root / collection / "index.json").write_text(EMPTY_INDEX_TEXT)
    unindexed_oid = next(e.oid for e in first.entities if e.entity == "DataLogger1")
    again = store.archive_run(12500, "standard", sbnd_files)
    assert again.outcome is Outcome.COMPLETED
    statuses = {entity.entity: entity.status for entity in again.entities}
    assert statuses["schema"] is statuses["metadata"] is EntityStatus.WRITTEN
    assert {statuses[e] for e in statuses if e not in ("schema", "metadata")} == {
        EntityStatus.REINDEXED
    }
    assert unindexed_oid in _index(db_root, "RunHistory")["ouid"]
    verdict = store.verify_run(12500, "standard", expected_of(sbnd_files))
    assert verdict.complete and not verdict.unindexed
    assert store.archive_run(12500, "standard", sbnd_files).outcome is Outcome.UNCHANGED


def test_different_content_is_a_conflict_and_writes_nothing(store, db_root: Path) -> None:
    files = small_run_files()
    store.archive_run(10, "standard", files)
    before = tree_state(db_root)
    changed = {**files, "boot": b"daqinterface_settings: {\n  a: 2\n}\n", "extra": b"x: 1\n"}
    result = store.archive_run(10, "standard", changed)
    assert result.outcome is Outcome.CONFLICT and not result.ok
    statuses = {entity.entity: entity.status for entity in result.entities}
    assert statuses == {
        "boot": EntityStatus.CONFLICT,
        "metadata": EntityStatus.UNCHANGED,
        "schema": EntityStatus.UNCHANGED,
        "extra": EntityStatus.NOT_WRITTEN,
    }
    assert "sha256" in next(e.detail for e in result.entities if e.entity == "boot")
    # "extra" was staged (a temporary file in the root, which C++ tools ignore) and removed.
    assert tree_state(db_root) == before
    assert not list(db_root.glob(f"{TEMP_PREFIX}*"))


def test_a_run_under_another_configuration_is_foreign(store, db_root: Path) -> None:
    files = small_run_files()
    store.archive_run(11, "BootDAQ", files)
    before = tree_state(db_root)
    result = store.archive_run(11, "Physics00015", files)
    assert result.outcome is Outcome.FOREIGN_CONFIGURATION
    assert result.foreign == ("11/BootDAQ",)
    assert tree_state(db_root) == before
    assert store.archive_run(110, "Physics00015", files).outcome is Outcome.INSERTED


def test_legacy_spaced_name_is_reused_verbatim(store, db_root: Path) -> None:
    files = small_run_files()
    legacy = store.archive_run(12, "BootDAQ_standard_CRTnorthwall", files)
    record = _record(db_root, "RunHistory", legacy.entities[0].oid)
    spaced = loads(
        dumps(record).replace(
            "12/BootDAQ_standard_CRTnorthwall", "12/BootDAQ standard_CRTnorthwall"
        )
    )
    for collection in ("RunHistory", "SystemLayout"):
        for path in (db_root / collection).glob("*.json"):
            path.unlink()
        (db_root / collection / "index.json").write_text(EMPTY_INDEX_TEXT)
    _write_foreign(db_root, spaced, raw=True)
    result = store.archive_run(12, "BootDAQ_standard_CRTnorthwall", files)
    assert result.outcome is Outcome.COMPLETED
    assert result.configuration == "12/BootDAQ standard_CRTnorthwall"
    assert store.run_configurations().by_run[12] == ("12/BootDAQ standard_CRTnorthwall",)
    update = store.update_run_stop(12, "BootDAQ standard_CRTnorthwall", RH2, files["schema"])
    assert (update.outcome, update.version) == (
        Outcome.INSERTED,
        "12/BootDAQ standard_CRTnorthwallv1",
    )
    exported = store.export_run(12, "BootDAQ_standard_CRTnorthwall")
    assert exported.configuration == "12/BootDAQ standard_CRTnorthwall"
    assert exported.files["RunHistory2.fcl"] == RH2
    expected = {**expected_of(files), **expected_of({"RunHistory2": RH2})}
    assert store.verify_run(12, "BootDAQ standard_CRTnorthwall", expected).complete
    with pytest.raises(ValueError, match="spaces"):
        store.archive_run(12, "BootDAQ standard_CRTnorthwall", files)


def test_document_written_by_a_cxx_tool_is_compared_by_data(store, db_root: Path) -> None:
    files = small_run_files()
    first = store.archive_run(13, "standard", files)
    boot = next(entity for entity in first.entities if entity.entity == "boot")
    record = _record(db_root, "RunHistory", boot.oid)
    (db_root / "RunHistory" / f"{boot.oid}.json").unlink()
    _drop_from_index(db_root, "RunHistory", boot.oid)
    foreign = _write_foreign(db_root, record)
    result = store.archive_run(13, "standard", files)
    assert result.outcome is Outcome.UNCHANGED
    assert next(e.oid for e in result.entities if e.entity == "boot") == foreign
    changed = {**files, "boot": b"daqinterface_settings: {\n  a: 3\n}\n"}
    conflict = store.archive_run(13, "standard", changed)
    assert conflict.outcome is Outcome.CONFLICT
    assert "document.data" in next(e.detail for e in conflict.entities if e.entity == "boot")
    exported = store.export_run(13, "standard")
    boot_entry = next(entry for entry in exported.manifest if entry.entity == "boot")
    assert boot_entry.source is FileSource.REGENERATED and boot_entry.oid == foreign
    assert any("regenerated" in warning for warning in exported.warnings)
    assert b"a: 1" in exported.files["boot.fcl"]
    verdict = store.verify_run(13, "standard", expected_of(files))
    assert verdict.complete and [issue.entity for issue in verdict.unverifiable] == ["boot"]


def test_two_documents_for_one_key_are_a_duplicate(store, db_root: Path) -> None:
    files = small_run_files()
    first = store.archive_run(14, "standard", files)
    boot = next(entity for entity in first.entities if entity.entity == "boot")
    _write_foreign(db_root, _record(db_root, "RunHistory", boot.oid))
    result = store.archive_run(14, "standard", files)
    assert result.outcome is Outcome.DUPLICATE and not result.ok
    verdict = store.verify_run(14, "standard", expected_of(files))
    assert [issue.entity for issue in verdict.duplicate] == ["boot"] and not verdict.complete
    exported = store.export_run(14, "standard")
    assert exported.files["boot.fcl"] == files["boot"]
    assert any("identical duplicates" in warning for warning in exported.warnings)


def test_stored_entities_outside_the_file_set_are_reported_as_extra(store) -> None:
    files = small_run_files()
    store.archive_run(15, "standard", {**files, "tpc01": b"a: 1\n"})
    result = store.archive_run(15, "standard", files)
    assert result.outcome is Outcome.UNCHANGED
    assert [document.entity for document in result.extra] == ["tpc01"]
    verdict = store.verify_run(15, "standard", expected_of(files))
    assert [issue.entity for issue in verdict.extra] == ["tpc01"] and verdict.complete


def test_runhistory2_updates_get_numbered_versions(store, db_root: Path) -> None:
    files = small_run_files()
    store.archive_run(16, "standard", files)
    first = store.update_run_stop(16, "standard", RH2, files["schema"])
    assert (first.outcome, first.version) == (Outcome.INSERTED, "16/standardv1")
    assert {(e.entity, e.collection) for e in first.entities} == {
        ("RunHistory2", "RunHistory"),
        ("schema", "SystemLayout"),
    }
    before = tree_state(db_root)
    same = store.update_run_stop(16, "standard", RH2, files["schema"])
    assert (same.outcome, same.version) == (Outcome.UNCHANGED, "16/standardv1")
    assert tree_state(db_root) == before
    second = store.update_run_stop(16, "standard", RH2 + b"# later\n", files["schema"])
    assert (second.outcome, second.version) == (Outcome.INSERTED, "16/standardv2")
    layout = _index(db_root, "SystemLayout")
    assert sorted(v for v in layout["version"] if v.startswith("16/")) == [
        "16/standard",
        "16/standardv1",
        "16/standardv2",
    ]
    exported = store.export_run(16, "standard")
    assert exported.files["RunHistory2.fcl"] == RH2 + b"# later\n"
    versions = {entry.entity: entry.version for entry in exported.manifest}
    assert versions["RunHistory2"] == versions["schema"] == "16/standardv2"
    assert versions["boot"] == "16/standard"
    expected = {**expected_of(files), **expected_of({"RunHistory2": RH2 + b"# later\n"})}
    assert store.verify_run(16, "standard", expected).complete
    stale = {**expected_of(files), **expected_of({"RunHistory2": RH2})}
    assert [issue.entity for issue in store.verify_run(16, "standard", stale).mismatch] == [
        "RunHistory2"
    ]


def test_a_stopped_run_is_archived_and_updated_under_one_lock_each_index_written_once(
    store, db_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = small_run_files()
    written: list[str] = []
    real = fs_write.update_index

    def counting(root: Path, collection: str, entries: list) -> None:
        written.append(collection)
        real(root, collection, entries)

    monkeypatch.setattr(fs_write, "update_index", counting)
    archived, updated = store.archive_stopped_run(18, "standard", files, RH2)
    assert (archived.outcome, archived.version) == (Outcome.INSERTED, "18/standard")
    assert updated is not None
    assert (updated.outcome, updated.version) == (Outcome.INSERTED, "18/standardv1")
    assert written == ["RunHistory", "SystemLayout"]  # the "archived" marker last
    expected = {**expected_of(files), **expected_of({"RunHistory2": RH2})}
    verdict = store.verify_run(18, "standard", expected)
    assert verdict.complete and not verdict.unindexed
    assert _index(db_root, "SystemLayout")["version"].keys() >= {"18/standard", "18/standardv1"}
    before = tree_state(db_root)
    again, same = store.archive_stopped_run(18, "standard", files, RH2)
    assert again.outcome is Outcome.UNCHANGED and same is not None
    assert (same.outcome, same.version) == (Outcome.UNCHANGED, "18/standardv1")
    assert tree_state(db_root) == before


def test_a_stopped_run_whose_archive_conflicts_gets_no_update(store, db_root: Path) -> None:
    files = small_run_files()
    store.archive_run(19, "standard", files)
    before = tree_state(db_root)
    changed = {**files, "boot": b"daqinterface_settings: {\n  a: 2\n}\n"}
    archived, updated = store.archive_stopped_run(19, "standard", changed, RH2)
    assert archived.outcome is Outcome.CONFLICT and updated is None
    assert tree_state(db_root) == before
    assert not list(db_root.glob(f"{TEMP_PREFIX}*"))


def test_a_stopped_run_archived_in_parts_earlier_is_completed(store, db_root: Path) -> None:
    files = small_run_files()
    store.archive_run(20, "standard", files)
    archived, updated = store.archive_stopped_run(20, "standard", files, RH2)
    assert archived.outcome is Outcome.UNCHANGED and updated is not None
    assert (updated.outcome, updated.version) == (Outcome.INSERTED, "20/standardv1")


def test_interrupted_update_is_completed(store, db_root: Path) -> None:
    files = small_run_files()
    store.archive_run(17, "standard", files)
    store.update_run_stop(17, "standard", RH2, files["schema"])
    schema_oid = object_id("SystemLayout", "17/standard", "17/standardv1", "schema")
    (db_root / "SystemLayout" / f"{schema_oid}.json").unlink()
    _drop_from_index(db_root, "SystemLayout", schema_oid)
    result = store.update_run_stop(17, "standard", RH2, files["schema"])
    assert (result.outcome, result.version) == (Outcome.COMPLETED, "17/standardv1")
    assert (db_root / "SystemLayout" / f"{schema_oid}.json").is_file()


def test_legacy_update_under_the_base_version_counts_as_zero(store, db_root: Path) -> None:
    files = small_run_files()
    store.archive_run(18, "standard", {**files})
    built = store.archive_run(19, "standard", {**files})
    assert built.ok
    record = _record(db_root, "RunHistory", built.entities[0].oid)
    legacy = loads(dumps(record).replace('"19/standard"', '"18/standard"').replace('"19"', '"18"'))
    legacy.get("entities")[0][0] = ("name", "RunHistory2")
    _write_foreign(db_root, legacy)
    result = store.update_run_stop(18, "standard", RH2, files["schema"])
    assert (result.outcome, result.version) == (Outcome.INSERTED, "18/standardv1")


def test_update_without_a_base_archive_is_refused(store) -> None:
    files = small_run_files()
    assert store.update_run_stop(20, "standard", RH2, files["schema"]).outcome is (
        Outcome.MISSING_BASE
    )
    store.archive_run(21, "standard", files)
    assert store.update_run_stop(21, "other", RH2, files["schema"]).outcome is (
        Outcome.FOREIGN_CONFIGURATION
    )


def test_verify_reports_missing_mismatch_and_repairs_lost_index_entries(
    store, db_root: Path, sbnd_files
) -> None:
    result = store.archive_run(12500, "standard", sbnd_files)
    oids = {entity.entity: entity for entity in result.entities}
    (db_root / "RunHistory" / f"{oids['metadata'].oid}.json").unlink()
    tampered = db_root / "SystemLayout" / f"{oids['schema'].oid}.json"
    record = loads(tampered.read_text())
    record.get("origin").get("rawdata")[3] = "base64:AAAA"
    tampered.write_text(dumps(record))
    lost = oids["boot" if "boot" in oids else sorted(oids)[0]].oid
    _drop_from_index(db_root, "RunHistory", lost)
    verdict = store.verify_run(12500, "standard", expected_of(sbnd_files))
    assert not verdict.complete
    assert [issue.entity for issue in verdict.missing] == ["metadata"]
    assert [issue.entity for issue in verdict.mismatch] == ["schema"]
    assert [issue.oid for issue in verdict.unindexed] == [lost]
    assert lost in _index(db_root, "RunHistory")["ouid"]
    assert not store.verify_run(12500, "standard", expected_of(sbnd_files)).unindexed
    expected = {**expected_of(sbnd_files), "nothere": ExpectedFile(1, "0" * 64)}
    assert "nothere" in [
        issue.entity for issue in store.verify_run(12500, "standard", expected).missing
    ]


def test_listings_come_from_the_indexes(store, db_root: Path) -> None:
    files = small_run_files()
    for run in (3, 1, 2):
        store.archive_run(run, "standard", files)
    assert store.list_runs().runs == (1, 2, 3)
    assert store.run_configurations().by_run == {
        1: ("1/standard",),
        2: ("2/standard",),
        3: ("3/standard",),
    }
    documents = store.run_documents(2)
    assert sorted((d.collection, d.entity, d.version) for d in documents) == [
        ("RunHistory", "boot", "2/standard"),
        ("RunHistory", "metadata", "2/standard"),
        ("SystemLayout", "schema", "2/standard"),
    ]
    assert store.run_documents(4) == ()


def test_missing_database_lists_nothing_and_cannot_export(tmp_path: Path) -> None:
    store = open_store(f"filesystemdb://{tmp_path}/none_archive")
    assert store.list_runs().runs == ()
    assert store.run_configurations().by_run == {}
    with pytest.raises(ArtdaqStoreError, match="none_archive"):
        store.export_run(1, "standard")


def test_bad_uris_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UriError, match=r"\*\*\*"):
        open_store("mongodb://user:secret@host:27017/x_archive")
    with pytest.raises(UriError):
        open_store("filesystemdb://relative/path")
    with pytest.raises(FileNotFoundError):
        open_store(f"filesystemdb://{tmp_path}/missing/parent_archive").archive_run(
            1, "standard", small_run_files()
        )


def test_old_cxx_test_records_are_read_tolerantly(store, db_root: Path, testdata: Path) -> None:
    store.archive_run(1, "standard", small_run_files())
    builder = testdata / "artdaq_database/test/JsonDocument/JSONDocumentBuilder"
    for path in sorted(builder.glob("*/end-state.json")):
        stored = read_record(path)
        assert stored.record.get("document") is not None
        assert read_raw_block(stored.record).data is None
        assert stored.record.get("_id").get("_oid")
    extra_data = read_record(builder / "test004" / "end-state.json")
    assert "ignored" in (extra_data.dialect_problem or "")


@pytest.mark.parametrize(
    ("source", "golden"),
    [
        ("test002/test001.src.fcl", "test004/test001.cmp.fcl"),
        ("test012/test011.src.fcl", "test014/test011.cmp.fcl"),
    ],
)
def test_cxx_written_record_exports_the_cxx_regenerated_text(
    store, db_root: Path, testdata: Path, source: str, golden: str
) -> None:
    read_write = testdata / "artdaq_database/test/ConfigurationDB/ReadWrite"
    files = {**small_run_files(), "test001": (read_write / source).read_bytes()}
    result = store.archive_run(30, "standard", files)
    oid = next(entity.oid for entity in result.entities if entity.entity == "test001")
    path = db_root / "RunHistory" / f"{oid}.json"
    record = loads(path.read_text())
    record.get("origin")[-1] = ("rawdata", [])
    path.write_text(dumps(record))
    exported = store.export_run(30, "standard")
    entry = next(entry for entry in exported.manifest if entry.entity == "test001")
    assert entry.source is FileSource.REGENERATED
    assert exported.files["test001.fcl"] == (read_write / golden).read_bytes()
