"""Benchmark: FHiCL parse + artdaq_database conversion over the SBND configurations.

Prints one JSON object (throughput in MB/s of source bytes, per-file p50/p99 latency) and a
one-line summary. Baseline measured in the same run: the stdlib's C `json.loads` reading the
same documents as JSON, i.e. the cost of merely loading the equivalent data.
Goal (issue): at least 2 MB/s parse + convert on one core.

    .venv/bin/python bench/fhicl.py [--testdata ../shared/testdata] [--repeat 5]
"""

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from app.fhicl.dbjson import fhicl_to_document
from app.fhicl.errors import FhiclError
from app.fhicl.files import decode
from app.fhicl.parser import parse

GOAL_MB_PER_S = 2.0
DEFAULT_TESTDATA = Path(__file__).resolve().parents[2] / "shared" / "testdata"


def _best_pass(items: list[str], work: Callable[[str], object], repeat: int) -> tuple[float, float]:
    """(wall, CPU) seconds of the fastest of `repeat` passes over `items`."""
    best_wall = best_cpu = float("inf")
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        for item in items:
            work(item)
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return best_wall, best_cpu


def _latencies_ms(texts: list[str], repeat: int) -> list[float]:
    """Per-file parse+convert time, the best of `repeat` tries for each file."""
    latencies = []
    for text in texts:
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            fhicl_to_document(text, name="bench")
            best = min(best, time.perf_counter() - start)
        latencies.append(best * 1000)
    return latencies


def run(testdata: Path, repeat: int) -> dict[str, object]:
    """Measure everything; files the parser rejects are counted, not timed."""
    paths = sorted((testdata / "sbndaq").rglob("*.fcl"))
    if not paths:
        raise SystemExit(f"no *.fcl files under {testdata / 'sbndaq'}")
    texts, invalid = [], 0
    for path in paths:
        text = decode(path.read_bytes())
        try:
            parse(text, filename=str(path))
        except FhiclError:
            invalid += 1
            continue
        texts.append(text)
    size = sum(len(text.encode("utf-8", "surrogateescape")) for text in texts)
    as_json = [
        json.dumps([list(converted.document), converted.comments])
        for converted in (fhicl_to_document(text, name="bench") for text in texts)
    ]
    json_size = sum(len(item.encode()) for item in as_json)

    convert_wall, convert_cpu = _best_pass(texts, lambda t: fhicl_to_document(t, name="b"), repeat)
    parse_wall, _ = _best_pass(texts, lambda t: parse(t, filename="b"), repeat)
    json_wall, _ = _best_pass(as_json, json.loads, repeat)
    latencies = _latencies_ms(texts, repeat)
    quantiles = statistics.quantiles(latencies, n=100, method="inclusive")
    mb = size / 1e6
    return {
        "files": len(texts),
        "invalid_files_skipped": invalid,
        "source_bytes": size,
        "repeat": repeat,
        "parse_convert": {
            "mb_per_s": round(mb / convert_wall, 3),
            "cpu_mb_per_s": round(mb / convert_cpu, 3),
            "p50_ms": round(quantiles[49], 3),
            "p99_ms": round(quantiles[98], 3),
            "max_ms": round(max(latencies), 3),
        },
        "parse_only": {"mb_per_s": round(mb / parse_wall, 3)},
        "baseline_json_loads": {
            "json_bytes": json_size,
            "mb_per_s_of_source": round(mb / json_wall, 3),
            "seconds": round(json_wall, 4),
        },
        "goal_mb_per_s": GOAL_MB_PER_S,
        "meets_goal": mb / convert_cpu >= GOAL_MB_PER_S,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--testdata", type=Path, default=DEFAULT_TESTDATA)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    figures = run(args.testdata, args.repeat)
    print(json.dumps(figures, indent=2))
    pc = figures["parse_convert"]
    base = figures["baseline_json_loads"]
    assert isinstance(pc, dict) and isinstance(base, dict)
    print(
        f"fhicl: parse+convert {pc['mb_per_s']} MB/s wall, {pc['cpu_mb_per_s']} MB/s CPU "
        f"(p50 {pc['p50_ms']} ms, p99 {pc['p99_ms']} ms) over {figures['files']} SBND files; "
        f"json.loads of the same documents: {base['mb_per_s_of_source']} MB/s of source; "
        f"goal {GOAL_MB_PER_S} MB/s {'met' if figures['meets_goal'] else 'NOT met'}",
        file=sys.stdout,
    )


if __name__ == "__main__":
    main()
