"""One sample run record in DAQInterface's formats (run-records.md §2): the files and the copy.

A `RunPlan` fixes everything about a run; `record_files` renders its files byte for byte as
DAQInterface writes them, and `write_run` lays them down as the START copy does (read-only files,
modification times preserved from CONFIG, `metadata.txt` dated by its last append).
"""

import os
import random
import stat
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from app.runrecords.metadata import format_daq_time
from app.runrecords.sample_fhicl import artdaq_document, boardreader_document

DAQ_AREA = "/home/nfs/sbnd/DAQ_DevAreas/DAQ_2024-09-30"
DAQINTERFACE_HOST = "sbnd-evb01-daq.fnal.gov"
READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
METADATA = "metadata.txt"

SMALL_CONFIGS: dict[str, tuple[str, ...]] = {
    "Physics_General_thr390_Overlays00015": (
        *(f"tpc{i:02d}" for i in range(1, 12)),
        "ntb01",
        "ptb01",
        "pmt01",
    ),
    "BootDAQ standard/CRTnorthwall": (
        "crt01",
        "crt02",
        "crtNorthWallEastPULL",
        "crtNorthWallWestPULL",
        "crtNorthWallEastPULLcorner",
        "crtflat3_north",
        "crtflat3_east",
        "ptb01",
        "spectdc",
    ),
    "Calibration_PMT_LED00003": (*(f"pmt{i:02d}" for i in range(1, 10)), "ptb01", "spectdc"),
    "Commissioning_TPC_noise00042": (*(f"tpc{i:02d}" for i in range(1, 12)), "ntb01"),
}
LARGE_CONFIG = (
    "Physics_Full_Detector00021",
    (
        *(f"tpc{i:02d}" for i in range(1, 12)),
        *(f"wib{c}0{s}" for c in range(1, 5) for s in range(1, 7)),
        *(f"pmt{i:02d}" for i in range(1, 10)),
        *(f"pmtx{i:02d}" for i in range(1, 5)),
        *(f"crt{i:02d}" for i in range(1, 49)),
        "mbb02",
        "ntb01",
        "ptb01",
        "spectdc",
    ),
)
SMALL_ARTDAQ = (("EventBuilder", 2), ("Dispatcher", 1))
LARGE_ARTDAQ = (("EventBuilder", 6), ("DataLogger", 2), ("Dispatcher", 2))
SMALL_RECORD_BYTES = (110_000, 250_000)
LARGE_FILE_BYTES = 116_000
_PACKAGES = (
    "artdaq",
    "artdaq_core",
    "artdaq_mfextensions",
    "artdaq_utilities",
    "sbndaq",
    "sbndaq_artdaq",
    "sbndaq_artdaq_core",
    "wibtools",
)


@dataclass(frozen=True)
class RunPlan:
    """Everything one sample run's files are derived from."""

    number: int
    config: str
    boardreaders: tuple[str, ...]
    artdaq: tuple[tuple[str, int], ...]
    partition: int
    config_time: datetime
    start_time: datetime | None
    stop_times: tuple[datetime, ...]
    file_bytes: int
    method: str = "direct"


def write_run(path: Path, files: dict[str, bytes], plan: RunPlan) -> None:
    """Create a run directory like DAQInterface's START copy: files read-only, times preserved."""
    path.mkdir()
    config = plan.config_time.timestamp()
    for name, data in files.items():
        target = path / name
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(data)
        target.chmod(READ_ONLY)
        os.utime(target, (config, config))
    metadata = path / METADATA
    if metadata.exists():
        last = plan.stop_times[-1] if plan.stop_times else plan.start_time or plan.config_time
        os.utime(metadata, (last.timestamp(), last.timestamp()))
    started = (plan.start_time or plan.config_time).timestamp()
    os.utime(path, (started, started))


def append_daq(path: Path, data: bytes) -> None:
    """DAQInterface's append: make the file writable, append, make it read-only again."""
    mode = path.stat().st_mode
    path.chmod(mode | stat.S_IWUSR)
    with path.open("ab") as handle:
        handle.write(data)
    path.chmod(mode)


def record_files(plan: RunPlan) -> dict[str, bytes]:
    """All files of a run directory, in DAQInterface's formats."""
    processes = _processes(plan)
    eventbuilders = tuple(
        (rank, host) for label, host, _, rank in processes if "EventBuilder" in label
    )
    files: dict[str, bytes] = {}
    for label, host, _, rank in processes:
        role = _role(label)
        if role == "BoardReader":
            text = _boardreader(label, host, rank, eventbuilders, plan.file_bytes)
        else:
            text = _artdaq(label, role, eventbuilders, len(plan.boardreaders))
        files[f"{label}.fcl"] = text.encode()
    files["boot.txt"] = _boot(plan).encode()
    files["environment.txt"] = _environment(plan).encode()
    files["known_boardreaders_list.txt"] = _KNOWN_BOARDREADERS.encode()
    files[METADATA] = _metadata(plan, processes).encode()
    files["ranks.txt"] = _ranks(processes).encode()
    files["settings.txt"] = _SETTINGS.encode()
    files["setup.txt"] = _SETUP.encode()
    return dict(sorted(files.items()))


@cache
def _boardreader(
    label: str, host: str, rank: int, eventbuilders: tuple[tuple[int, str], ...], size: int
) -> str:
    """Same process, same document: DAQ configurations do not change from run to run."""
    return boardreader_document(label, host=host, rank=rank, eventbuilders=eventbuilders, size=size)


@cache
def _artdaq(
    label: str, role: str, eventbuilders: tuple[tuple[int, str], ...], boardreaders: int
) -> str:
    return artdaq_document(label, role=role, eventbuilders=eventbuilders, boardreaders=boardreaders)


def _processes(plan: RunPlan) -> list[tuple[str, str, int, int]]:
    """(label, host, port, rank): BoardReaders first in label order, then the artdaq processes."""
    labels = list(plan.boardreaders)
    labels += [f"{role}{i}" for role, count in plan.artdaq for i in range(1, count + 1)]
    rows = []
    for rank, label in enumerate(labels):
        port = 6027 if label.startswith("Dispatcher") else 11100 + rank
        rows.append((label, _host(label), port, rank))
    return rows


def _role(label: str) -> str:
    for role in ("EventBuilder", "DataLogger", "Dispatcher"):
        if label.startswith(role):
            return role
    return "BoardReader"


def _host(label: str) -> str:
    digits = "".join(c for c in label if c.isdigit()) or "1"
    number = int(digits[-2:]) if label.startswith(("tpc", "pmt", "crt")) else int(digits[0])
    if label.startswith("tpc"):
        return f"sbnd-tpc{number:02d}-daq"
    if label.startswith("wib"):
        return f"sbnd-wib0{number}-daq"
    if label.startswith(("pmt", "spectdc")):
        return f"sbnd-pds0{number % 4 + 1}-daq"
    if label.startswith("crt"):
        return f"sbnd-crt0{number % 4 + 1}-daq"
    if label.startswith(("ptb", "ntb", "mbb")):
        return "sbnd-tpc12-daq"
    return f"sbnd-evb0{number}-daq"


def _boot(plan: RunPlan) -> str:
    blocks = [
        f"DAQ setup script: {DAQ_AREA}/setup_sbndaq.sh\n",
        "PMT host: sbnd-evb01-daq\n",
        "# debug level can range from 0 to 3 (increasing order of verbosity)\n"
        "debug level: 4\n#manage processes: false\nSubsystem id: 1\n",
    ]
    for role, count in plan.artdaq:
        for i in range(1, count + 1):
            label = f"{role}{i}"
            block = f"{role} host: {_host(label)}\n{role} label: {label}\n"
            if role == "Dispatcher":
                block += f"{role} port: {6027 + i - 1}\n"
            blocks.append(block)
    return "\n".join(blocks) + "\n\n"


def _environment(plan: RunPlan) -> str:
    values = {
        "DAQINTERFACE_FHICL_DIRECTORY": "IGNORED",
        "DAQINTERFACE_KNOWN_BOARDREADERS_LIST": f"{DAQ_AREA}/DAQInterface/known_boardreaders_list",
        "DAQINTERFACE_LOGFILE": f"/daq/log/DAQInterface/DAQInterface_partition{plan.partition}.log",
        "DAQINTERFACE_PARTITION_NUMBER": str(plan.partition),
        "DAQINTERFACE_PROCESS_MANAGEMENT_METHOD": plan.method,
        "DAQINTERFACE_SETTINGS": f"{DAQ_AREA}/DAQInterface/user_settings",
        "DAQINTERFACE_USER_SOURCEFILE": f"{DAQ_AREA}/DAQInterface/user_sourcefile",
    }
    return "".join(f"export {name}={values[name]}\n" for name in sorted(values))


def _ranks(processes: list[tuple[str, str, int, int]]) -> str:
    header = f"{'host':<30}{'port':<10}{'label':<20}{'subsystem':<15}{'rank':<10}\n\n"
    rows = "".join(
        f"{host:<29} {port!s:<9} {label:<19} {'1':<14} {rank!s:<9}\n"
        for label, host, port, rank in processes
    )
    return header + rows


def _metadata(plan: RunPlan, processes: list[tuple[str, str, int, int]]) -> str:
    """CONFIG-time content, then the start line and the stop line(s) as START/STOP append them."""
    parts = [f"Config name: {plan.config}\n"]
    parts += [f"Component #{i}: {label}\n" for i, label in enumerate(plan.boardreaders)]
    parts.append(
        f"DAQInterface directory: {DAQINTERFACE_HOST}:{DAQ_AREA}/DAQInterface\n"
        f"DAQInterface logfile: {DAQINTERFACE_HOST}:/daq/log/DAQInterface/"
        f"DAQInterface_partition{plan.partition}.log\n\n"
        "# Two possible sets of fields provided below for code info, depending on if a git "
        "repo was available: \n"
        "# <git commit hash> <LoCs added on top of commit> <LoCs removed on top of commit> "
        "<git commit comment> <git commit time> <git branch> <BuildInfo build time (if "
        "available)> <BuildInfo version (if available)>\n"
        "# <package version> <BuildInfo build time (if available)> <BuildInfo version (if "
        "available)>\n\n"
        'DAQInterface commit/version: v3_13_00 "time from BuildInfo undetermined" '
        '"version from BuildInfo undetermined"\n\n'
    )
    parts += [_package_line(package) + "\n\n" for package in _PACKAGES]
    parts.append(f"\nprocess management method: {plan.method}\n\n")
    if plan.method != "external_run_control":
        parts.append(_logfile_sections(plan, processes))
    if plan.start_time is not None:
        parts.append(f"\nDAQInterface start time: {format_daq_time(plan.start_time)}\n")
    parts += [f"\nDAQInterface stop time: {format_daq_time(stop)}\n" for stop in plan.stop_times]
    return "".join(parts)


def _package_line(package: str) -> str:
    build = '"30-Sep-2024 16:01:02 UTC"'
    if package.startswith("sbndaq"):
        rng = random.Random(package)  # noqa: S311 - a stable fake commit hash
        commit = f"{rng.getrandbits(48):012x}"
        return (
            f'{package} commit/version: {commit} 0 3 "Merge pull request #412 from '
            f'SBNSoftware/feature/pmt" "Mon Sep 30 10:12:13 2024 -0500" "develop" {build} '
            '"v1_10_02"'
        )
    return f'{package} commit/version: v3_13_02 {build} "v3_13_02"'


def _logfile_sections(plan: RunPlan, processes: list[tuple[str, str, int, int]]) -> str:
    stamp = f"{plan.config_time:%Y%m%d%H%M%S}"
    sections = [
        f"\nprocess manager logfiles: \n/daq/log/pmt/launch_attempt_sbnd-evb01-daq_sbnd_"
        f"partition{plan.partition}\n"
    ]
    for kind, role in (
        ("boardreader", "BoardReader"),
        ("eventbuilder", "EventBuilder"),
        ("datalogger", "DataLogger"),
        ("dispatcher", "Dispatcher"),
        ("routingmanager", "RoutingManager"),
    ):
        lines = [
            f"{host}.fnal.gov:/daq/log/{label}-{host}-{port}/{label}-{stamp}.log\n"
            for label, host, port, _ in processes
            if _role(label) == role
        ]
        sections.append(f"\n{kind} logfiles: \n" + "".join(lines))
    return "".join(sections)


def _known_boardreaders() -> str:
    labels = sorted({*LARGE_CONFIG[1], *(b for c in SMALL_CONFIGS.values() for b in c)})
    lines = [f"{label} {_host(label)} -1 1\n" for label in labels if not label.startswith("crt")]
    lines += [
        f'{label} {_host(label)} -1 1 0-15 "/usr/libexec/ambient_cap_net_raw /bin/env '
        'LD_LIBRARY_PATH=$LD_LIBRARY_PATH "\n'
        for label in labels
        if label.startswith("crt")
    ]
    return (
        "".join(lines)
        + "pmtx01 sbnd-pds01-daq -1 1\n#wib101 sbnd-evb04-daq -1 1\ncomponent_hangs localhost\n"
    )


_KNOWN_BOARDREADERS = _known_boardreaders()
_SETTINGS = (
    "log_directory: /daq/log\n"
    "record_directory: /daq/run_records\n"
    f"package_hashes_to_save: [ {', '.join(_PACKAGES)} ]\n"
    "productsdir_for_bash_scripts: /daq/software/products\n"
    "max_configurations_to_list: 20\n"
    "boardreader timeout: 600\n"
    "eventbuilder timeout: 45\n"
    "aggregator timeout: 20\n"
    "dispatcher timeout: 25\n"
    "use_messageviewer: true\n"
    "\n"
    "#boardreader_priorities_on_config: mbb02 wib101 wib102 tpc11 tpc10 ntb01 ptb01\n"
    "boardreader_priorities_on_config: wib* mbb02 tpc* ntb01 ptb01* pmt* spectdc .*\n"
    "boardreader_priorities_on_start: mbb02 wib* tpc* ntb01 ptb01* pmt* spectdc .*\n"
    "boardreader_priorities_on_stop: spectdc pmt* ptb01* ntb01 tpc* wib* mbb02 \n"
    "\n"
    "max_launch_checks: 10\n"
    "launch_procs_wait_time: 60\n"
    "advanced_memory_usage: true\n"
    "all_events_to_all_dispatchers: true\n"
    "disable_unique_rootfile_labels: true\n"
    "\n"
    "#Force use of TCP sockets ... avoid shmem...\n"
    "transfer_plugin_to_use: TCPSocket\n"
)
_SETUP = (
    "#!/bin/bash\n"
    "# SBND DAQ setup (sourced by DAQInterface)\n"
    "source /daq/software/products/setup\n"
    "setup mrb\n"
    "export MRB_PROJECT=sbndaq\n"
    f"source {DAQ_AREA}/localProducts_sbndaq_v1_10_02_e26_prof/setup\n"
    "mrbslp\n"
    'export TRACE_NAME="sbndaq"\n'
    'echo "DAQ area: ${MRB_TOP}"\n'
)
