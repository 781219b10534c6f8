"""API under load: requests/second and latency with 32 concurrent clients against `rra serve`.

The ledger is seeded with `--runs` runs (default 10^4): minimal run directories are written and
scanned by the real scanner, then their rows are set as an archive would have left them (almost
all done in both stages with checksums, a few failed or retrying, events for each transition,
the stores' listings). `rra serve` then runs on that ledger as a subprocess, and `--clients`
asyncio clients (httpx) send requests for `--seconds` per endpoint: `/healthz` (the baseline:
the same server, transport and client without a ledger query), `GET /api/runs/{run}` for random
runs, and `GET /api/report`. Prints JSON and a one-line summary.

    .venv/bin/python bench/api_load.py [--runs 10000] [--clients 32] [--seconds 15]
"""

import argparse
import asyncio
import hashlib
import random
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from common import (
    UconDB,
    prepare_archive,
    print_figures,
    quantile,
    rra_serve,
    write_config,
)
from sqlalchemy import insert, update
from sqlmodel import Session, col

from app import migrate
from app.db import make_engine
from app.models import ErrorKind, RunEvent, Stage, StageStatus, State, StoreRun
from app.reports.sources import Source, record_listing
from app.runrecords.metadata import format_daq_time
from app.runrecords.readiness import ScanPolicy
from app.runrecords.scan import scan_records
from app.timeutil import utcnow

FIRST_RUN = 20_000
UNREACHABLE_UCONDB = UconDB("http://127.0.0.1:9/unused", "unused")


def write_records(records: Path, runs: int) -> list[int]:
    """Minimal ended runs (metadata.txt and environment.txt), as the scanner reads them."""
    now = utcnow()
    numbers = list(range(FIRST_RUN, FIRST_RUN + runs))
    for index, run in enumerate(numbers):
        path = records / str(run)
        path.mkdir()
        start = now - timedelta(hours=2 * (runs - index) + 1)
        stop = start + timedelta(minutes=50)
        (path / "metadata.txt").write_text(
            f"Config name: physics_{run % 7}\n\n"
            f"DAQInterface start time: {format_daq_time(start)}\n\n"
            f"DAQInterface stop time: {format_daq_time(stop)}\n"
        )
        (path / "environment.txt").write_text("export DAQINTERFACE_PARTITION_NUMBER=1\n")
    return numbers


def archive_history(url: str, records: Path, numbers: list[int], rng: random.Random) -> None:
    """Scan for real, then leave the rows as a long catch-up would: mostly done, a few not."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    now = utcnow()
    failed = set(rng.sample(numbers, len(numbers) // 100))
    retrying = set(rng.sample(sorted(set(numbers) - failed), len(numbers) // 200))
    migrated = [n for n in numbers if n not in failed and n not in retrying]
    with Session(engine) as session:
        scan_records(session, records, policy=ScanPolicy(settle_seconds=0), now=now)
        session.commit()
        session.execute(
            update(StageStatus)
            .where(col(StageStatus.stage) == Stage.IMPORT)
            .values(state=State.DONE, attempts=1, entity_count=25, bytes=180_000, finished_at=now)
        )
        session.execute(
            update(StageStatus)
            .where(
                (col(StageStatus.stage) == Stage.IMPORT) & col(StageStatus.run_number).in_(failed)
            )
            .values(
                state=State.FAILED,
                attempts=3,
                error_kind=ErrorKind.FHICL,
                last_error="run: tpc01.fcl:12:3: unexpected '}'",
            )
        )
        session.execute(
            insert(StageStatus),
            [_migrate_row(n, n in retrying, now) for n in numbers if n not in failed],
        )
        session.execute(insert(RunEvent), [e for n in numbers for e in _events(n, n in failed)])
        session.execute(
            insert(StoreRun),
            [
                {"store": "artdaqdb", "run_number": n, "seen_at": now}
                for n in numbers
                if n not in failed
            ]
            + [{"store": "ucondb", "run_number": n, "seen_at": now} for n in migrated],
        )
        for source in Source:
            record_listing(session, source, error=None)
        session.commit()
    engine.dispose()


def _migrate_row(run: int, retrying: bool, now: datetime) -> dict[str, Any]:
    digest = hashlib.sha256(str(run).encode()).hexdigest()
    row: dict[str, Any] = {"run_number": run, "stage": Stage.MIGRATE, "updated_at": now}
    if retrying:
        return row | {
            "state": State.RETRY,
            "attempts": 2,
            "error_kind": ErrorKind.UCONDB,
            "last_error": "UconDB answered 503",
            "next_attempt_at": now + timedelta(hours=1),
        }
    return row | {
        "state": State.DONE,
        "attempts": 1,
        "blob_size": 190_000,
        "blob_md5": digest[:32],
        "blob_sha256": digest,
        "blob_adler32": digest[:8],
        "ucondb_version_id": run,
        "finished_at": now,
    }


def _events(run: int, failed: bool) -> list[dict[str, Any]]:
    steps = [("import", None, "waiting"), ("import", "waiting", "pending")]
    steps += [
        ("import", "pending", "running"),
        ("import", "running", "failed" if failed else "done"),
    ]
    if not failed:
        steps += [("migrate", None, "pending"), ("migrate", "pending", "running")]
        steps += [("migrate", "running", "done")]
    now = utcnow()
    return [
        {"run_number": run, "stage": s, "at": now, "actor": "bench", "from_state": a, "to_state": b}
        for s, a, b in steps
    ]


def wait_for_scan_after(base: str, when: datetime, timeout: float = 300.0) -> None:
    """Load starts after the service's first scan, which runs at start-up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        last = httpx.get(f"{base}/api/status", timeout=60).raise_for_status().json()["last_scan_at"]
        if last and datetime.fromisoformat(last) > when:
            return
        time.sleep(0.5)
    raise RuntimeError(f"the service did not finish its first scan within {timeout:g} s")


async def hammer(
    base: str, clients: int, seconds: float, target: Callable[[random.Random], str]
) -> dict[str, Any]:
    """`clients` concurrent loops of GET requests for `seconds`; rate and latency figures."""
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:

        async def client(index: int, until: float, record: bool) -> None:
            nonlocal errors
            rng = random.Random(index)
            while time.perf_counter() < until:
                started = time.perf_counter()
                response = await http.get(target(rng))
                if record:
                    latencies.append(time.perf_counter() - started)
                    errors += response.status_code != 200

        warm = time.perf_counter() + 1.0
        await asyncio.gather(*(client(i, warm, False) for i in range(clients)))
        began = time.perf_counter()
        await asyncio.gather(*(client(i, began + seconds, True) for i in range(clients)))
        elapsed = time.perf_counter() - began
    return {
        "requests": len(latencies),
        "non_200": errors,
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(1000 * quantile(latencies, 0.50), 1),
        "p99_ms": round(1000 * quantile(latencies, 0.99), 1),
        "max_ms": round(1000 * max(latencies), 1),
    }


def main() -> None:
    """Seed, serve, load each endpoint in turn; JSON and a summary line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=15.0, help="per endpoint")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rra-api-load-") as tmp:
        root = prepare_archive(Path(tmp))
        numbers = write_records(root / "records", args.runs)
        url = f"sqlite:///{root / 'work' / 'rra.sqlite3'}"
        seeding = time.perf_counter()
        archive_history(url, root / "records", numbers, random.Random(3))
        seed_seconds = time.perf_counter() - seeding
        seeded_at = utcnow()
        config = write_config(root, UNREACHABLE_UCONDB)
        targets: dict[str, Callable[[random.Random], str]] = {
            "healthz": lambda rng: "/healthz",
            "run_detail": lambda rng: f"/api/runs/{rng.choice(numbers)}",
            "report": lambda rng: "/api/report",
        }
        with rra_serve(config, log=root / "serve.log") as base:
            wait_for_scan_after(base, seeded_at)
            results = {
                name: asyncio.run(hammer(base, args.clients, args.seconds, target))
                for name, target in targets.items()
            }
    print_figures(
        "api_load",
        {
            "runs": args.runs,
            "clients": args.clients,
            "seconds_per_endpoint": args.seconds,
            "seed_seconds": round(seed_seconds, 1),
            "settings_changed": {
                "ucon_db.server_url": "unreachable: nothing is archived during the load, the "
                "ledger is seeded and the service only answers requests",
            },
            "endpoints": results,
        },
        "api_load: "
        + "; ".join(
            f"{name} {r['requests_per_s']} req/s p99 {r['p99_ms']} ms"
            for name, r in results.items()
        )
        + f" ({args.clients} clients, {args.runs} runs; healthz is the baseline)",
    )


if __name__ == "__main__":
    main()
