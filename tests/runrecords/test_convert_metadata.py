"""metadata.txt → metadata.fcl: the spec's legacy examples byte for byte, and each repair rule."""

import pytest

from app.runrecords.convert import convert_metadata

# run-records.md §2.3, run 17512 after STOP; "␣" marks a trailing space that is part of the file.
METADATA_17512 = """\
Config name: Physics_General_thr390_Overlays00015
Component #0: crt01
Component #1: pmt01
Component #2: ptb01
Component #3: tpc01
Component #4: tpc02
DAQInterface directory: sbnd-evb01-daq.fnal.gov:/home/nfs/sbnd/DAQ_DevAreas/DAQ_2024-09-30/DAQInterface
DAQInterface logfile: sbnd-evb01-daq.fnal.gov:/daq/log/DAQInterface/DAQInterface_partition1.log

# Two possible sets of fields provided below for code info, depending on if a git repo was available:␣
# <git commit hash> <LoCs added on top of commit> <LoCs removed on top of commit> <git commit comment> <git commit time> <git branch> <BuildInfo build time (if available)> <BuildInfo version (if available)>
# <package version> <BuildInfo build time (if available)> <BuildInfo version (if available)>

DAQInterface commit/version: v3_13_00 "time from BuildInfo undetermined" "version from BuildInfo undetermined"

artdaq commit/version: v3_13_02 "30-Sep-2024 16:01:02 UTC" "v3_13_02"

sbndaq commit/version: 5c1f0e9a7d3b 0 3 "Merge pull request #412 from SBNSoftware/feature/pmt" "Mon Sep 30 10:12:13 2024 -0500" "develop" "30-Sep-2024 16:01:02 UTC" "v1_10_02"


process management method: direct


process manager logfiles:␣
/daq/log/pmt/launch_attempt_sbnd-evb01-daq_sbnd_partition1

boardreader logfiles:␣
sbnd-crt01-daq.fnal.gov:/daq/log/crt01-sbnd-crt01-daq-11100/crt01-20241001190244.log
sbnd-tpc01-daq.fnal.gov:/daq/log/tpc01-sbnd-tpc01-daq-11103/tpc01-20241001190244.log

eventbuilder logfiles:␣
sbnd-evb01-daq.fnal.gov:/daq/log/EventBuilder1-sbnd-evb01-daq-11105/EventBuilder1-20241001190245.log

datalogger logfiles:␣

dispatcher logfiles:␣
sbnd-evb01-daq.fnal.gov:/daq/log/Dispatcher1-sbnd-evb01-daq-6027/Dispatcher1-20241001190245.log

routingmanager logfiles:␣

DAQInterface start time: Tue Oct  1 19:03:15 UTC 2024

DAQInterface stop time: Tue Oct  1 20:47:02 UTC 2024
""".replace("␣", " ")  # noqa: E501

# run-records.md §9.1, legacy output (= project output) for METADATA_17512.
METADATA_17512_FCL = """\
config_name: "Physics_General_thr390_Overlays00015"
components: ["crt01", "pmt01", "ptb01", "tpc01", "tpc02"]
DAQInterface_directory: "sbnd-evb01-daq.fnal.gov:/home/nfs/sbnd/DAQ_DevAreas/DAQ_2024-09-30/DAQInterface"
DAQInterface_logfile: "sbnd-evb01-daq.fnal.gov:/daq/log/DAQInterface/DAQInterface_partition1.log"
# Two possible sets of fields provided below for code info, depending on if a git repo was available:␣
# <git commit hash> <LoCs added on top of commit> <LoCs removed on top of commit> <git commit comment> <git commit time> <git branch> <BuildInfo build time (if available)> <BuildInfo version (if available)>
# <package version> <BuildInfo build time (if available)> <BuildInfo version (if available)>
DAQInterface_commit_or_version: "v3_13_00  time from BuildInfo undetermined   version from BuildInfo undetermined "
artdaq_commit_or_version: "v3_13_02  30-Sep-2024 16:01:02 UTC   v3_13_02 "
sbndaq_commit_or_version: "5c1f0e9a7d3b 0 3  Merge pull request #412 from SBNSoftware/feature/pmt   Mon Sep 30 10:12:13 2024 -0500   develop   30-Sep-2024 16:01:02 UTC   v1_10_02 "
process_management_method: "direct"

process_manager_logfiles: ["/daq/log/pmt/launch_attempt_sbnd-evb01-daq_sbnd_partition1"]

boardreader_logfiles: ["sbnd-crt01-daq.fnal.gov:/daq/log/crt01-sbnd-crt01-daq-11100/crt01-20241001190244.log", "sbnd-tpc01-daq.fnal.gov:/daq/log/tpc01-sbnd-tpc01-daq-11103/tpc01-20241001190244.log"]

eventbuilder_logfiles: ["sbnd-evb01-daq.fnal.gov:/daq/log/EventBuilder1-sbnd-evb01-daq-11105/EventBuilder1-20241001190245.log"]

datalogger_logfiles: []

dispatcher_logfiles: ["sbnd-evb01-daq.fnal.gov:/daq/log/Dispatcher1-sbnd-evb01-daq-6027/Dispatcher1-20241001190245.log"]

routingmanager_logfiles: []
daqinterface_start_time: "Tue Oct  1 19:03:15 UTC 2024"
daqinterface_stop_time: "Tue Oct  1 20:47:02 UTC 2024"
""".replace("␣", " ")  # noqa: E501

BEFORE_START = METADATA_17512.split("\nDAQInterface start time:")[0]


def convert(text: str) -> tuple[str, list[str]]:
    result = convert_metadata(text.encode())
    return result.data.decode(), result.warnings


def codes(warnings: list[str]) -> list[str]:
    return [warning.split(": ")[1] for warning in warnings]


def test_complete_record_matches_legacy_output_without_warnings() -> None:
    assert convert(METADATA_17512) == (METADATA_17512_FCL, [])


def test_crlf_and_lone_cr_read_as_newlines() -> None:
    assert convert(METADATA_17512.replace("\n", "\r\n"))[0] == METADATA_17512_FCL
    assert convert(METADATA_17512.replace("\n", "\r"))[0] == METADATA_17512_FCL


def test_record_before_start_gets_routingmanager_section_flushed() -> None:
    assert BEFORE_START.endswith("routingmanager logfiles: \n")
    output, warnings = convert(BEFORE_START)
    legacy = METADATA_17512_FCL.split("\n\nroutingmanager_logfiles")[0] + "\n"
    assert output == legacy + "\nroutingmanager_logfiles: []\n"
    assert codes(warnings) == ["eof_section_flushed"]
    assert "routingmanager_logfiles" in warnings[0]


def test_open_dispatcher_section_at_eof_is_legacy_behaviour() -> None:
    text = "dispatcher logfiles: \nh:/d.log\n"
    assert convert(text) == ('\ndispatcher_logfiles: ["h:/d.log"]\n', [])


def test_open_component_list_at_eof_is_flushed() -> None:
    output, warnings = convert("Config name: standard\nComponent #0: tpc01\nComponent #1: tpc02\n")
    assert output == 'config_name: "standard"\ncomponents: ["tpc01", "tpc02"]\n'
    assert codes(warnings) == ["eof_section_flushed"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Total events (approx): 5", "total_events__approx_: 5"),
        ("2nd shifter: Bob", '_2nd_shifter: "Bob"'),
        ("Beam.intensity: 5e12", 'Beam_intensity: "5e12"'),
        ('Shift crew: "Alice" "Bob"', r'Shift_crew: "\"Alice\" \"Bob\""'),
        ("Note: .", 'Note: "."'),
        ("Trigger (GeV): [1 2]", 'Trigger__GeV_: "[1 2]"'),
        (
            'sbndaq commit/version: 5c1f0e9a7d3b 0 3 "Fix PMT timing – café build" "develop"',
            'sbndaq_commit_or_version: "5c1f0e9a7d3b 0 3  Fix PMT timing . caf. build   develop "',
        ),
        (
            'sbndaq commit/version: 5c1f0e9a7d3b 0 3 "Use \\d+ regex" "develop"',
            'sbndaq_commit_or_version: "5c1f0e9a7d3b 0 3  Use \\\\d+ regex   develop "',
        ),
    ],
)
def test_invalid_legacy_elements_are_repaired_and_reported(line: str, expected: str) -> None:
    output, warnings = convert(line + "\n")
    assert output == expected + "\n"
    assert warnings
    assert all(w.startswith("metadata.txt:1: ") for w in warnings)
    assert set(codes(warnings)) <= {"key_repaired", "value_repaired"}


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Total events: 5", "total_events: 5"),
        ("Run type: physics", 'Run_type: "physics"'),
        ('Shift crew: "Alice"', 'Shift_crew: "Alice"'),
        ("Trigger mask: [1, 2]", "Trigger_mask: [1, 2]"),
        ("pmt logfile: /daq/log/pmt/*.log", 'pmt_logfiles_wildcard: "/daq/log/pmt/*.log"'),
        ('Quote: say "hi"', r'Quote: "say \"hi\""'),
        (
            "DAQInterface start time: Tue Oct  1 19:03:15 UTC 2024",
            'daqinterface_start_time: "Tue Oct  1 19:03:15 UTC 2024"',
        ),
    ],
)
def test_valid_legacy_elements_are_kept_byte_for_byte(line: str, expected: str) -> None:
    assert convert(line + "\n") == (expected + "\n", [])


def test_items_with_quote_backslash_or_non_ascii_are_escaped() -> None:
    text = 'Component #0: tpc"1\nComponent #1: tpc\\2\nComponent #2: tpcé\n\n'
    output, warnings = convert(text)
    assert output == 'components: ["tpc\\"1", "tpc\\\\2", "tpc."]\n'
    assert codes(warnings) == ["value_repaired"] * 3
    assert [w.split(":")[1] for w in warnings] == ["1", "2", "3"]


def test_log_line_with_spaces_keeps_first_token_and_reports_the_rest() -> None:
    output, warnings = convert("boardreader logfiles: \nhost:/a b.log\n\n")
    assert output == '\nboardreader_logfiles: ["host:/a"]\n'
    assert codes(warnings) == ["line_dropped"]
    assert warnings[0].startswith("metadata.txt:2: ")


def test_line_without_colon_is_dropped_and_reported() -> None:
    output, warnings = convert("just some words\nRun type: x\n")
    assert output == 'Run_type: "x"\n'
    assert codes(warnings) == ["line_dropped"]


def test_include_comment_gets_a_space() -> None:
    output, warnings = convert('#include "other.fcl"\n  # indented comment\n')
    assert output == '# include "other.fcl"\n  # indented comment\n'
    assert codes(warnings) == ["comment_repaired"]


def test_repeated_config_name_and_stop_lines_are_kept_and_reported() -> None:
    text = (
        "Config name: a\nConfig name: b\n\nDAQInterface stop time: x\n\nDAQInterface stop time: y\n"
    )
    output, warnings = convert(text)
    assert output == (
        'config_name: "a"\nconfig_name: "b"\n'
        'daqinterface_stop_time: "x"\ndaqinterface_stop_time: "y"\n'
    )
    assert codes(warnings) == ["duplicate_key", "duplicate_key"]


def test_undecodable_bytes_become_dots_and_are_counted() -> None:
    result = convert_metadata(b"Operator: caf\xe9\xff\n# note \xfe\n")
    assert result.data == b'Operator: "caf.."\n# note .\n'
    assert result.warnings[0] == (
        "metadata.txt: undecodable_bytes: 3 byte(s) are not valid UTF-8; "
        "each is read as one non-ASCII character"
    )


def test_empty_input_gives_empty_output() -> None:
    assert convert("") == ("", [])
