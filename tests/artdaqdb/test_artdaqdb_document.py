"""Stored records: §3.1 keys, deterministic oids, the raw block and the parse-error placeholder."""

import base64
import hashlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.fhicl.pairs import Pairs
from app.stores.artdaqdb.convert import PARSE_ERROR_KEY, convert_source
from app.stores.artdaqdb.dialect import dumps, loads
from app.stores.artdaqdb.document import (
    RAW_MARKER,
    build_record,
    object_id,
    random_object_id,
    raw_block,
    read_raw_block,
)
from app.stores.artdaqdb.naming import (
    InvalidNameError,
    check_config_name,
    check_entity,
    check_run,
    next_update_version,
    resolve_configuration,
    update_rank,
)
from app.stores.artdaqdb.timestamps import is_timestamp

TOP_LEVEL_KEYS = [
    "document",
    "comments",
    "origin",
    "version",
    "entities",
    "configurations",
    "changelog",
    "bookkeeping",
    "_id",
    "collection",
    "aliases",
    "runs",
    "attachments",
    "configtype",
]
RUNHISTORY2 = (
    b'DAQInterface_start_time: "Tue Oct  1 19:03:15 UTC 2024"\n'
    b'DAQInterface_stop_time: "Tue Oct  1 20:03:15 UTC 2024"\n'
)


def _build(source: bytes, entity: str = "RunHistory2", version: str = "12500/standardv1") -> Pairs:
    return build_record(
        source,
        converter=convert_source,
        collection="RunHistory",
        configuration="12500/standard",
        version=version,
        entity=entity,
        run="12500",
    ).record


def test_object_id_follows_the_documented_derivation() -> None:
    key = "archiver-oid-v1\nRunHistory\n12500/standard\n12500/standard\nboot"
    assert (
        object_id("RunHistory", "12500/standard", "12500/standard", "boot")
        == (hashlib.sha256(key.encode()).hexdigest()[:24])
    )
    assert object_id("RunHistory", "12500/standard", "12500/standardv1", "boot") != object_id(
        "RunHistory", "12500/standard", "12500/standard", "boot"
    )
    assert len(random_object_id()) == 24 and random_object_id() != random_object_id()


@given(st.binary(max_size=2048))
def test_raw_block_round_trips_any_bytes(data: bytes) -> None:
    block = raw_block(data)
    assert block[0] == RAW_MARKER and block[1] == f"size:{len(data)}"
    record = Pairs([("origin", Pairs([("rawdata", block)]))])
    assert read_raw_block(loads(dumps(record))).data == data


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda b: b[:3], "four strings"),
        (lambda b: [b[0], b[2], b[1], b[3]], "out of order"),
        (lambda b: [*b[:3], "base64:***"], "base64"),
        (lambda b: [b[0], "size:1", *b[2:]], "bytes"),
        (lambda b: [*b[:3], "base64:" + base64.b64encode(b"other").decode()], "bytes|sha256"),
        (lambda b: [b[0], b[1], "sha256:" + "0" * 64, b[3]], "sha256"),
    ],
)
def test_damaged_raw_block_reads_as_absent_with_a_reason(damage, problem: str) -> None:
    record = Pairs([("origin", Pairs([("rawdata", damage(raw_block(b"abc")))]))])
    raw = read_raw_block(record)
    assert raw.data is None
    assert raw.problem is not None and any(word in raw.problem for word in problem.split("|"))


def test_record_from_cxx_has_no_raw_block_and_no_problem() -> None:
    record = Pairs([("origin", Pairs([("rawdata", [])]))])
    assert read_raw_block(record).data is None and read_raw_block(record).problem is None


def test_runhistory2_record_matches_the_documented_example() -> None:
    record = _build(RUNHISTORY2)
    assert list(record.keys()) == TOP_LEVEL_KEYS
    main = record.get("document").get("data").get("main")
    assert main == Pairs(
        [
            ("DAQInterface_start_time", "Tue Oct  1 19:03:15 UTC 2024"),
            ("DAQInterface_stop_time", "Tue Oct  1 20:03:15 UTC 2024"),
        ]
    )
    children = record.get("document").get("metadata").get("main").get("children")
    assert [node.get("type") for _, node in children] == ["string_doublequoted"] * 2
    assert record.get("comments") == [Pairs([("linenum", 0), ("value", "No comments")])]
    origin = record.get("origin")
    assert origin.get("format") == "fhicl" and origin.get("source") == "fhicl_to_json"
    assert origin.get("name") == "RunHistory2"
    assert read_raw_block(record).data == RUNHISTORY2
    assert record.get("version") == "12500/standardv1"
    assert record.get("configurations")[0].get("name") == "12500/standard"
    assert record.get("runs")[0].get("name") == "12500"
    assert record.get("entities")[0].get("name") == "RunHistory2"
    assert record.get("_id") == Pairs(
        [("$oid", object_id("RunHistory", "12500/standard", "12500/standardv1", "RunHistory2"))]
    )
    stamps = [
        origin.get("timestamp"),
        origin.get("created"),
        record.get("bookkeeping").get("created"),
        *(record.get(key)[0].get("assigned") for key in ("entities", "configurations", "runs")),
    ]
    assert all(is_timestamp(stamp) for stamp in stamps)
    assert record.get("configtype") == "notprovided" and record.get("changelog") == "notprovided"
    assert loads(dumps(record)) == record


def test_unparsable_file_gets_the_placeholder_and_keeps_its_bytes() -> None:
    source = b'#include "../crt_feb_standard.fcl"<\n\xe9t\xe9: 1\n'
    record = _build(source, entity="feb149", version="12500/standard")
    main = record.get("document").get("data").get("main")
    assert list(main.keys()) == [PARSE_ERROR_KEY]
    message = main.get(PARSE_ERROR_KEY)
    assert message and message.isascii() and "\n" not in message
    node = record.get("document").get("metadata").get("main").get("children").get(PARSE_ERROR_KEY)
    assert node.get("type") == "string_doublequoted"
    assert read_raw_block(record).data == source
    dumps(record)


def test_non_ascii_comments_are_replaced_and_flagged() -> None:
    source = "# caf\u00e9\nlabel: x # \u2603\n".encode() + b"# \xff\n"
    conversion = convert_source(source, "x")
    assert conversion.parse_error is None and conversion.ascii_replaced
    assert [item.get("value") for item in conversion.comments] == ["# caf.", "# .", "# ."]
    node = conversion.document.get("metadata").get("main").get("children").get("label")
    assert (node.get("comment"), node.get("annotation")) == ("# caf.", "# .")


def test_real_process_file_builds_a_writable_record(testdata: Path) -> None:
    path = testdata / "sbndaq/sbn-nd/DAQInterface/configs/standard/EventBuilder3_nustream.fcl"
    record = _build(path.read_bytes(), entity=path.stem, version="12500/standard")
    assert read_raw_block(loads(dumps(record))).data == path.read_bytes()
    assert record.get("document").get("data").get("main")


@pytest.mark.parametrize("name", ["", "a b", "x/y", 'q"', "w*", "caf\u00e9", "tab\t"])
def test_bad_configuration_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidNameError):
        check_config_name(name)


@pytest.mark.parametrize("entity", ["", "../boot", "a/b", ".hidden", "sp ace"])
def test_bad_entity_names_are_refused(entity: str) -> None:
    with pytest.raises(InvalidNameError):
        check_entity(entity)


@pytest.mark.parametrize("run", [0, -1, 2_147_483_648, True, "12"])
def test_bad_run_numbers_are_refused(run: object) -> None:
    with pytest.raises(InvalidNameError):
        check_run(run)  # type: ignore[arg-type]


def test_update_versions_follow_the_project_rule() -> None:
    base = "12500/standard"
    assert next_update_version(base, [base]) == f"{base}v1"
    assert next_update_version(base, [base, f"{base}v1", f"{base}v9"]) == f"{base}v10"
    assert next_update_version(base, [f"{base}v1v1", f"{base}v2"]) == f"{base}v3"
    assert update_rank(base, base) == ()
    assert update_rank(f"{base}v10", base) > update_rank(f"{base}v9", base)
    assert update_rank(f"{base}v1v1", base) > update_rank(f"{base}v1", base)
    assert update_rank("12500/standardx", base) is None
    assert update_rank("12500/other", base) is None


def test_legacy_spaced_names_resolve_to_the_stored_name() -> None:
    stored = ["17512/BootDAQ standard_CRTnorthwall"]
    assert resolve_configuration("17512/BootDAQ_standard_CRTnorthwall", stored) == stored[0]
    assert resolve_configuration("17512/BootDAQ", stored) is None
    assert resolve_configuration("17512/BootDAQ", ["17512/BootDAQ", "17512/BootDAQ2"]) == (
        "17512/BootDAQ"
    )


def test_the_stored_text_is_the_record_with_the_conversion_in_place() -> None:
    source = b"# a comment\nname: value # note\nnested: { list: [1, 'two', 3.5] }\n"
    built = build_record(
        source,
        converter=convert_source,
        collection="RunHistory",
        configuration="12500/standard",
        version="12500/standard",
        entity="boot",
        run="12500",
    )
    conversion = convert_source(source, "boot")
    whole = Pairs(
        [("document", conversion.document), ("comments", conversion.comments)]
        + [(key, value) for key, value in loads(built.text) if key not in ("document", "comments")]
    )
    assert built.text == dumps(whole)
    assert [key for key, _ in built.record] == TOP_LEVEL_KEYS
    assert built.record.get("document").get("data").get("main").get("name") == "value"
