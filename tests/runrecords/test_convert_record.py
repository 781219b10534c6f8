"""convert_record: which files are produced (fhiclize_generate) and how warnings are gathered."""

from pathlib import Path

import pytest
from test_convert_metadata import BEFORE_START, METADATA_17512, METADATA_17512_FCL

from app.runrecords.convert import ALL_OUTPUTS, convert_record, parse_fhiclize_generate

ALL_NINE = {
    "boot",
    "metadata",
    "known_boardreaders_list",
    "settings",
    "setup",
    "environment",
    "ranks",
    "RunHistory",
    "RunHistory2",
}


def record(testdata: Path) -> dict[str, bytes]:
    sbnd = testdata / "sbndaq/sbn-nd/DAQInterface"
    return {
        "boot.txt": (sbnd / "boot.txt").read_bytes(),
        "metadata.txt": METADATA_17512.encode(),
        "known_boardreaders_list.txt": (sbnd / "known_boardreaders_list").read_bytes(),
        "settings.txt": (sbnd / "user_settings").read_bytes(),
        "setup.txt": b"source /daq/setup\n",
        "environment.txt": b"export DAQINTERFACE_PARTITION_NUMBER=1\n",
        "ranks.txt": b"host port label subsystem rank\n\nh 1 tpc01 1 0\n",
        "rc_info_start.txt": b"run: 17512\n",
        "tpc01.fcl": b"daq: {}\n",
    }


def test_default_setting_produces_all_nine(testdata: Path) -> None:
    result = convert_record(record(testdata), generate=ALL_OUTPUTS, run_number=17512)
    assert set(result.outputs) == {f"{name}.fcl" for name in ALL_NINE}
    assert result.outputs["metadata.fcl"] == METADATA_17512_FCL.encode()
    assert result.outputs["RunHistory.fcl"].startswith(b"run_number: 17512\n\n")
    assert result.warnings == [
        "known_boardreaders_list.txt:85: duplicate_key: component 'pmtx01' already defined "
        "on line 82; readers see only the last"
    ]


def test_selection_limits_outputs_and_missing_inputs_are_skipped(testdata: Path) -> None:
    files = record(testdata)
    del files["ranks.txt"]
    generate = parse_fhiclize_generate(["boot.txt", "ranks", "RunHistory2.fcl"])
    result = convert_record(files, generate=generate, run_number=17512)
    assert set(result.outputs) == {"boot.fcl", "RunHistory2.fcl"}


def test_no_run_history2_before_start(testdata: Path) -> None:
    files = record(testdata) | {"metadata.txt": BEFORE_START.encode()}
    result = convert_record(files, generate=ALL_OUTPUTS, run_number=17512)
    assert "RunHistory2.fcl" not in result.outputs
    assert "RunHistory.fcl" in result.outputs


def test_missing_metadata_is_reported_for_each_generator() -> None:
    result = convert_record({}, generate=ALL_OUTPUTS, run_number=1)
    assert result.outputs == {}
    assert result.warnings == [
        "metadata.txt: missing; RunHistory.fcl not generated",
        "metadata.txt: missing; RunHistory2.fcl not generated",
    ]


def test_undecodable_metadata_is_reported_once() -> None:
    files = {"metadata.txt": b"Config name: a\xff\n"}
    result = convert_record(files, generate=ALL_OUTPUTS, run_number=1)
    undecodable = [w for w in result.warnings if "undecodable_bytes" in w]
    assert len(undecodable) == 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ALL_NINE),
        ([], set()),
        (["boot", "metadata.txt", "RunHistory.fcl"], {"boot", "metadata", "RunHistory"}),
        ({"files": ["setup", "ranks.txt"]}, {"setup", "ranks"}),
        ({"files": []}, set()),
        ({}, set()),
        (("environment",), {"environment"}),
    ],
)
def test_parse_fhiclize_generate(value: object, expected: set[str]) -> None:
    assert parse_fhiclize_generate(value) == frozenset(expected)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (["boot", "schema"], "unknown entry 'schema'"),
        (["Boot"], "unknown entry 'Boot'"),
        (["boot.txt.txt"], "unknown entry 'boot.txt.txt'"),
        ([3], "entry 3 is not a name"),
        ("boot", "must be a list of names"),
        ({"files": None}, "fhiclize_generate.files must be a list"),
        ({"files": ["x"]}, "fhiclize_generate.files: unknown entry 'x'"),
        ({"converters": ["boot"]}, "unknown key(s) converters"),
    ],
)
def test_parse_fhiclize_generate_rejects_bad_settings(value: object, message: str) -> None:
    with pytest.raises(ValueError, match="fhiclize_generate") as error:
        parse_fhiclize_generate(value)
    assert message in str(error.value)
