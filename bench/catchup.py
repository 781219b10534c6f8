"""Catch-up throughput: runs per minute end to end (scan → import → migrate → verify).

For small records (`--runs`) and large ones (`--large-runs`, 110 processes, ≈12 MB each), the
pipeline runs with its default workers (`PipelineContext` + `run_work`, SQLite ledger in a temp
dir) against a real filesystemdb and the UconDB stand-in. Each pipeline runs in a child process
of its own; peaks are each process's own `VmHWM` (`ru_maxrss` would include what a child
inherits from its parent's peak across fork and exec). The child reports its RSS before the
work (interpreter and imports) as the memory baseline and the peak of each import worker
process; the total adds them all, as if the peaks coincided. CPU time per run
(the pipeline process from the start of the work, plus its import processes, start-up
included) does not move with the disk latency that makes the wall-clock figures noisy.

The sample records repeat their configuration's files from run to run, as DAQInterface's do, so
the import workers convert each distinct file once; `--distinct` appends a comment naming the
run to every `.fcl` file, so every file of every run is parsed (the worst case).

Baseline in the same run, over the same records: the I/O floor, i.e. each record's files copied
(read + write) and their bytes POSTed and read back over plain httpx from the same stand-in,
one run at a time. Prints JSON, then a one-line summary.

    .venv/bin/python bench/catchup.py [--runs 100] [--large-runs 5] [--distinct]
"""

import argparse
import hashlib
import json
import multiprocessing
import resource
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from common import (
    BASELINE_FOLDER,
    OBJECT,
    USER,
    UconDB,
    prepare_archive,
    print_figures,
    ucondb_stand_in,
    write_config,
)
from sqlmodel import Session, col, func, select

from app import migrate
from app.allocator import return_large_buffers
from app.config import load_settings
from app.db import make_engine
from app.models import Stage, StageStatus, State
from app.pipeline.context import PipelineContext, worker_id
from app.pipeline.runner import WorkRequest, run_work
from app.runrecords.sample import write_sample_records

GOALS = {"small_runs_per_min": 600, "large_runs_per_min": 20, "large_peak_rss_mb": 300}
SETTINGS_CHANGED = {
    "scanner.settle_seconds": "0 instead of 60: the sample records were written seconds ago, "
    "and a catch-up measures the backlog, not the settle period",
}


def memory_mb(field: str, pid: int | str = "self") -> float:
    """`VmRSS` (now) or `VmHWM` (peak) of a process: its own, unlike `ru_maxrss`, which Linux
    carries from a parent into its child across fork and exec."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/{pid}/status has no {field}")


def cpu_seconds(who: int) -> float:
    """User + system CPU time of this process, or of its reaped children (the import workers)."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def child(config: Path | str) -> None:
    """Run the whole catch-up once in this process and print its figures as JSON."""
    return_large_buffers()  # as `rra` does when it starts
    settings = load_settings(Path(config))
    assert settings.database.url is not None
    engine = make_engine(settings.database.url)
    migrate.upgrade(engine)
    ctx = PipelineContext(settings=settings, engine=engine, owner=worker_id())
    rss_before = memory_mb("VmRSS")
    cpu_before = cpu_seconds(resource.RUSAGE_SELF)
    started = time.perf_counter()
    report = run_work(ctx, WorkRequest())
    elapsed = time.perf_counter() - started
    import_peaks = [memory_mb("VmHWM", worker.pid) for worker in multiprocessing.active_children()]
    ctx.close()
    with Session(engine) as session:
        done = dict(
            session.exec(
                select(StageStatus.stage, func.count())
                .where(col(StageStatus.state) == State.DONE)
                .group_by(col(StageStatus.stage))
            ).all()
        )
    engine.dispose()
    figures = {
        "seconds": elapsed,
        "imported": done.get(Stage.IMPORT, 0),
        "migrated": done.get(Stage.MIGRATE, 0),
        "failed": report.failed_runs,
        "rss_before_mb": rss_before,
        "peak_rss_mb": memory_mb("VmHWM"),
        "import_process_peaks_rss_mb": import_peaks,
        "cpu_seconds": cpu_seconds(resource.RUSAGE_SELF)
        - cpu_before
        + cpu_seconds(resource.RUSAGE_CHILDREN),
        "workers": {
            "import": settings.pipeline.import_workers,
            "import_in_processes": settings.pipeline.import_in_processes,
            "migrate": settings.pipeline.migrate_workers,
        },
    }
    print(json.dumps(figures))


# Started from `-c`, not from this file: spawned import workers import their parent's main
# script again (as `rra`'s workers import its light entry point), and this one loads a lot.
CHILD = "import sys; sys.path.insert(0, sys.argv[1]); import catchup; catchup.child(sys.argv[2])"


def pipeline(root: Path, ucondb: UconDB) -> dict[str, Any]:
    """The catch-up in a child process; its figures."""
    config = write_config(root, ucondb, scanner={"settle_seconds": 0})
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(Path(__file__).parent), str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"pipeline child failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def baseline(records: Path, copies: Path, ucondb: UconDB, key_offset: int) -> dict[str, Any]:
    """The I/O floor: copy every record file, upload the record's bytes, download and compare."""
    runs = sorted((p for p in records.iterdir() if p.name.isdigit()), key=lambda p: int(p.name))
    auth = httpx.DigestAuth(USER, ucondb.password)
    total = 0
    with httpx.Client(base_url=ucondb.base_url, timeout=120) as http:
        path = f"/data/{BASELINE_FOLDER}/{OBJECT}"
        warm_up = {"override": "no"}  # the Digest challenge, outside the timing (no key)
        http.post(path, params=warm_up, content=b"warm-up", auth=auth).raise_for_status()
        started = time.perf_counter()
        for run_dir in runs:
            target = copies / run_dir.name
            target.mkdir(parents=True)
            parts = []
            for source in sorted(run_dir.iterdir()):
                shutil.copyfile(source, target / source.name)
                parts.append(source.read_bytes())
            data = b"".join(parts)
            key = str(key_offset + int(run_dir.name))
            params = {"key": key, "tag": key, "override": "no"}
            http.post(path, params=params, content=data, auth=auth).raise_for_status()
            back = http.get(f"{path}/key={key}").raise_for_status().content
            if hashlib.sha256(back).digest() != hashlib.sha256(data).digest():
                raise RuntimeError(f"baseline: run {run_dir.name} came back different")
            total += len(data)
        elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "runs": len(runs), "bytes": total}


def _total_peak(ours: dict[str, Any]) -> float:
    """Pipeline process plus every import process at its peak (an upper bound: the peaks need
    not coincide)."""
    return float(ours["peak_rss_mb"] + sum(ours["import_process_peaks_rss_mb"]))


def make_distinct(records: Path) -> None:
    """End every `.fcl` file with a comment naming its run: same parse work, but no two runs
    share a file any more (the worst case for the import workers' conversion cache)."""
    for path in records.glob("*/*.fcl"):
        mode = path.stat().st_mode
        path.chmod(mode | stat.S_IWUSR)
        with path.open("a", encoding="ascii") as handle:
            handle.write(f"# run {path.parent.name}\n")
        path.chmod(mode)


def case(
    name: str, runs: int, large: bool, first_run: int, ucondb: UconDB, distinct: bool
) -> dict[str, Any]:
    """One record size: generate, run the pipeline, run the baseline, compare."""
    with tempfile.TemporaryDirectory(prefix=f"rra-catchup-{name}-") as tmp:
        root = prepare_archive(Path(tmp))
        write_sample_records(
            root / "records", runs=runs, first_run=first_run, large=large, running=0, seed=1
        )
        if distinct:
            make_distinct(root / "records")
        record_bytes = sum(p.stat().st_size for p in (root / "records").rglob("*") if p.is_file())
        ours = pipeline(root, ucondb)
        floor = baseline(root / "records", root / "copies", ucondb, key_offset=10_000_000)
    ours_rate = 60 * runs / ours["seconds"]
    floor_rate = 60 * floor["runs"] / floor["seconds"]
    return {
        "runs": runs,
        "record_mb": round(record_bytes / runs / 1e6, 2),
        "complete": ours["imported"] == runs and ours["migrated"] == runs and not ours["failed"],
        "runs_per_min": round(ours_rate, 1),
        "seconds": round(ours["seconds"], 2),
        "baseline_runs_per_min": round(floor_rate, 1),
        "baseline_seconds": round(floor["seconds"], 2),
        "ratio_to_baseline": round(ours_rate / floor_rate, 3),
        "rss_before_mb": round(ours["rss_before_mb"], 1),
        "cpu_ms_per_run": round(1000 * ours["cpu_seconds"] / runs, 1),
        "peak_rss_mb": round(ours["peak_rss_mb"], 1),
        "import_process_peak_rss_mb": round(max(ours["import_process_peaks_rss_mb"], default=0), 1),
        "total_peak_rss_mb": round(_total_peak(ours), 1),
        "workers": ours["workers"],
        "failed_runs": ours["failed"],
    }


def main() -> None:
    """Both record sizes, each against its baseline; JSON and a summary line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=100, help="small records (≈0.1–0.25 MB)")
    parser.add_argument("--large-runs", type=int, default=5, help="large records (≈12 MB)")
    parser.add_argument(
        "--distinct",
        action="store_true",
        help="no file repeats across runs (real runs of one configuration repeat theirs)",
    )
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="rra-catchup-") as tmp,
        ucondb_stand_in(Path(tmp) / "ucondb.log") as ucondb,
    ):
        small = case("small", args.runs, False, 1000, ucondb, args.distinct)
        large = case("large", args.large_runs, True, 500_000, ucondb, args.distinct)
    goals = {
        "small_runs_per_min": small["runs_per_min"] >= GOALS["small_runs_per_min"],
        "large_runs_per_min": large["runs_per_min"] >= GOALS["large_runs_per_min"],
        "large_peak_rss_mb": large["total_peak_rss_mb"] <= GOALS["large_peak_rss_mb"],
    }
    print_figures(
        "catchup",
        {
            "settings_changed": SETTINGS_CHANGED,
            "distinct_files": args.distinct,
            "small": small,
            "large": large,
            "goals": GOALS,
            "goals_met": goals,
        },
        f"catchup{' (distinct files)' if args.distinct else ''}: small "
        f"{small['runs_per_min']} runs/min (floor {small['baseline_runs_per_min']})"
        f", large {large['runs_per_min']} runs/min (floor {large['baseline_runs_per_min']}), "
        f"peak RSS {large['total_peak_rss_mb']} MB (pipeline {large['peak_rss_mb']} + "
        f"{large['workers']['import']} x import process {large['import_process_peak_rss_mb']}) "
        f"with {large['record_mb']} MB records; goals met: "
        + ", ".join(f"{k}={'yes' if v else 'NO'}" for k, v in goals.items()),
    )


if __name__ == "__main__":
    main()
