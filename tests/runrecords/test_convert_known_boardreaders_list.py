"""known_boardreaders_list.txt → .fcl: the spec example, the real lists, and the repair rules."""

from pathlib import Path

import pytest

from app.runrecords.convert import convert_known_boardreaders_list

PREFIX = "/usr/libexec/ambient_cap_net_raw /bin/env LD_LIBRARY_PATH=$LD_LIBRARY_PATH "

# run-records.md §2.6 input and §9.3 legacy output (= project output).
SPEC_INPUT = f"""\
tpc01 sbnd-tpc01-daq -1 1
crt01 sbnd-pds04-daq -1 1 0-15 "{PREFIX}"
#wib101 sbnd-evb04-daq -1 1
component_hangs localhost
"""
SPEC_OUTPUT = f"""\
tpc01: ["sbnd-tpc01-daq", "-1", "1"]
crt01: ["sbnd-pds04-daq", "-1", "1", "0-15", "{PREFIX}" ]
component_hangs: ["localhost"]
"""


def convert(text: str) -> tuple[str, list[str]]:
    result = convert_known_boardreaders_list(text.encode())
    return result.data.decode(), result.warnings


def codes(warnings: list[str]) -> list[str]:
    return [warning.split(": ")[1] for warning in warnings]


def test_spec_example() -> None:
    assert convert(SPEC_INPUT) == (SPEC_OUTPUT, [])


def test_sbnd_list_reports_only_the_repeated_label(testdata: Path) -> None:
    path = testdata / "sbndaq/sbn-nd/DAQInterface/known_boardreaders_list"
    result = convert_known_boardreaders_list(path.read_bytes())
    lines = result.data.decode().splitlines()
    labels = [
        line.split()[0]
        for line in path.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert [line.split(":")[0] for line in lines] == labels
    assert 'pmtx01: ["sbnd-pds03-daq", "-1", "1", "0-15"]' in lines
    assert codes(result.warnings) == ["duplicate_key"]
    assert "'pmtx01'" in result.warnings[0]


def test_reference_list_tabs_and_one_host_lines(testdata: Path) -> None:
    path = testdata / "artdaq_daqinterface/docs/known_boardreaders_list_example"
    result = convert_known_boardreaders_list(path.read_bytes())
    lines = result.data.decode().splitlines()
    assert 'component_hangs: ["localhost"]' in lines
    assert 'component_subsystem_2: ["localhost", "-1", "2"]' in lines
    assert result.warnings == []


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("crt-east sbnd-crt01 -1 1", 'crt_east: ["sbnd-crt01", "-1", "1"]'),
        (
            'tpc01 h -1 1 0-15 "/usr/bin/taskset -c 0-15',
            r'tpc01: ["h", "-1", "1", "0-15", "\"/usr/bin/taskset -c 0-15"]',
        ),
        ("tpc01 C:\\x -1", r'tpc01: ["C:\\x", "-1"]'),
        ("tpc01 hôte -1", 'tpc01: ["h.te", "-1"]'),
        ('tpc01 h "bad \\d escape"', r'tpc01: ["h", "bad \\d escape" ]'),
    ],
)
def test_invalid_elements_are_repaired(line: str, expected: str) -> None:
    output, warnings = convert(line + "\n")
    assert output == expected + "\n"
    assert warnings
    assert set(codes(warnings)) <= {"key_repaired", "value_repaired"}


def test_quote_opened_inside_a_token_ends_it() -> None:
    output, warnings = convert('tpc01 h pre"a b"post\n')
    assert output == r'tpc01: ["h", "pre\"a b\"", "post"]' + "\n"
    assert codes(warnings) == ["value_repaired"]


def test_one_token_line_is_dropped_and_reported() -> None:
    output, warnings = convert("tpc01\ntpc02 h\n")
    assert output == 'tpc02: ["h"]\n'
    assert codes(warnings) == ["line_dropped"]
    assert warnings[0].startswith("known_boardreaders_list.txt:1: ")


def test_trailing_comment_becomes_values() -> None:
    assert convert("tpc01 h -1 1 # spare\n") == (
        'tpc01: ["h", "-1", "1", "#", "spare"]\n',
        [],
    )
