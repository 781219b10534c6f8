"""boot.txt → boot.fcl: the SBND and reference boot files, and each legacy defect rule."""

from pathlib import Path

import pytest

from app.runrecords.convert import convert_boot

SETUP_SCRIPT = "/home/nfs/sbnd/DAQ_DevAreas/DAQ_2024-09-30/setup_sbndaq.sh"

# run-records.md §9.2: legacy output (= project output) for the SBND boot.txt of §2.2.
SBND_BOOT_FCL = f"""\
DAQ_setup_script: "{SETUP_SCRIPT}"
PMT_host: "sbnd-evb01-daq"
debug_level: 4

subsystem_settings: [
{{
id: "1"
}}
]

artdaq_process_settings: [
{{
name: "EventBuilder"
label: "EventBuilder1"
host: "sbnd-evb01-daq"
}},
{{
name: "EventBuilder"
label: "EventBuilder2"
host: "sbnd-evb02-daq"
}},
{{
name: "EventBuilder"
label: "EventBuilder3"
host: "sbnd-evb03-daq"
}},
{{
name: "Dispatcher"
label: "Dispatcher1"
host: "sbnd-evb01-daq"
port: 6027
}}
]
"""


def convert(text: str) -> tuple[str, list[str]]:
    result = convert_boot(text.encode())
    return result.data.decode(), result.warnings


def codes(warnings: list[str]) -> list[str]:
    return [warning.split(": ")[1] for warning in warnings]


def process(*lines: str) -> str:
    return "\n".join(["", "artdaq_process_settings: [", *lines, "]", ""])


def test_sbnd_boot_file_as_in_a_run_record(testdata: Path) -> None:
    raw = (testdata / "sbndaq/sbn-nd/DAQInterface/boot.txt").read_bytes()
    record = raw.replace(b"$SETUP_FILE", SETUP_SCRIPT.encode())
    result = convert_boot(record)
    assert result.data.decode() == SBND_BOOT_FCL
    assert result.warnings == []


def test_complex_subsystems_reference_file(testdata: Path) -> None:
    path = testdata / "artdaq_daqinterface/simple_test_config/complex_subsystems/boot.txt"
    result = convert_boot(path.read_bytes())
    text = result.data.decode()
    assert text.startswith(
        'DAQ_setup_script: "$yourArtdaqInstallationDir/setupARTDAQDEMO"\n'
        'PMT_host: "localhost"\ndebug_level: 4\nSubsystem_fragmentMode: "False"\n'
        '\nsubsystem_settings: [\n{\nid: "1"\ndestination: "2"\n},\n{\nid: "2"\nsource: "1"\n}\n]\n'
    )
    assert (
        '{\nname: "DataLogger"\nlabel: "DataLogger1"\nhost: "localhost"\nsubsystem: "2"\n},' in text
    )
    assert text.count("name: ") == 5
    assert result.warnings == []


def test_every_reference_boot_file_converts_without_loss(testdata: Path) -> None:
    paths = sorted((testdata / "artdaq_daqinterface").rglob("boot*.txt"))
    assert len(paths) >= 4
    for path in paths:
        result = convert_boot(path.read_bytes())
        labels = [
            line.split(":", 1)[1].strip()
            for line in path.read_text().splitlines()
            if "label:" in line and not line.lstrip().startswith("#")
        ]
        for label in labels:
            assert f'label: "{label}"' in result.data.decode(), (path, label)


def test_empty_input() -> None:
    assert convert("") == ("\nartdaq_process_settings: [\n]\n", [])


def test_plain_values_follow_legacy_quoting() -> None:
    output, warnings = convert("manage processes: true\nrate: 1.5\nname: a b\n")
    assert output == 'manage_processes: "true"\nrate: 1.5\nname: "a b"\n' + process()
    assert warnings == []


def test_invalid_key_is_repaired() -> None:
    output, warnings = convert("max-fragment-size: 100\n")
    assert output == "max_fragment_size: 100\n" + process()
    assert codes(warnings) == ["key_repaired"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"a" "b"', r'"\"a\" \"b\""'),
        ("[x y]", '"[x y]"'),
        (".", '"."'),
        ("C:\\daq\\", '"C:\\\\daq."'),
        ("café", '"caf."'),
    ],
)
def test_invalid_plain_values_are_repaired(value: str, expected: str) -> None:
    output, warnings = convert(f"setting: {value}\n")
    assert output == f"setting: {expected}\n" + process()
    assert codes(warnings) == ["value_repaired"]


def test_non_bare_port_is_quoted() -> None:
    output, warnings = convert(
        "EventBuilder host: evb01\nEventBuilder label: EB1\nEventBuilder port: ${EB_PORT}\n"
    )
    assert output == process(
        "{", 'name: "EventBuilder"', 'label: "EB1"', 'host: "evb01"', 'port: "${EB_PORT}"', "}"
    )
    assert codes(warnings) == ["value_repaired"]


def test_fields_with_quote_backslash_or_non_ascii_are_escaped() -> None:
    output, warnings = convert(
        'EventBuilder host: h"1\nEventBuilder label: EB\\1\nEventBuilder subsystem: é\n'
    )
    assert output == process(
        "{", 'name: "EventBuilder"', r'label: "EB\\1"', r'host: "h\"1"', 'subsystem: "."', "}"
    )
    assert codes(warnings) == ["value_repaired"] * 3


def test_process_without_label_leaks_into_next_block_and_is_reported() -> None:
    output, warnings = convert("EventBuilder host: evb01\n\nEventBuilder label: EB2\n")
    assert output == process("{", 'name: "EventBuilder"', 'label: "EB2"', 'host: "evb01"', "}")
    assert codes(warnings) == ["process_without_label"]
    assert warnings[0].startswith("boot.txt:1: ")


def test_process_without_label_at_end_is_reported() -> None:
    output, warnings = convert("Dispatcher host: d01\n")
    assert output == process()
    assert codes(warnings) == ["process_without_label"]


def test_blocks_without_empty_line_are_merged_and_reported() -> None:
    text = (
        "EventBuilder host: evb01\nEventBuilder label: EB1\n"
        "EventBuilder host: evb02\nEventBuilder label: EB2\n"
    )
    output, warnings = convert(text)
    assert output == process("{", 'name: "EventBuilder"', 'label: "EB2"', 'host: "evb02"', "}")
    assert codes(warnings) == ["block_merged", "block_merged"]
    assert warnings[0].startswith("boot.txt:3: ")


def test_duplicate_label_replaces_content_in_place_and_is_reported() -> None:
    text = (
        "EventBuilder host: a\nEventBuilder label: EB1\n\n"
        "Dispatcher host: d\nDispatcher label: D1\n\n"
        "EventBuilder host: b\nEventBuilder label: EB1\n"
    )
    output, warnings = convert(text)
    assert output == process(
        "{",
        'name: "EventBuilder"',
        'label: "EB1"',
        'host: "b"',
        "},",
        "{",
        'name: "Dispatcher"',
        'label: "D1"',
        'host: "d"',
        "}",
    )
    assert codes(warnings) == ["duplicate_key"]
    assert "line 2" in warnings[0]


def test_hostname_key_counts_as_host() -> None:
    output, warnings = convert("DataLogger hostname: dl01\nDataLogger label: DL1\n")
    assert output == process("{", 'name: "DataLogger"', 'label: "DL1"', 'host: "dl01"', "}")
    assert warnings == []


def test_missing_host_is_written_as_not_set() -> None:
    output, _ = convert("RoutingManager label: RM1\nRoutingManager subsystem: 2\n")
    assert output == process(
        "{", 'name: "RoutingManager"', 'label: "RM1"', 'host: "not set"', 'subsystem: "2"', "}"
    )


def test_line_without_colon_is_dropped_and_reported() -> None:
    output, warnings = convert("no colon here\n")
    assert output == process()
    assert codes(warnings) == ["line_dropped"]
