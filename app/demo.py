"""The demo set-up: sample records, a schema, a legacy-format config.yaml, the UconDB stand-in.

Everything lives under one directory so the demo is self-contained and repeatable.
"""

from pathlib import Path

from app.runrecords.sample import write_sample_records
from app.ucondb_server.app import DEFAULT_PREFIX

DEMO_USER = "demo-writer"
DEMO_FOLDER = "run_records"

# The artdaq_database schema maps process FHiCL names to collections; this one covers the
# process names the sample generator uses (BoardReaders, EventBuilders, DataLoggers, …).
DEMO_SCHEMA = """\
artdaq_processes: [
  { collection: BoardReaders pattern: '(.*/)((tpc|pmt|crt|ptb|wib|mbb|spec)\\d*)(\\.fcl$)' },
  { collection: EventBuilders pattern: '(.*/)(EventBuilder\\d*)(\\.fcl$)' },
  { collection: DataLoggers pattern: '(.*/)(DataLogger\\d*)(\\.fcl$)' },
  { collection: Dispatchers pattern: '(.*/)(Dispatcher\\d*)(\\.fcl$)' },
  { collection: RoutingManagers pattern: '(.*/)(RoutingManager\\d*)(\\.fcl$)' }
]
"""


def demo_config(root: Path, *, password: str, ucondb_port: int, port: int) -> str:
    """A legacy-format config.yaml for the demo, with the service's own sections."""
    return f"""\
# Written by `rra demo`: a legacy-format config.yaml plus the service's own sections.
app:
  work_dir: "{root}/work"
  log_level: "INFO"
source_files:
  run_records_dir: "{root}/run_records"
artdaq_db:
  database_uri: "filesystemdb://{root}/db_archive"
  fcl_conf_dir: "{root}/conf"
  use_tools: false
ucon_db:
  server_url: "http://127.0.0.1:{ucondb_port}{DEFAULT_PREFIX}"
  folder_name: "{DEMO_FOLDER}"
  object_name: "configuration"
  writer_user: "{DEMO_USER}"
  writer_password: "{password}"
service:
  host: "127.0.0.1"
  port: {port}
scanner:
  settle_seconds: 5
schedule:
  pipeline_interval_seconds: 10
"""


def prepare_demo(root: Path, *, runs: int, password: str, ucondb_port: int, port: int) -> Path:
    """Create (or reuse) the demo directory; returns the path of its config.yaml."""
    root = root.resolve()
    records = root / "run_records"
    if not records.exists():
        write_sample_records(records, runs=runs, running=1)
    conf = root / "conf"
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "schema.fcl").write_text(DEMO_SCHEMA, encoding="ascii")
    config = root / "config.yaml"
    config.write_text(
        demo_config(root, password=password, ucondb_port=ucondb_port, port=port), encoding="utf-8"
    )
    return config


def running_runs(records: Path) -> list[int]:
    """Sample runs still running (a start line, no stop line): the ones an operator can end."""
    found = []
    for entry in sorted(records.iterdir()) if records.is_dir() else []:
        metadata = entry / "metadata.txt"
        if entry.name.isdigit() and metadata.is_file():
            text = metadata.read_bytes()
            if b"DAQInterface start time:" in text and b"DAQInterface stop time:" not in text:
                found.append(int(entry.name))
    return found
