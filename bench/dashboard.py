"""Dashboard time to first byte on large ledgers, against `/healthz` measured in the same run.

For each size N, builds a ledger of N runs (SQLite, or a scratch schema on the PostgreSQL
server given by `--database-url`) with INSERT … SELECT (a few percent missing, failures,
retries, exclusions, a pending tail, done rows finished over the last 7 days, store listings),
serves the app with uvicorn on loopback and times the first byte of `/healthz` (baseline), `/`
(overview: status report, liveness, rate, compact gap map), `/overview/live` (the polled
fragment), `/api/report` and `/gapmap` (the whole ledger bucketed), each on a new connection.
The overview and the report are snapshots shared for a few seconds, so "cold" is the first
computation and the median mostly the shared snapshot; `overview_compute_ms` and
`report_compute_ms` time a fresh computation alone, before the server starts.
Prints JSON and a summary.

    .venv/bin/python bench/dashboard.py [--runs 10000 100000] [--repeat 5]
        [--database-url postgresql+psycopg://…]
"""

import argparse
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from common import print_figures
from fastapi import FastAPI
from ledger import (
    FROM_PLAN,
    add_database_option,
    backend,
    create_plan,
    draw,
    fill,
    migrated_engine,
    runs_rows,
    scratch_ledger,
    size_bytes,
)
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app.config import Settings
from app.main import create_app
from app.reports.status import build_status_report
from app.timeutil import utcnow
from app.web.overview_data import build_overview

FIRST = 10_000
PATHS = ("/healthz", "/", "/overview/live", "/api/report", "/gapmap")


def build(engine: Engine, runs: int, now: datetime) -> None:
    """A ledger shaped like a detector's history (see the module docstring)."""
    tail = FIRST + runs - max(1, runs // 100)
    failure = f"{draw(4)} < 100"
    imported = (
        f"CASE WHEN n % 997 = 0 THEN 'excluded' WHEN n >= {tail} THEN 'pending' "
        f"WHEN {failure} THEN 'failed' ELSE 'done' END"
    )
    migrated = (
        f"CASE WHEN n % 997 = 0 THEN 'excluded' WHEN n >= {tail} THEN 'pending' "
        f"WHEN {failure} THEN 'failed' WHEN n >= {tail - 50} THEN 'pending' "
        f"WHEN {draw(4)} > 9950 THEN 'retry' ELSE 'done' END"
    )
    columns = {
        "present": f"CASE WHEN {draw(1)} >= 200 THEN 1 ELSE 0 END",
        "imported": imported,
        "migrated": migrated,
        "minute": draw(5),
    }
    create_plan(engine, FIRST, runs, columns, now=now)
    fill(
        engine,
        [
            runs_rows("present = 1"),
            stage_rows("import", "imported"),
            stage_rows("migrate", "migrated"),
            store_rows("artdaqdb", "imported"),
            store_rows("ucondb", "migrated"),
        ],
    )


def stage_rows(stage: str, state: str) -> str:
    """INSERT … SELECT of the stage's rows, in the plan's column `state`."""
    columns = (
        "run_number, stage, state, attempts, attempts_before_reset, finished_at, last_error, "
        "updated_at"
    )
    values = (
        f"n, '{stage}', {state}, 1, 0, CASE WHEN {state} = 'done' THEN finished.at END, "
        f"CASE WHEN {state} IN ('failed', 'retry') THEN 'bench failure' END, clock.at"
    )
    source = f"{FROM_PLAN} JOIN bench_clock AS finished ON finished.k = minute WHERE present = 1"
    return f"INSERT INTO stage_status ({columns}) SELECT {values} {source}"


def store_rows(store: str, state: str) -> str:
    """INSERT … SELECT of the store's listing: the runs whose `state` is done."""
    values = f"'{store}', n, clock.at {FROM_PLAN} WHERE present = 1 AND {state} = 'done'"
    return f"INSERT INTO store_runs (store, run_number, seen_at) SELECT {values}"


def settings_for(root: Path, url: str) -> Settings:
    """Stores that answer at once (a missing filesystemdb, a refused UconDB port)."""
    return Settings(
        app={"work_dir": str(root / "work")},
        source_files={"run_records_dir": str(root / "records")},
        artdaq_db={"database_uri": f"filesystemdb://{root / 'db'}", "fcl_conf_dir": str(root)},
        ucon_db={
            "server_url": "http://127.0.0.1:9/app",
            "folder_name": "runs",
            "object_name": "configuration",
            "writer_user": "bench",
            "writer_password": "bench-password",
        },
        database={"url": url},
    )


@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """The app under uvicorn on a free loopback port, lifespan included."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the app did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def ttfb(client: httpx.Client, url: str) -> float:
    """Seconds from sending the request to the first byte of the body."""
    start = time.perf_counter()
    with client.stream("GET", url) as response:
        chunks = response.iter_raw()
        next(chunks, b"")
        elapsed = time.perf_counter() - start
        for _ in chunks:
            pass
    if response.status_code != 200:
        raise RuntimeError(f"GET {url}: HTTP {response.status_code}")
    return elapsed


def measure(runs: int, repeat: int, database_url: str | None) -> dict[str, Any]:
    """Build a ledger of `runs` runs and time every path `repeat` times after a warm-up."""
    with tempfile.TemporaryDirectory() as tmp, scratch_ledger(Path(tmp), database_url) as url:
        root = Path(tmp)
        (root / "records").mkdir()
        engine = migrated_engine(url)
        started = time.perf_counter()
        build(engine, runs, utcnow())
        seeded = time.perf_counter() - started
        settings = settings_for(root, url)
        with Session(engine) as session:
            started = time.perf_counter()
            build_overview(session, settings, now=utcnow())
            computed = time.perf_counter() - started
            started = time.perf_counter()
            build_status_report(session, settings)
            reported = time.perf_counter() - started
        figures: dict[str, Any] = {
            "runs": runs,
            "seed_s": round(seeded, 2),
            "ledger_mib": round(size_bytes(engine, url) / 2**20, 1),
            "overview_compute_ms": round(computed * 1000, 1),
            "report_compute_ms": round(reported * 1000, 1),
        }
        engine.dispose()
        with served(create_app(settings, background=False)) as base:
            fresh = httpx.Limits(max_keepalive_connections=0)
            with httpx.Client(base_url=base, timeout=120, limits=fresh) as client:
                for path in PATHS:
                    cold = ttfb(client, path)
                    warm = [ttfb(client, path) for _ in range(repeat)]
                    figures[path] = {
                        "cold_ms": round(cold * 1000, 1),
                        "median_ms": round(statistics.median(warm) * 1000, 1),
                        "max_ms": round(max(warm) * 1000, 1),
                    }
                size = len(client.get("/gapmap").content)
                figures["gapmap_html_bytes"] = size
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=5)
    add_database_option(parser)
    args = parser.parse_args()
    results = [measure(runs, args.repeat, args.database_url) for runs in args.runs]
    kind = backend(args.database_url)
    print_figures(
        "dashboard",
        {"backend": kind, "results": results},
        f"{kind}: "
        + "; ".join(
            f"{r['runs']} runs: / cold {r['/']['cold_ms']} ms, shared {r['/']['median_ms']} ms, "
            f"/api/report cold {r['/api/report']['cold_ms']} ms, "
            f"/gapmap {r['/gapmap']['median_ms']} ms, /healthz {r['/healthz']['median_ms']} ms"
            for r in results
        ),
    )


if __name__ == "__main__":
    main()
