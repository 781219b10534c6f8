"""Scanner cost: a full first scan (the baseline) against incremental rescans of the same tree.

Builds N run directories (small DAQInterface-like files; the scanner never opens the process
`.fcl` files, so their size does not matter), scans them into a fresh SQLite ledger, then
rescans with nothing changed and with a few runs stopped. Prints JSON and a one-line summary.

    .venv/bin/python bench/scan.py [--runs 5000]
"""

import argparse
import json
import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlmodel import Session, SQLModel, create_engine

from app.runrecords import scan as scan_module
from app.runrecords.metadata import format_daq_time
from app.runrecords.readiness import ScanPolicy
from app.runrecords.scan import scan_records
from app.timeutil import utcnow


def build(root: Path, runs: int, running: int) -> None:
    """Ended runs in partition 1, then `running` runs in partitions of their own."""
    now = utcnow()
    for index in range(runs):
        path = root / str(1000 + index)
        path.mkdir()
        start = format_daq_time(now - timedelta(hours=2))
        lines = f"Config name: bench\n\nDAQInterface start time: {start}\n"
        if index < runs - running:
            lines += f"\nDAQInterface stop time: {format_daq_time(now - timedelta(hours=1))}\n"
        partition = 1 if index < runs - running else 2 + index
        (path / "metadata.txt").write_text(lines)
        (path / "environment.txt").write_text(f"export DAQINTERFACE_PARTITION_NUMBER={partition}\n")
        for name in ("boot.txt", "settings.txt", "tpc01.fcl", "EventBuilder1.fcl"):
            (path / name).write_text("x: 1\n")


def timed_scan(engine: object, root: Path, now: object) -> tuple[float, dict[str, int]]:
    with Session(engine) as session:  # type: ignore[arg-type]
        started = time.perf_counter()
        result = scan_records(session, root, policy=ScanPolicy(), now=now)  # type: ignore[arg-type]
        session.commit()
        return time.perf_counter() - started, result.counts()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5000)
    parser.add_argument("--running", type=int, default=20)
    args = parser.parse_args()
    reads = 0
    real_read = scan_module._read_capped

    def counting(path: Path, limit: int) -> bytes:
        nonlocal reads
        reads += 1
        return real_read(path, limit)

    scan_module._read_capped = counting  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "records"
        root.mkdir()
        build(root, args.runs, args.running)
        engine = create_engine(f"sqlite:///{Path(tmp) / 'ledger.db'}")
        SQLModel.metadata.create_all(engine)
        now = utcnow() + timedelta(minutes=5)
        full, full_counts = timed_scan(engine, root, now)
        full_reads, reads = reads, 0
        rescan, rescan_counts = timed_scan(engine, root, now + timedelta(seconds=1))
        rescan_reads, reads = reads, 0
        for index in range(args.runs - args.running, args.runs - args.running + 10):
            with (root / str(1000 + index) / "metadata.txt").open("a") as handle:
                handle.write(f"\nDAQInterface stop time: {format_daq_time(utcnow())}\n")
        changed, changed_counts = timed_scan(engine, root, now + timedelta(minutes=2))
        changed_reads = reads
        engine.dispose()
    figures = {
        "runs": args.runs,
        "full_scan_s": round(full, 3),
        "full_scan_file_reads": full_reads,
        "rescan_unchanged_s": round(rescan, 3),
        "rescan_unchanged_file_reads": rescan_reads,
        "rescan_10_stopped_s": round(changed, 3),
        "rescan_10_stopped_file_reads": changed_reads,
        "speedup_unchanged": round(full / rescan, 1) if rescan else None,
        "full_counts": full_counts,
        "rescan_counts": rescan_counts,
        "stopped_counts": changed_counts,
        "cpu_count": os.cpu_count(),
    }
    print(json.dumps(figures, indent=2))
    print(
        f"scan of {args.runs} runs: full {full:.2f} s ({full_reads} reads), unchanged rescan "
        f"{rescan:.2f} s ({rescan_reads} reads), 10 stopped {changed:.2f} s ({changed_reads} reads)"
    )


if __name__ == "__main__":
    main()
