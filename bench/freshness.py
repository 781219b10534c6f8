"""Freshness: seconds from a run's stop line to "migrate done" with `rra serve` running.

N runs are running (a start line each, in partitions of their own); the benchmark appends their
stop lines (`stop_run`) at random moments over a bounded window while `rra serve` runs as a
subprocess, and takes each run's latency from the stop line to the time its migrate row became
`done` (`GET /api/runs`, the row's `updated_at`). Prints p50/p95/max per mode, then a summary.
The pipeline's own share (import start to migrate finish, from the run detail) is the floor
measured in the same run; the rest is the settle period and waiting for a scan. The time beyond
the settle period shows that wait: a scan that sees a run settling schedules a follow-up scan
for the moment it becomes ready, so it is the follow-up's margin plus the pipeline's share.

Modes (both by default): `tuned` shortens the settle period and the scan interval (see the
`settings_changed` in the output); `defaults` changes nothing but paths and credentials, so its
latency is bounded below by the 60 s settle period. The baseline is
the legacy tool, which archives at the next hourly cron: a stop line at a uniformly random moment
waits 30 min on average (p50) and 57 min at p95 before its import even starts.

    .venv/bin/python bench/freshness.py [--runs 50] [--window 120] [--mode tuned --mode defaults]
"""

import argparse
import random
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from common import (
    prepare_archive,
    print_figures,
    quantile,
    rra_serve,
    ucondb_stand_in,
    write_config,
)

from app.runrecords.sample import stop_run, write_sample_records

FIRST_RUN = 7000
GOAL_P95_SECONDS = 30.0
LEGACY_CRON_SECONDS = 3600.0
MODES: dict[str, dict[str, dict[str, Any]]] = {
    "tuned": {"scanner": {"settle_seconds": 10}, "schedule": {"pipeline_interval_seconds": 5}},
    "defaults": {},
}
WHY = {
    "scanner.settle_seconds": "10 instead of 60: DAQInterface copies rc_info_stop.txt within "
    "seconds of the stop line; 10 s still covers it",
    "schedule.pipeline_interval_seconds": "5 instead of 60: the scan tick is what notices a stop "
    "line; a scan of an unchanged tree costs one stat per run",
}


def wait_for_first_scan(base: str, runs: int, timeout: float = 120.0) -> None:
    """The service has seen every running run (so stop lines are what we time)."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=base, timeout=10) as http:
        while time.monotonic() < deadline:
            page = http.get("/api/runs", params={"limit": 1000}).json()
            if len(page["items"]) >= runs:
                return
            time.sleep(0.5)
    raise RuntimeError(f"the service did not list {runs} runs within {timeout:g} s")


def migrated_at(http: httpx.Client, first: int, last: int) -> dict[int, float]:
    """Epoch seconds at which each run's migrate row became `done`."""
    page = http.get(
        "/api/runs",
        params={"runs": f"{first}-{last}", "stage": "migrate", "state": "done", "limit": 1000},
    ).json()
    return {
        item["run_number"]: datetime.fromisoformat(
            item["stages"]["migrate"]["updated_at"]
        ).timestamp()
        for item in page["items"]
    }


def processing_seconds(http: httpx.Client, run: int) -> float:
    """The pipeline's own part of a run's latency: import attempt start to migrate finish."""
    stages = http.get(f"/api/runs/{run}", params={"events": 1}).json()["stages"]
    started = datetime.fromisoformat(stages["import"]["started_at"])
    return (datetime.fromisoformat(stages["migrate"]["finished_at"]) - started).total_seconds()


def measure(mode: str, runs: int, window: float, seed: int) -> dict[str, Any]:
    """One `rra serve` with `runs` running runs; stop them over `window` seconds; latencies."""
    overrides = MODES[mode]
    with tempfile.TemporaryDirectory(prefix=f"rra-fresh-{mode}-") as tmp:
        root = prepare_archive(Path(tmp))
        numbers = write_sample_records(
            root / "records", runs=runs, running=runs, first_run=FIRST_RUN, seed=seed
        )
        with ucondb_stand_in() as ucondb:
            config = write_config(root, ucondb, **overrides)
            with rra_serve(config, log=root / "serve.log") as base:
                wait_for_first_scan(base, runs)
                rng = random.Random(seed)
                schedule = sorted((rng.uniform(0, window), run) for run in numbers)
                stopped: dict[int, float] = {}
                done: dict[int, float] = {}
                settle = overrides.get("scanner", {}).get("settle_seconds", 60)
                interval = overrides.get("schedule", {}).get("pipeline_interval_seconds", 60)
                deadline = time.monotonic() + window + 2 * (settle + interval) + 120
                began = time.monotonic()
                with httpx.Client(base_url=base, timeout=30) as http:
                    while len(done) < runs and time.monotonic() < deadline:
                        while schedule and time.monotonic() - began >= schedule[0][0]:
                            _, run = schedule.pop(0)
                            stopped[run] = time.time()
                            stop_run(root / "records", run)
                        done = migrated_at(http, numbers[0], numbers[-1])
                        time.sleep(0.25)
                    work = sorted(processing_seconds(http, run) for run in done)
    latencies = sorted(done[run] - stopped[run] for run in done if run in stopped)
    beyond = [latency - settle for latency in latencies]
    return {
        "runs": runs,
        "window_seconds": window,
        "settings_changed": {key: WHY[key] for key in _changed(overrides)},
        "archived": len(latencies),
        "not_archived": sorted(set(numbers) - set(done)),
        "p50_seconds": round(quantile(latencies, 0.50), 1) if latencies else None,
        "p95_seconds": round(quantile(latencies, 0.95), 1) if latencies else None,
        "max_seconds": round(latencies[-1], 1) if latencies else None,
        "min_seconds": round(latencies[0], 1) if latencies else None,
        "beyond_settle_p50_seconds": round(quantile(beyond, 0.50), 1) if beyond else None,
        "beyond_settle_p95_seconds": round(quantile(beyond, 0.95), 1) if beyond else None,
        "beyond_settle_max_seconds": round(beyond[-1], 1) if beyond else None,
        "processing_p50_seconds": round(quantile(work, 0.50), 1) if work else None,
        "processing_p95_seconds": round(quantile(work, 0.95), 1) if work else None,
        "goal_p95_met": bool(latencies)
        and len(latencies) == runs
        and quantile(latencies, 0.95) <= GOAL_P95_SECONDS,
    }


def _changed(overrides: dict[str, dict[str, Any]]) -> list[str]:
    return [f"{section}.{key}" for section, values in overrides.items() for key in values]


def main() -> None:
    """Each requested mode in turn; JSON and a summary line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50, help="running runs to stop")
    parser.add_argument("--window", type=float, default=120.0, help="seconds to spread stops over")
    parser.add_argument("--mode", action="append", choices=sorted(MODES), help="default: both")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    modes = args.mode or ["tuned", "defaults"]
    results = {mode: measure(mode, args.runs, args.window, args.seed) for mode in modes}
    baseline = {
        "what": "legacy hourly cron: wait for the next hour, uniform stop times",
        "p50_seconds": LEGACY_CRON_SECONDS * 0.50,
        "p95_seconds": LEGACY_CRON_SECONDS * 0.95,
    }
    print_figures(
        "freshness",
        {"goal_p95_seconds": GOAL_P95_SECONDS, "modes": results, "baseline": baseline},
        "freshness: "
        + "; ".join(
            f"{mode} p50 {r['p50_seconds']} s p95 {r['p95_seconds']} s "
            f"(p95 {r['beyond_settle_p95_seconds']} s beyond settle; "
            f"{r['archived']}/{r['runs']} archived)"
            for mode, r in results.items()
        )
        + f"; legacy cron p95 {baseline['p95_seconds']:.0f} s (wait only)",
    )


if __name__ == "__main__":
    main()
