"""Status report and run listing cost on a large ledger, against the legacy in-memory baseline.

Builds a SQLite ledger with N runs per source (a few percent missing at random, failures,
exclusions and one stray run 99999999 in UconDB), then times the SQL report, the legacy-style
report (Python sets over every integer between min and max, computed without the stray run
because with it the legacy method would build ~10^8 integers), the first and a deep keyset
page of `/api/runs`, and a full CSV export. Prints JSON and a one-line summary.

    .venv/bin/python bench/report.py [--runs 100000]
"""

import argparse
import json
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, select

from app import migrate
from app.config import Settings
from app.db import make_engine
from app.models import Run, Stage, StageStatus, State, StoreRun
from app.reports.legacy_text import render_legacy_text
from app.reports.run_export import csv_chunks
from app.reports.run_listing import RunFilter, iter_runs, runs_page
from app.reports.status import build_status_report
from app.timeutil import utcnow

FIRST = 10_000
STRAY = 99_999_999


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def build(engine: Any, runs: int, rng: random.Random) -> None:
    fs = [n for n in range(FIRST, FIRST + runs) if rng.random() > 0.02]
    a = [n for n in fs if rng.random() > 0.03]
    u = [n for n in a if rng.random() > 0.05] + [STRAY]
    now = utcnow()
    with Session(engine) as session:
        session.execute(
            insert(Run),
            [
                {
                    "run_number": n,
                    "readiness": "ready",
                    "config_name": f"cfg{n % 7}",
                    "excluded_reason": "bench" if n % 997 == 0 else None,
                    "first_seen_at": now,
                    "last_scanned_at": now,
                }
                for n in fs
            ],
        )
        session.execute(
            insert(StoreRun), [{"store": "artdaqdb", "run_number": n, "seen_at": now} for n in a]
        )
        session.execute(
            insert(StoreRun), [{"store": "ucondb", "run_number": n, "seen_at": now} for n in u]
        )
        imported, migrated = set(a), set(u)
        session.execute(
            insert(StageStatus),
            [
                {
                    "run_number": n,
                    "stage": "import",
                    "state": "done" if n in imported else "failed",
                    "updated_at": now,
                }
                for n in fs
            ],
        )
        session.execute(
            insert(StageStatus),
            [
                {
                    "run_number": n,
                    "stage": "migrate",
                    "state": "done" if n in migrated else "retry",
                    "updated_at": now,
                }
                for n in a
            ],
        )
        session.commit()


def legacy_report(engine: Any) -> dict[str, int]:
    """What the legacy tool did: load every set, build range(min, max + 1), subtract."""
    with Session(engine) as session:
        fs = set(session.exec(select(Run.run_number)))
        stores: dict[str, set[int]] = {"artdaqdb": set(), "ucondb": set()}
        for store, number in session.exec(select(StoreRun.store, StoreRun.run_number)):
            if number != STRAY:
                stores[store].add(number)
    figures = {}
    for name, runs in (("filesystem", fs), *stores.items()):
        full = set(range(min(runs), max(runs) + 1))
        figures[name] = len(sorted(full - runs))
    figures["to_import"] = len(fs - stores["artdaqdb"])
    figures["to_migrate"] = len(stores["artdaqdb"] - stores["ucondb"])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        engine = make_engine(url)
        migrate.upgrade(engine)
        build(engine, args.runs, random.Random(7))
        settings = Settings(
            source_files={"run_records_dir": "/data/run_records"},
            artdaq_db={"database_uri": "filesystemdb:///data/archive", "fcl_conf_dir": "/x"},
            ucon_db={
                "server_url": "https://ucon.example/app",
                "folder_name": "runs",
                "object_name": "configuration",
                "writer_user": "writer",
                "writer_password": "pw",
            },
            database={"url": url},
        )
        with Session(engine) as session:
            report_s, report = timed(lambda: build_status_report(session, settings))
            text_s, _ = timed(lambda: render_legacy_text(report, compare_state=True))
            first_s, _ = timed(
                lambda: runs_page(session, RunFilter(), after=None, limit=100, secrets=[])
            )
            deep_s, _ = timed(
                lambda: runs_page(
                    session, RunFilter(), after=FIRST + args.runs - 200, limit=100, secrets=[]
                )
            )
            failed = RunFilter(stage=Stage.MIGRATE, states=(State.RETRY,))
            filtered_s, _ = timed(
                lambda: runs_page(session, failed, after=None, limit=100, secrets=[])
            )
        export_s, size = timed(
            lambda: sum(
                len(c)
                for c in csv_chunks(iter_runs(engine, RunFilter(), page_size=1000, secrets=[]))
            )
        )
        legacy_s, legacy = timed(lambda: legacy_report(engine))
        engine.dispose()
    ucondb = report.sources[2]
    figures = {
        "runs": args.runs,
        "report_sql_s": round(report_s, 3),
        "render_text_s": round(text_s, 4),
        "legacy_baseline_without_stray_s": round(legacy_s, 3),
        "legacy_integers_with_stray": STRAY - FIRST + 1,
        "ucondb_gaps_total": ucondb.gaps_total,
        "filesystem_gaps_total_sql": report.sources[0].gaps_total,
        "filesystem_gaps_legacy": legacy["filesystem"],
        "runs_first_page_s": round(first_s, 4),
        "runs_deep_page_s": round(deep_s, 4),
        "runs_filtered_page_s": round(filtered_s, 4),
        "csv_export_s": round(export_s, 3),
        "csv_export_bytes": size,
    }
    print(json.dumps(figures, indent=2))
    print(
        f"report in SQL {report_s:.2f}s for {args.runs} runs/source incl. a stray {STRAY} "
        f"(legacy method {legacy_s:.2f}s without it); page {first_s * 1000:.0f} ms, "
        f"deep page {deep_s * 1000:.0f} ms, full CSV export {export_s:.2f}s"
    )


if __name__ == "__main__":
    main()
