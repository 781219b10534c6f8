"""Status report and run listing cost on a large ledger, against the legacy in-memory baseline.

For each size N, builds a ledger (SQLite, or a scratch schema on the PostgreSQL server given by
`--database-url`) with N runs per source (a few percent missing at random, failures,
exclusions and one stray run 99999999 in UconDB), then times the SQL report (its first
computation on the new ledger, then a second one), the legacy-style report (Python sets over
every integer between min and max, computed without the stray run because with it the legacy
method would build ~10^8 integers), the first and a deep keyset page of `/api/runs`, and a
full CSV export. Prints JSON and a one-line summary.

    .venv/bin/python bench/report.py [--runs 100000 ...] [--database-url postgresql+psycopg://…]
"""

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import print_figures
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
)
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.config import Settings
from app.models import Run, Stage, State, StoreRun
from app.reports.legacy_text import render_legacy_text
from app.reports.run_export import csv_chunks
from app.reports.run_listing import RunFilter, iter_runs, runs_page
from app.reports.status import build_status_report
from app.timeutil import utcnow

FIRST = 10_000
STRAY = 99_999_999
IN_FS = f"{draw(1)} >= 200"
IN_A = f"{IN_FS} AND {draw(2)} >= 300"
IN_U = f"{IN_A} AND {draw(3)} >= 500"


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def flag(condition: str) -> str:
    return f"CASE WHEN {condition} THEN 1 ELSE 0 END"


def build(engine: Engine, runs: int) -> None:
    """FS misses ~2% of the runs, A ~3% of FS, U ~5% of A plus the stray run; every 997th run
    is excluded; imports are done for runs in A (else failed), migrations for U (else retry)."""
    create_plan(
        engine, FIRST, runs, {"fs": flag(IN_FS), "a": flag(IN_A), "u": flag(IN_U)}, now=utcnow()
    )
    fill(
        engine,
        [
            runs_rows("fs = 1"),
            "INSERT INTO store_runs (store, run_number, seen_at) SELECT 'artdaqdb', n, clock.at "
            f"{FROM_PLAN} WHERE a = 1",
            "INSERT INTO store_runs (store, run_number, seen_at) SELECT 'ucondb', n, clock.at "
            f"{FROM_PLAN} WHERE u = 1",
            "INSERT INTO store_runs (store, run_number, seen_at) "
            "SELECT 'ucondb', 99999999, at FROM bench_clock WHERE k = 0",
            "INSERT INTO stage_status (run_number, stage, state, attempts, "
            "attempts_before_reset, updated_at) "
            "SELECT n, 'import', CASE WHEN a = 1 THEN 'done' ELSE 'failed' END, 1, 0, clock.at "
            f"{FROM_PLAN} WHERE fs = 1",
            "INSERT INTO stage_status (run_number, stage, state, attempts, "
            "attempts_before_reset, updated_at) "
            "SELECT n, 'migrate', CASE WHEN u = 1 THEN 'done' ELSE 'retry' END, 1, 0, clock.at "
            f"{FROM_PLAN} WHERE a = 1",
        ],
    )


def legacy_report(engine: Engine) -> dict[str, int]:
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


def settings_for(url: str) -> Settings:
    return Settings(
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


def measure(runs: int, database_url: str | None) -> dict[str, Any]:
    """Seed a ledger of `runs` runs per source and time the report, pages, export, baseline."""
    with tempfile.TemporaryDirectory() as tmp, scratch_ledger(Path(tmp), database_url) as url:
        engine = migrated_engine(url)
        seed_s, _ = timed(lambda: build(engine, runs))
        settings = settings_for(url)
        with Session(engine) as session:
            report_s, report = timed(lambda: build_status_report(session, settings))
            again_s, _ = timed(lambda: build_status_report(session, settings))
            text_s, _ = timed(lambda: render_legacy_text(report, compare_state=True))
            first_s, _ = timed(
                lambda: runs_page(session, RunFilter(), after=None, limit=100, secrets=[])
            )
            deep_s, _ = timed(
                lambda: runs_page(
                    session, RunFilter(), after=FIRST + runs - 200, limit=100, secrets=[]
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
    return {
        "runs": runs,
        "seed_s": round(seed_s, 2),
        "report_sql_s": round(report_s, 3),
        "report_sql_again_s": round(again_s, 3),
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, nargs="+", default=[100_000])
    add_database_option(parser)
    args = parser.parse_args()
    results = [measure(runs, args.database_url) for runs in args.runs]
    kind = backend(args.database_url)
    print_figures(
        "report",
        {"backend": kind, "results": results},
        f"{kind}: "
        + "; ".join(
            f"{r['runs']} runs/source incl. a stray {STRAY}: report in SQL {r['report_sql_s']}s "
            f"(again {r['report_sql_again_s']}s; legacy method "
            f"{r['legacy_baseline_without_stray_s']}s without the stray run), page "
            f"{r['runs_first_page_s'] * 1000:.0f} ms, deep page {r['runs_deep_page_s'] * 1000:.0f}"
            f" ms, full CSV export {r['csv_export_s']}s"
            for r in results
        ),
    )


if __name__ == "__main__":
    main()
