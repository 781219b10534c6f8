"""RunHistory.fcl, RunHistory2.fcl and the configuration name, all read from metadata.txt."""

import pytest
from test_convert_metadata import BEFORE_START, METADATA_17512

from app.runrecords.convert import (
    config_name_from_metadata,
    generate_run_history,
    generate_run_history2,
)


def codes(warnings: list[str]) -> list[str]:
    return [warning.split(": ")[1] for warning in warnings]


def test_run_history_spec_example() -> None:
    result = generate_run_history(METADATA_17512.encode(), 17512)
    assert result.data == (
        b"run_number: 17512\n\n"
        b'config_name: "Physics_General_thr390_Overlays00015"\n\n'
        b'components: ["crt01", "pmt01", "ptb01", "tpc01", "tpc02"]\n\n'
    )
    assert result.warnings == []


def test_run_history_keeps_spaces_and_slashes_and_takes_last_config_line() -> None:
    text = b"Config name: first\nConfig name: BootDAQ standard/CRTnorthwall\n"
    assert generate_run_history(text, 7).data == (
        b'run_number: 7\n\nconfig_name: "BootDAQ standard/CRTnorthwall"\n\n'
    )


def test_run_history_without_config_or_components() -> None:
    assert generate_run_history(b"# nothing\n", 3) == (b"run_number: 3\n\n", [])


def test_run_history_escapes_invalid_values() -> None:
    result = generate_run_history('Config name: a"b\nComponent #0: tpcé\n'.encode(), 1)
    assert result.data == (b'run_number: 1\n\nconfig_name: "a\\"b"\n\ncomponents: ["tpc."]\n\n')
    assert codes(result.warnings) == ["value_repaired", "value_repaired"]
    assert all("RunHistory.fcl" in warning for warning in result.warnings)


def test_run_history2_spec_example_has_no_final_newline() -> None:
    result = generate_run_history2(METADATA_17512.encode())
    assert result is not None
    assert result.data == (
        b'DAQInterface_start_time: "Tue Oct  1 19:03:15 UTC 2024"\n'
        b'DAQInterface_stop_time: "Tue Oct  1 20:47:02 UTC 2024"'
    )
    assert result.warnings == []


def test_run_history2_absent_before_start() -> None:
    assert generate_run_history2(BEFORE_START.encode()) is None


def test_run_history2_start_only_and_repeated_lines_in_file_order() -> None:
    text = (
        b"DAQInterface stop time: s1 \n"
        b"DAQInterface start time: a\n"
        b"  DAQInterface stop time: indented is ignored\n"
        b"DAQInterface stop time: s2\n"
    )
    result = generate_run_history2(text)
    assert result is not None
    assert result.data == (
        b'DAQInterface_stop_time: "s1 "\nDAQInterface_start_time: "a"\nDAQInterface_stop_time: "s2"'
    )
    start_only = generate_run_history2(b"DAQInterface start time: x\n")
    assert start_only is not None
    assert start_only.data == b'DAQInterface_start_time: "x"'


def test_run_history2_dots_and_escapes() -> None:
    result = generate_run_history2('DAQInterface stop time: ü "q" \\\n'.encode())
    assert result is not None
    assert result.data == b'DAQInterface_stop_time: ". \\"q\\" ."'
    assert codes(result.warnings) == ["non_ascii_replaced", "value_repaired"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            b"Config name: Physics_General_thr390_Overlays00015\n",
            "Physics_General_thr390_Overlays00015",
        ),
        (b"Config name: BootDAQ standard/CRTnorthwall\n", "BootDAQ_standard_CRTnorthwall"),
        (b"Config name:   \nConfig name: second\n", "second"),
        (b"Config name: a\nConfig name: b\n", "a"),
    ],
)
def test_config_name_rule(line: bytes, expected: str) -> None:
    assert config_name_from_metadata(line) == (expected, [])


@pytest.mark.parametrize(
    "text", [b"", b"Config name:x\n", b"Config name: \n", b" Config name: a\n"]
)
def test_config_name_defaults_to_standard_with_warning(text: bytes) -> None:
    name, warnings = config_name_from_metadata(text)
    assert name == "standard"
    assert codes(warnings) == ["config_name_missing"]


def test_config_name_with_undecodable_byte() -> None:
    name, warnings = config_name_from_metadata(b"Config name: run\xff\n")
    assert name == "run."
    assert codes(warnings) == ["undecodable_bytes"]
