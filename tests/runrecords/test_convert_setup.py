"""setup.txt → setup.fcl: one string, no final newline; control characters and a final backslash."""

from app.runrecords.convert import convert_setup

# run-records.md §9.5 input and legacy output (= project output).
SPEC_INPUT = """\
#!/bin/bash
# SBND DAQ setup (sourced by DAQInterface)
source /daq/software/products/setup
setup mrb
export MRB_PROJECT=sbndaq
source /home/nfs/sbnd/DAQ_DevAreas/DAQ_2024-09-30/localProducts_sbndaq_v1_10_02_e26_prof/setup
mrbslp
export TRACE_NAME="sbndaq"
echo "DAQ area: ${MRB_TOP}"
"""
SPEC_OUTPUT = (
    'setup_script: "#!/bin/bash\\n# SBND DAQ setup (sourced by DAQInterface)\\n'
    "source /daq/software/products/setup\\nsetup mrb\\nexport MRB_PROJECT=sbndaq\\n"
    "source /home/nfs/sbnd/DAQ_DevAreas/DAQ_2024-09-30/"
    "localProducts_sbndaq_v1_10_02_e26_prof/setup\\nmrbslp\\n"
    'export TRACE_NAME=\\"sbndaq\\"\\necho \\"DAQ area: ${MRB_TOP}\\"\\n"'
)


def codes(warnings: list[str]) -> list[str]:
    return [warning.split(": ")[1] for warning in warnings]


def test_spec_example() -> None:
    result = convert_setup(SPEC_INPUT.encode())
    assert result.data.decode() == SPEC_OUTPUT
    assert result.warnings == []


def test_crlf_reads_as_lf() -> None:
    assert convert_setup(SPEC_INPUT.replace("\n", "\r\n").encode()).data.decode() == SPEC_OUTPUT


def test_tab_stays_raw() -> None:
    assert convert_setup(b"a\tb\n") == (b'setup_script: "a\tb\\n"', [])


def test_control_characters_become_dots() -> None:
    result = convert_setup(b'echo "\x1b[31mred\x1b[0m"\n\x0c\x7f')
    assert result.data == b'setup_script: "echo \\".[31mred.[0m\\"\\n.."'
    assert codes(result.warnings) == ["value_repaired"]
    assert "lines 1, 2" in result.warnings[0]


def test_final_backslash_without_newline() -> None:
    result = convert_setup(b"export X=a\\")
    assert result.data == b'setup_script: "export X=a."'
    assert codes(result.warnings) == ["value_repaired"]


def test_final_backslash_before_newline_is_valid() -> None:
    assert convert_setup(b"export X=a\\\n") == (b'setup_script: "export X=a\\\\\\n"', [])


def test_non_ascii_becomes_dots_and_is_reported() -> None:
    result = convert_setup("echo café\n".encode())
    assert result.data == b'setup_script: "echo caf.\\n"'
    assert codes(result.warnings) == ["non_ascii_replaced"]


def test_warnings_never_show_script_text() -> None:
    result = convert_setup("export PASSWORD=s3cr\u00e9t\x01\n".encode())
    assert result.warnings
    assert not any("s3cr" in warning for warning in result.warnings)


def test_empty_file() -> None:
    assert convert_setup(b"") == (b'setup_script: ""', [])
