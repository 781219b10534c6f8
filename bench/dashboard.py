"""Dashboard time to first byte on large ledgers, against `/healthz` measured in the same run.

For each size N, builds a SQLite ledger of N runs with bulk inserts (a few percent missing,
failures, retries, exclusions, a pending tail, done rows finished over the last 7 days, store
listings), serves the app with uvicorn on loopback and times the first byte of `/healthz`
(baseline), `/` (overview: status report, liveness, rate, compact gap map), `/overview/live`
(the polled fragment) and `/gapmap` (the whole ledger bucketed), each on a new connection.
The overview is a snapshot shared for a few seconds, so "cold" is the first computation and
the median mostly the shared snapshot; `overview_compute_ms` times a fresh computation alone.
Prints JSON and a summary.

    .venv/bin/python bench/dashboard.py [--runs 10000 100000] [--repeat 5]
"""

import argparse
import random
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from common import print_figures
from fastapi import FastAPI
from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app import migrate
from app.config import Settings
from app.db import make_engine
from app.main import create_app
from app.models import Run, StageStatus, StoreRun
from app.timeutil import utcnow
from app.web.overview_data import build_overview

FIRST = 10_000
PATHS = ("/healthz", "/", "/overview/live", "/gapmap")


def build(engine: Engine, runs: int, rng: random.Random) -> None:
    """A ledger shaped like a detector's history (see the module docstring)."""
    now = utcnow()
    present = [n for n in range(FIRST, FIRST + runs) if rng.random() > 0.02]
    tail = FIRST + runs - max(1, runs // 100)
    run_rows, stage_rows, store_rows = [], [], []
    for n in present:
        excluded = n % 997 == 0
        run_rows.append(
            {
                "run_number": n,
                "readiness": "ready",
                "config_name": f"cfg{n % 7}",
                "excluded_reason": "bench" if excluded else None,
                "first_seen_at": now,
                "last_scanned_at": now,
            }
        )
        finished = now - timedelta(minutes=rng.randrange(7 * 24 * 60))
        draw = rng.random()
        imported = "excluded" if excluded else "pending" if n >= tail else "done"
        if imported == "done" and draw < 0.01:
            imported = "failed"
        migrated = "pending" if imported == "done" and n >= tail - 50 else imported
        if migrated == "done" and draw > 0.995:
            migrated = "retry"
        for stage, state in (("import", imported), ("migrate", migrated)):
            stage_rows.append(
                {
                    "run_number": n,
                    "stage": stage,
                    "state": state,
                    "attempts": 1,
                    "finished_at": finished if state == "done" else None,
                    "last_error": "bench failure" if state in ("failed", "retry") else None,
                    "updated_at": now,
                }
            )
        if imported == "done":
            store_rows.append({"store": "artdaqdb", "run_number": n, "seen_at": now})
        if migrated == "done":
            store_rows.append({"store": "ucondb", "run_number": n, "seen_at": now})
    with Session(engine) as session:
        session.execute(insert(Run.__table__), run_rows)  # type: ignore[attr-defined]
        session.execute(insert(StageStatus.__table__), stage_rows)  # type: ignore[attr-defined]
        session.execute(insert(StoreRun.__table__), store_rows)  # type: ignore[attr-defined]
        session.commit()


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


def measure(runs: int, repeat: int, rng: random.Random) -> dict[str, Any]:
    """Build a ledger of `runs` runs and time every path `repeat` times after a warm-up."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "records").mkdir()
        url = f"sqlite:///{root / 'ledger.sqlite3'}"
        engine = make_engine(url)
        migrate.upgrade(engine)
        started = time.perf_counter()
        build(engine, runs, rng)
        seeded = time.perf_counter() - started
        settings = settings_for(root, url)
        with Session(engine) as session:
            started = time.perf_counter()
            build_overview(session, settings, now=utcnow())
            computed = time.perf_counter() - started
        engine.dispose()
        figures: dict[str, Any] = {
            "runs": runs,
            "seed_s": round(seeded, 2),
            "overview_compute_ms": round(computed * 1000, 1),
        }
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
    args = parser.parse_args()
    rng = random.Random(7)
    results = [measure(runs, args.repeat, rng) for runs in args.runs]
    print_figures(
        "dashboard",
        {"results": results},
        "; ".join(
            f"{r['runs']} runs: / cold {r['/']['cold_ms']} ms, shared {r['/']['median_ms']} ms, "
            f"/gapmap {r['/gapmap']['median_ms']} ms, /healthz {r['/healthz']['median_ms']} ms"
            for r in results
        ),
    )


if __name__ == "__main__":
    main()
