"""Input files of blob.md §3 (run 17512, CLI-tools export layout), as the export returns them."""

import pytest

CONFIG_DIR = "Physics_General_thr390_Overlays"


@pytest.fixture
def vector_files() -> list[tuple[str, bytes]]:
    """Export-relative paths and raw bytes, in directory-listing (not blob) order."""
    return [
        (
            "schema.fcl",
            b'run_history: [\n   {\n      collection: "RunHistory"\n'
            b'      pattern: "(.*/)(.*)(\\\\.fcl$)"\n   }\n]\n',
        ),
        (
            f"{CONFIG_DIR}/EventBuilder1.fcl",
            b"daq: {\n   event_builder: {\n      expected_fragments_per_event: 5\n   }\n}\n",
        ),
        (
            f"{CONFIG_DIR}/RunHistory.fcl",
            b'run_number: 17512\n\nconfig_name: "Physics_General_thr390_Overlays00015"\n\n'
            b'components: ["crt01", "tpc01"]\n\n',
        ),
        (
            f"{CONFIG_DIR}/RunHistory2.fcl",
            b'DAQInterface_start_time: "Tue Oct  1 19:03:15 UTC 2024"\n'
            b'DAQInterface_stop_time: "Tue Oct  1 20:47:02 UTC 2024"',
        ),
        (
            f"{CONFIG_DIR}/boot.fcl",
            b'DAQ_setup_script: "/home/nfs/sbnd/DAQ_DevAreas/DAQ_2024-09-30/setup_sbndaq.sh"\n'
            b"debug_level: 4\n",
        ),
        (
            f"{CONFIG_DIR}/crt01.fcl",
            b'daq: {\n   fragment_receiver: {\n      generator: "CRTFragGen"\n   }\n}\n',
        ),
        (
            f"{CONFIG_DIR}/metadata.fcl",
            b'config_name: "Physics_General_thr390_Overlays00015"\n'
            b'components: ["crt01", "tpc01"]\n',
        ),
        (
            f"{CONFIG_DIR}/tpc01.fcl",
            b"daq: {\n   fragment_receiver: {\n"
            b'      generator: "NevisTPC2StreamNUandSNXMIT"\n   }\n}\n',
        ),
    ]
