"""Damaged and unusual entries for sample run-record directories, each with its expected outcome.

Real record directories collect odd things over the years: retried transitions, crashed runs,
hand copies with leading zeros, stray files, undecodable bytes. `sample_defects` lists the ones
the samples contain and what the scanner should record for each (a readiness value for run
directories, an anomaly reason for other entries), so demos and tests can check them by name.
"""

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from app.runrecords.sample_record import METADATA, RunPlan, record_files, write_run

DEFECT_PARTITION = 9
DEFECT_GAP = 10

Files = dict[str, bytes]


@dataclass(frozen=True)
class SampleDefect:
    """One sample entry: its name in the run-records directory and what the scanner records."""

    name: str
    defect: str
    description: str
    expected: str


def sample_defects(first_run: int, runs: int) -> list[SampleDefect]:
    """The defect entries written after runs `first_run … first_run+runs-1` (plus a gap)."""
    base = first_run + runs + DEFECT_GAP
    entries = [
        SampleDefect(str(base + index), code, description, expected)
        for index, (code, description, expected, _) in enumerate(_RUN_DEFECTS)
    ]
    after = base + len(_RUN_DEFECTS)
    entries += [
        SampleDefect(
            f"0{base}",
            "leading_zeros",
            "copy of a record under a zero-padded name",
            "non_canonical_name",
        ),
        SampleDefect("0", "run_zero", "directory named 0", "out_of_range"),
        SampleDefect("99999999999", "huge_number", "run number above 2147483647", "out_of_range"),
        SampleDefect(
            f"{first_run}.bak", "backup_copy", "hand-made backup directory", "not_a_run_number"
        ),
        SampleDefect(
            "١٢٣", "unicode_digits", "Arabic-Indic digits (isdigit() is true)", "not_a_run_number"
        ),
        SampleDefect(
            "17\\xff", "undecodable_name", "name with a byte that is not UTF-8", "not_a_run_number"
        ),
        SampleDefect(
            str(after),
            "file_named_like_run",
            "regular file with a run-number name",
            "not_a_directory",
        ),
        SampleDefect(
            str(after + 1),
            "symlink_outside",
            "symbolic link to the parent directory",
            "symlink_outside",
        ),
    ]
    return entries


def write_defects(dest: Path, *, first_run: int, runs: int, template: RunPlan) -> list[int]:
    """Write every entry of `sample_defects`; returns the run numbers of the run directories."""
    defects = {d.defect: d for d in sample_defects(first_run, runs)}
    numbers = []
    for index, (code, _, _, damage) in enumerate(_RUN_DEFECTS):
        number = int(defects[code].name)
        plan = replace(
            template,
            number=number,
            partition=DEFECT_PARTITION,
            config_time=template.config_time + timedelta(hours=index),
            start_time=template.start_time and template.start_time + timedelta(hours=index),
            stop_times=tuple(t + timedelta(hours=index) for t in template.stop_times),
        )
        plan, files = damage(plan)
        write_run(dest / str(number), files, plan)
        numbers.append(number)
    clean = replace(template, number=int(defects["leading_zeros"].name[1:]))
    for code in ("leading_zeros", "run_zero", "huge_number", "backup_copy", "unicode_digits"):
        write_run(dest / defects[code].name, record_files(clean), clean)
    write_run(dest / os.fsdecode(b"17\xff"), record_files(clean), clean)
    (dest / defects["file_named_like_run"].name).write_bytes(b"not a run directory\n")
    (dest / defects["symlink_outside"].name).symlink_to("..")
    return numbers


def _never_started(plan: RunPlan) -> tuple[RunPlan, Files]:
    plan = replace(plan, start_time=None, stop_times=())
    return plan, record_files(plan)


def _never_stopped(plan: RunPlan) -> tuple[RunPlan, Files]:
    plan = replace(plan, stop_times=())
    return plan, record_files(plan)


def _missing_metadata(plan: RunPlan) -> tuple[RunPlan, Files]:
    files = record_files(plan)
    del files[METADATA]
    return plan, files


def _non_utf8(plan: RunPlan) -> tuple[RunPlan, Files]:
    files = record_files(plan)
    files["boot.txt"] = b"# shift crew: J\xe9r\xf4me \xff\xfe\n" + files["boot.txt"]
    files[METADATA] = files[METADATA].replace(b"/daq/log/DAQInterface/", b"/daq/log/caf\xe9/", 1)
    return plan, files


def _truncated_fhicl(plan: RunPlan) -> tuple[RunPlan, Files]:
    files = record_files(plan)
    name = f"{plan.boardreaders[0]}.fcl"
    files[name] = files[name][: len(files[name]) // 2]
    return plan, files


def _empty_files(plan: RunPlan) -> tuple[RunPlan, Files]:
    files = record_files(plan)
    files["settings.txt"] = b""
    files[f"{plan.boardreaders[-1]}.fcl"] = b""
    return plan, files


def _duplicate_stop(plan: RunPlan) -> tuple[RunPlan, Files]:
    first = plan.stop_times[0]
    plan = replace(plan, stop_times=(first, first + timedelta(seconds=47)))
    return plan, record_files(plan)


def _stop_without_start(plan: RunPlan) -> tuple[RunPlan, Files]:
    plan = replace(plan, start_time=None)
    return plan, record_files(plan)


def _no_final_newline(plan: RunPlan) -> tuple[RunPlan, Files]:
    files = record_files(plan)
    files[METADATA] = files[METADATA].rstrip(b"\n")
    return plan, files


def _subdirectory(plan: RunPlan) -> tuple[RunPlan, Files]:
    files = record_files(plan)
    name = f"{plan.boardreaders[0]}.fcl"
    files[f"old_configs/{name}"] = files[name]
    return plan, files


def _hidden_files(plan: RunPlan) -> tuple[RunPlan, Files]:
    files = record_files(plan)
    files[".metadata.txt.swp"] = b"b0VIM 8.2\0\0\0\0"
    files[".nfs000000000a1b2c3d00000042"] = files["boot.txt"]
    return plan, files


def _external_run_control(plan: RunPlan) -> tuple[RunPlan, Files]:
    plan = replace(plan, method="external_run_control")
    files = record_files(plan)
    files["rc_info_start.txt"] = b"run_type: physics\nshifter: sbnd_shift\ncomment: beam on\n"
    files["rc_info_stop.txt"] = b"stop_reason: end of fill\nevents: 183422\n"
    return plan, files


def _label_collision(plan: RunPlan) -> tuple[RunPlan, Files]:
    plan = replace(plan, boardreaders=tuple(sorted((*plan.boardreaders, "metadata"))))
    return plan, record_files(plan)


def _crlf_settings(plan: RunPlan) -> tuple[RunPlan, Files]:
    files = record_files(plan)
    files["settings.txt"] = files["settings.txt"].replace(b"\n", b"\r\n")
    return plan, files


def _total_events(plan: RunPlan) -> tuple[RunPlan, Files]:
    files = record_files(plan)
    files[METADATA] += b"Total events: 183422\n"
    return plan, files


def _extra_files(plan: RunPlan) -> tuple[RunPlan, Files]:
    files = record_files(plan)
    files["DAQInterface_partition9.log"] = b"Tue Oct  1 19:03:15 UTC 2024: START transition\n"
    files["notes.txt"] = b"run taken with the north wall unplugged\n"
    return plan, files


_Damage = Callable[[RunPlan], tuple[RunPlan, Files]]
_RUN_DEFECTS: tuple[tuple[str, str, str, _Damage], ...] = (
    (
        "never_started",
        "no start or stop line (crashed before START completed)",
        "never_started",
        _never_started,
    ),
    (
        "never_stopped",
        "start line, no stop line (crashed or recovered without STOP)",
        "never_stopped",
        _never_stopped,
    ),
    ("missing_metadata", "metadata.txt absent", "no_metadata", _missing_metadata),
    ("non_utf8", "boot.txt and metadata.txt contain bytes that are not UTF-8", "ready", _non_utf8),
    ("truncated_fhicl", "a process .fcl cut in the middle of a table", "ready", _truncated_fhicl),
    ("empty_files", "empty settings.txt and an empty process .fcl", "ready", _empty_files),
    ("duplicate_stop", "two stop lines (STOP retried)", "ready", _duplicate_stop),
    ("stop_without_start", "stop line but no start line", "ready", _stop_without_start),
    (
        "no_final_newline",
        "stop line without its final newline (append cut short)",
        "in_progress",
        _no_final_newline,
    ),
    ("subdirectory", "a subdirectory holding a copy of a process .fcl", "ready", _subdirectory),
    ("hidden_files", "editor swap file and NFS silly-rename file", "ready", _hidden_files),
    (
        "external_run_control",
        "rc_info_start.txt and rc_info_stop.txt, no logfile sections",
        "ready",
        _external_run_control,
    ),
    (
        "label_collision",
        "a BoardReader labelled 'metadata' (metadata.fcl collides)",
        "ready",
        _label_collision,
    ),
    ("crlf_settings", "settings.txt with CRLF line ends", "ready", _crlf_settings),
    ("total_events", "pre-2018 'Total events:' line after the stop line", "ready", _total_events),
    ("extra_files", "a stray .log file and an extra .txt file", "ready", _extra_files),
)
