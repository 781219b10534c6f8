"""artdaq_database filesystemdb store: archive and export rates, listing at 100,000 runs.

Archives N SBND-sized runs (about 20 real process FHiCL files each, from ../shared when present)
into a fresh filesystemdb, exports them back, and compares with a baseline measured in the same
run: a plain copy of the same bytes into one directory per run (with and without fsync) and a
plain read of them back. Listing builds a realistic RunHistory/index.json for 100,000 runs
directly, then times `list_runs` against a bare `json.loads` of the same file, and one archive
into that large database (every archive rewrites the whole index, as the C++ tools do).
Prints JSON and a one-line summary.

    .venv/bin/python bench/artdaqdb.py [--runs 30] [--listing-runs 100000]
"""

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from app.stores.artdaqdb.filesystem import FilesystemStore
from app.stores.artdaqdb.index import empty_index
from app.stores.artdaqdb.store import open_store
from app.stores.artdaqdb.timestamps import format_timestamp

SHARED_CONFIGS = (
    Path(__file__).resolve().parents[2] / "shared/testdata/sbndaq/sbn-nd/DAQInterface/configs"
)
PROCESS_FILES = 19


def run_files() -> dict[str, bytes]:
    """About 20 SBND process files plus schema and metadata (synthetic if ../shared is absent)."""
    if SHARED_CONFIGS.is_dir():
        paths = sorted((SHARED_CONFIGS / "standard").glob("*.fcl"))[:PROCESS_FILES]
        files = {path.stem: path.read_bytes() for path in paths}
        files["schema"] = (SHARED_CONFIGS / "schema.fcl").read_bytes()
    else:
        body = "".join(f"daq.fragment_receiver.param{n}: {n}\n" for n in range(200)).encode()
        files = {f"tpc{n:02d}": body for n in range(PROCESS_FILES)}
        files["schema"] = b"run_history: []\nsystem_layout: []\n"
    files["metadata"] = b'config_name: "standard"\n'
    return files


def rate(count: int, seconds: float) -> float:
    """Items per second, rounded for the report."""
    return round(count / seconds, 2) if seconds else float("inf")


def copy_baseline(root: Path, files: dict[str, bytes], runs: int, *, fsync: bool) -> float:
    """Seconds to write the same bytes as plain files, one directory per run."""
    root.mkdir()
    started = time.perf_counter()
    for run in range(1, runs + 1):
        directory = root / str(run)
        directory.mkdir()
        for entity, data in files.items():
            with (directory / f"{entity}.fcl").open("wb") as handle:
                handle.write(data)
                if fsync:
                    handle.flush()
                    os.fsync(handle.fileno())
    return time.perf_counter() - started


def read_baseline(root: Path, runs: int) -> float:
    """Seconds to read those plain files back."""
    started = time.perf_counter()
    for run in range(1, runs + 1):
        for path in sorted((root / str(run)).iterdir()):
            path.read_bytes()
    return time.perf_counter() - started


def large_index(runs: int, per_run: int, entities: list[str]) -> dict:
    """A RunHistory index as `runs` archived runs of `per_run` documents would leave it."""
    index = empty_index()
    stamp = format_timestamp()
    for run in range(1, runs + 1):
        configuration = f"{run}/standard"
        oids = [f"{run:016x}{number:08x}" for number in range(per_run)]
        index["ouid"].extend(oids)
        index["version"][configuration] = oids
        index["configurations.name"][configuration] = oids
        index["configurations.assigned"][configuration] = [stamp]
        index["runs.name"][str(run)] = oids
        for entity, oid in zip(entities, oids, strict=False):
            index["entities.name"].setdefault(entity, []).append(oid)
    return index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--listing-runs", type=int, default=100_000)
    args = parser.parse_args()
    files = run_files()
    figures: dict[str, object] = {
        "files_per_run": len(files),
        "bytes_per_run": sum(map(len, files.values())),
        "runs": args.runs,
    }
    with tempfile.TemporaryDirectory(prefix="rra-bench-artdaqdb-") as scratch:
        base = Path(scratch)
        store = open_store(f"filesystemdb://{base}/bench_db_archive")
        assert isinstance(store, FilesystemStore)
        started = time.perf_counter()
        results = [store.archive_run(run, "standard", files) for run in range(1, args.runs + 1)]
        archive_seconds = time.perf_counter() - started
        assert all(result.outcome.value == "inserted" for result in results)
        started = time.perf_counter()
        again = [store.archive_run(run, "standard", files) for run in range(1, args.runs + 1)]
        unchanged_seconds = time.perf_counter() - started
        assert all(result.outcome.value == "unchanged" for result in again)
        started = time.perf_counter()
        for run in range(1, args.runs + 1):
            assert store.export_run(run, "standard").files["schema.fcl"] == files["schema"]
        export_seconds = time.perf_counter() - started
        copy_seconds = copy_baseline(base / "copy", files, args.runs, fsync=False)
        copy_fsync_seconds = copy_baseline(base / "copy_fsync", files, args.runs, fsync=True)
        read_seconds = read_baseline(base / "copy", args.runs)
        figures |= {
            "archive_runs_per_s": rate(args.runs, archive_seconds),
            "reimport_unchanged_runs_per_s": rate(args.runs, unchanged_seconds),
            "export_runs_per_s": rate(args.runs, export_seconds),
            "baseline_copy_runs_per_s": rate(args.runs, copy_seconds),
            "baseline_copy_fsync_runs_per_s": rate(args.runs, copy_fsync_seconds),
            "baseline_read_runs_per_s": rate(args.runs, read_seconds),
        }

        big = open_store(f"filesystemdb://{base}/big_db_archive")
        assert isinstance(big, FilesystemStore)
        big.archive_run(1, "standard", files)
        index = large_index(args.listing_runs, len(files) - 1, sorted(files))
        index_file = big.root / "RunHistory" / "index.json"
        index_file.write_text(json.dumps(index))
        del index
        started = time.perf_counter()
        listing = big.list_runs()
        list_seconds = time.perf_counter() - started
        assert len(listing.runs) == args.listing_runs
        started = time.perf_counter()
        json.loads(index_file.read_text())
        parse_seconds = time.perf_counter() - started
        started = time.perf_counter()
        big.run_configurations()
        configurations_seconds = time.perf_counter() - started
        started = time.perf_counter()
        assert big.archive_run(args.listing_runs + 1, "standard", files).ok
        big_archive_seconds = time.perf_counter() - started
        figures |= {
            "listing_runs": args.listing_runs,
            "index_json_mb": round(index_file.stat().st_size / 1e6, 1),
            "list_runs_s": round(list_seconds, 3),
            "baseline_json_loads_s": round(parse_seconds, 3),
            "run_configurations_s": round(configurations_seconds, 3),
            "archive_into_large_db_s": round(big_archive_seconds, 3),
        }
    print(json.dumps(figures, indent=2))
    print(
        f"archive {figures['archive_runs_per_s']} runs/s, export {figures['export_runs_per_s']}"
        f" runs/s (plain copy {figures['baseline_copy_runs_per_s']}, with fsync"
        f" {figures['baseline_copy_fsync_runs_per_s']}); list_runs at {args.listing_runs} runs"
        f" {figures['list_runs_s']} s (json.loads alone {figures['baseline_json_loads_s']} s)"
    )


if __name__ == "__main__":
    main()
