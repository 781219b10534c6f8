"""settings.txt → settings.fcl: the spec example, the real SBND file, and the repair rules."""

from pathlib import Path

import pytest

from app.runrecords.convert import convert_settings

# run-records.md §9.4 input and legacy output (= project output).
SPEC_INPUT = """\
log_directory: /daq/log
package_hashes_to_save: [ artdaq, artdaq_core, artdaq_mfextensions, sbndaq-artdaq-core, sbndaq ]
max_configurations_to_list: 20
boardreader timeout: 600
use_messageviewer: true

#boardreader_priorities_on_start: wib* mbb02 tpc* ntb01 ptb01
boardreader_priorities_on_start: mbb02 wib* tpc* ntb01 ptb01* pmt* spectdc .*
advanced_memory_usage: True
transfer_plugin_to_use: TCPSocket
"""
SPEC_OUTPUT = """\
log_directory: "/daq/log"
package_hashes_to_save: [ artdaq, artdaq_core, artdaq_mfextensions, sbndaq_artdaq_core, sbndaq ]
max_configurations_to_list: 20
boardreader_timeout: 600
use_messageviewer: true
boardreader_priorities_on_start: "mbb02 wib* tpc* ntb01 ptb01* pmt* spectdc .*"
advanced_memory_usage: true
transfer_plugin_to_use: "TCPSocket"
"""


def convert(text: str) -> tuple[str, list[str]]:
    result = convert_settings(text.encode())
    return result.data.decode(), result.warnings


def codes(warnings: list[str]) -> list[str]:
    return [warning.split(": ")[1] for warning in warnings]


def test_spec_example() -> None:
    assert convert(SPEC_INPUT) == (SPEC_OUTPUT, [])


def test_sbnd_settings_file(testdata: Path) -> None:
    path = testdata / "sbndaq/sbn-nd/DAQInterface/user_settings"
    result = convert_settings(path.read_bytes())
    lines = result.data.decode().splitlines()
    assert result.warnings == []
    assert lines[2] == (
        "package_hashes_to_save: [ artdaq, artdaq_core, artdaq_mfextensions, artdaq_utilities,"
        " wibtools, sbndaq_artdaq_core, sbndaq_artdaq, sbndaq ]"
    )
    assert 'boardreader_priorities_on_stop: "spectdc pmt* ptb01* ntb01 tpc* wib* mbb02"' in lines
    assert lines[-1] == 'transfer_plugin_to_use: "TCPSocket"'


def test_reference_settings_example(testdata: Path) -> None:
    path = testdata / "artdaq_daqinterface/docs/settings_example"
    source_keys = [
        line.split(":")[0]
        for line in path.read_text().splitlines()
        if ":" in line and not line.strip().startswith("#")
    ]
    result = convert_settings(path.read_bytes())
    assert len(result.data.decode().splitlines()) == len(source_keys)
    assert result.warnings == []


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            'package_hashes_to_save: [ "my pkg", other/pkg ]',
            'package_hashes_to_save: [ "my pkg", "other/pkg" ]',
        ),
        ("pattern: \\d+", r'pattern: "\\d+"'),
        ("windows_path: C:\\temp\\", r'windows_path: "C:\\temp."'),
        ("dot: .", 'dot: "."'),
        ('quoted: "a" "b"', r'quoted: "\"a\" \"b\""'),
        ("user's note: x", 'user_s_note: "x"'),
        ("list: [ a, '', b ]", 'list: [ a, "", b ]'),
    ],
)
def test_invalid_elements_are_repaired(line: str, expected: str) -> None:
    output, warnings = convert(line + "\n")
    assert output == expected + "\n"
    assert warnings
    assert set(codes(warnings)) <= {"key_repaired", "value_repaired"}


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("cores: [ 0-15, -1, 1.5 ]", "cores: [ 0_15, _1, 1.5 ]"),
        ("empty: []", "empty: [  ]"),
        ("flag: FALSE", "flag: false"),
        ("ratio: 0.25", "ratio: 0.25"),
        ("a.b (c)/d#e: 1", "a_b_c_d_e: 1"),
    ],
)
def test_valid_legacy_elements_are_kept(line: str, expected: str) -> None:
    assert convert(line + "\n") == (expected + "\n", [])


def test_list_without_closing_bracket_loses_a_character_and_is_reported() -> None:
    output, warnings = convert("package_hashes_to_save: [ artdaq, sbndaq\n")
    assert output == "package_hashes_to_save: [ artdaq, sbnda ]\n"
    assert codes(warnings) == ["value_repaired"]


def test_line_without_colon_is_dropped_and_reported() -> None:
    output, warnings = convert("no colon\nk: 1\n")
    assert output == "k: 1\n"
    assert codes(warnings) == ["line_dropped"]
    assert warnings[0].startswith("settings.txt:1: ")


def test_warnings_of_a_damaged_file_are_capped_with_a_count() -> None:
    result = convert_settings(b"".join(b"garbage line %d\n" % n for n in range(250)))
    assert result.data == b""
    assert len(result.warnings) == 101
    assert result.warnings[0].startswith("settings.txt:1: line_dropped: ")
    assert result.warnings[-1] == "settings.txt: 150 more warning(s) not listed"
