"""environment.txt → environment.fcl: flat NAME: "value" lines and the repair rules."""

import pytest

from app.runrecords.convert import convert_environment

# run-records.md §2.8 input and §9.6 legacy output (= project output).
SPEC_INPUT = """\
export DAQINTERFACE_FHICL_DIRECTORY=IGNORED
export DAQINTERFACE_LOGFILE=/daq/log/DAQInterface/DAQInterface_partition1.log
export DAQINTERFACE_PARTITION_NUMBER=1
export DAQINTERFACE_PROCESS_MANAGEMENT_METHOD=direct
export DAQINTERFACE_SETTINGS=/home/nfs/sbnd/DAQ_DevAreas/DAQ_2024-09-30/DAQInterface/user_settings
"""
SPEC_OUTPUT = """\
DAQINTERFACE_FHICL_DIRECTORY: "IGNORED"
DAQINTERFACE_LOGFILE: "/daq/log/DAQInterface/DAQInterface_partition1.log"
DAQINTERFACE_PARTITION_NUMBER: "1"
DAQINTERFACE_PROCESS_MANAGEMENT_METHOD: "direct"
DAQINTERFACE_SETTINGS: "/home/nfs/sbnd/DAQ_DevAreas/DAQ_2024-09-30/DAQInterface/user_settings"
"""


def convert(text: str) -> tuple[str, list[str]]:
    result = convert_environment(text.encode())
    return result.data.decode(), result.warnings


def codes(warnings: list[str]) -> list[str]:
    return [warning.split(": ")[1] for warning in warnings]


def test_spec_example() -> None:
    assert convert(SPEC_INPUT) == (SPEC_OUTPUT, [])


@pytest.mark.parametrize(
    ("line", "expected", "code"),
    [
        ("export DAQINTERFACE_PS1=\\u@\\h", r'DAQINTERFACE_PS1: "\\u@\\h"', "value_repaired"),
        ("export DAQINTERFACE_X=C:\\tmp\\", r'DAQINTERFACE_X: "C:\\tmp."', "value_repaired"),
        ("export DAQINTERFACE_X=a\x1bb", 'DAQINTERFACE_X: "a.b"', "value_repaired"),
        ("export DAQINTERFACE_X=café", 'DAQINTERFACE_X: "caf."', "non_ascii_replaced"),
        ("export DAQINTERFACE_X='quoted'", 'DAQINTERFACE_X: "quoted"', "quotes_stripped"),
    ],
)
def test_changed_values_are_reported(line: str, expected: str, code: str) -> None:
    output, warnings = convert(line + "\n")
    assert output == expected + "\n"
    assert codes(warnings) == [code]


def test_inner_quotes_are_escaped_and_valid_escapes_kept() -> None:
    assert convert('export DAQINTERFACE_X=say "hi"\\n\n') == (
        'DAQINTERFACE_X: "say \\"hi\\"\\n"\n',
        [],
    )


def test_non_export_lines_are_dropped_and_reported_without_value() -> None:
    output, warnings = convert("# comment\n\nDAQINTERFACE_TOKEN=abc123\nexport A=1\n")
    assert output == 'A: "1"\n'
    assert codes(warnings) == ["line_dropped"]
    assert warnings[0].startswith("environment.txt:3: ")
    assert "abc123" not in warnings[0]
