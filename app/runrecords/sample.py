"""Sample run records for demos, tests and benchmarks (run-records.md §1–§3).

`write_sample_records` writes ended runs, still-running runs (start line only) and, on request,
the damaged entries listed by `sample_defects`. With the same arguments and `now`, every run
directory is byte-identical; the timeline is anchored at `now` so that running runs look recent
and ended runs look finished. Nothing here reads ../shared: all text is generated.
"""

import random
from datetime import datetime, timedelta
from pathlib import Path

from app.runrecords.metadata import format_daq_time
from app.runrecords.sample_defects import write_defects
from app.runrecords.sample_record import (
    LARGE_ARTDAQ,
    LARGE_CONFIG,
    LARGE_FILE_BYTES,
    METADATA,
    SMALL_ARTDAQ,
    SMALL_CONFIGS,
    SMALL_RECORD_BYTES,
    RunPlan,
    append_daq,
    record_files,
    write_run,
)
from app.timeutil import utcnow


def write_sample_records(
    dest: Path,
    *,
    runs: int,
    first_run: int = 1000,
    large: bool = False,
    defects: bool = False,
    running: int = 1,
    seed: int = 0,
    now: datetime | None = None,
) -> list[int]:
    """Write `runs` records (the newest `running` of them still running) and, with `defects`,
    the damaged entries of `sample_defects`; returns the run numbers of the directories made."""
    if runs < 0 or not 0 <= running <= runs:
        raise ValueError(f"need 0 <= running <= runs, got runs={runs}, running={running}")
    if first_run < 1:
        raise ValueError(f"run numbers start at 1, got first_run={first_run}")
    now = now or utcnow()
    rng = random.Random(seed)  # noqa: S311 - reproducible sample data
    dest.mkdir(parents=True, exist_ok=True)
    _write_directory_marker(dest)
    plans = _plan_runs(rng, runs=runs, first_run=first_run, large=large, running=running, now=now)
    for plan in plans:
        write_run(dest / str(plan.number), record_files(plan), plan)
    numbers = [plan.number for plan in plans]
    if defects:
        start = now - timedelta(days=3)
        template = _plan(
            rng, first_run, False, partition=0, start=start, stop=start + timedelta(minutes=45)
        )
        numbers += write_defects(dest, first_run=first_run, runs=runs, template=template)
    return sorted(numbers)


def stop_run(dest: Path, run: int, *, now: datetime | None = None) -> str:
    """Append a stop line to a running sample run, as DAQInterface does at STOP; returns it."""
    path = dest / str(run) / METADATA
    text = path.read_bytes()
    if b"\nDAQInterface stop time:" in text:
        raise ValueError(f"run {run} in {dest} already has a stop line")
    line = f"\nDAQInterface stop time: {format_daq_time(now or utcnow())}\n"
    append_daq(path, line.encode())
    return line.strip()


def _write_directory_marker(dest: Path) -> None:
    marker = dest / ".record_directory_info"
    if not marker.exists():
        marker.write_text(f"inode: {dest.stat().st_ino}\n")


def _plan_runs(
    rng: random.Random, runs: int, first_run: int, large: bool, running: int, now: datetime
) -> list[RunPlan]:
    """Timeline backwards from `now`: running runs started minutes ago, each in its own
    partition; ended runs before them, one after another, in partition 1."""
    plans: list[RunPlan] = []
    cursor = now - timedelta(minutes=3)
    for index in range(running):
        number = first_run + runs - 1 - index
        start = now - timedelta(minutes=3 + 7 * index)
        plans.append(_plan(rng, number, large, partition=1 + index, start=start))
        cursor = min(cursor, start)
    for number in range(first_run + runs - running - 1, first_run - 1, -1):
        stop = cursor - timedelta(minutes=rng.randint(2, 10))
        start = stop - timedelta(minutes=rng.randint(20, 180))
        plans.append(_plan(rng, number, large, partition=1, start=start, stop=stop))
        cursor = start - timedelta(seconds=90)
    return sorted(plans, key=lambda p: p.number)


def _plan(
    rng: random.Random,
    number: int,
    large: bool,
    *,
    partition: int,
    start: datetime,
    stop: datetime | None = None,
) -> RunPlan:
    """A run of a random configuration; `stop=None` leaves it running."""
    if large:
        config, boardreaders = LARGE_CONFIG
        artdaq, size = LARGE_ARTDAQ, LARGE_FILE_BYTES
    else:
        config = rng.choice(sorted(SMALL_CONFIGS))
        boardreaders, artdaq = SMALL_CONFIGS[config], SMALL_ARTDAQ
        total = random.Random(config).randint(*SMALL_RECORD_BYTES)  # noqa: S311 - per config
        size = total // len(boardreaders)
    return RunPlan(
        number=number,
        config=config,
        boardreaders=tuple(sorted(boardreaders)),
        artdaq=artdaq,
        partition=partition,
        config_time=start.replace(microsecond=0) - timedelta(seconds=rng.randint(30, 90)),
        start_time=start.replace(microsecond=0),
        stop_times=(stop.replace(microsecond=0),) if stop else (),
        file_bytes=size,
    )
