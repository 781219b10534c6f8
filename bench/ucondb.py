"""Benchmark: UconDB uploads+verifications per second through `UconDBClient` vs plain httpx.

Both run in the same process against the local stand-in on loopback, with the same byte sizes
and iteration counts, interleaved; figures are medians per round trip. The baseline is the bare
protocol (Digest POST, GET to end of stream, MD5); the ratio shows what the client adds (key
lookup before upload, header checks, streamed hashing). Prints JSON, then a one-line summary.
"""

import argparse
import hashlib
import json
import statistics
import time
from collections.abc import Callable

import httpx

from app.stores.ucondb import UconDBClient, checksums_of
from app.ucondb_server import make_state, serve_in_background

USER, PASSWORD = "bench", "bench-password"
FOLDER, OBJECT = "run_records", "configuration"


def _payload(size: int, run: int) -> bytes:
    """Distinct bytes per run, so the server never de-duplicates across iterations."""
    stamp = f"run {run:012d}\n".encode()
    return stamp + b"x" * (size - len(stamp))


def _interleaved(
    iterations: int, first_run: int, size: int, steps: list[Callable[[int, bytes], None]]
) -> list[list[float]]:
    """Seconds per round trip of each step, alternating steps so load drifts hit both alike."""
    seconds: list[list[float]] = [[] for _ in steps]
    run = first_run
    for _ in range(iterations):
        for index, step in enumerate(steps):
            data = _payload(size, run)
            started = time.perf_counter()
            step(run, data)
            seconds[index].append(time.perf_counter() - started)
            run += 1
    return seconds


def _client_step(client: UconDBClient) -> Callable[[int, bytes], None]:
    def step(run: int, data: bytes) -> None:
        packed = checksums_of(data)  # what the pipeline records once, when it packs the blob
        client.upload(run, data, checksums=packed)
        client.verify(run, packed)

    return step


def _baseline_step(http: httpx.Client, auth: httpx.DigestAuth) -> Callable[[int, bytes], None]:
    path = f"/data/{FOLDER}/{OBJECT}"

    def step(run: int, data: bytes) -> None:
        params = {"full_meta": "yes", "key": str(run), "tag": str(run), "override": "no"}
        http.post(path, params=params, content=data, auth=auth).raise_for_status()
        body = http.get(f"{path}/key={run}").raise_for_status().content
        if (
            hashlib.md5(body, usedforsecurity=False).digest()
            != hashlib.md5(data, usedforsecurity=False).digest()
        ):
            raise RuntimeError(f"baseline: run {run} came back different")

    return step


def main() -> None:
    """Run both paths for each size and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small-iterations", type=int, default=60, help="100 KB round trips")
    parser.add_argument("--large-iterations", type=int, default=8, help="10 MB round trips")
    args = parser.parse_args()
    cases = [(100 * 1000, args.small_iterations), (10 * 1000 * 1000, args.large_iterations)]
    state = make_state(users={USER: PASSWORD}, folders=(FOLDER,))
    results = []
    with serve_in_background(state) as server:
        client = UconDBClient(
            server.base_url, FOLDER, OBJECT, user=USER, password=PASSWORD, timeout_seconds=60
        )
        http = httpx.Client(base_url=server.base_url, timeout=60)
        auth = httpx.DigestAuth(USER, PASSWORD)
        client_step, baseline_step = _client_step(client), _baseline_step(http, auth)
        client_step(1, b"warm-up")  # both pay the first Digest challenge outside the timing
        baseline_step(2, b"warm-up")
        next_run = 10
        for size, iterations in cases:
            ours, baseline = _interleaved(iterations, next_run, size, [client_step, baseline_step])
            next_run += 2 * iterations
            ours_s, baseline_s = statistics.median(ours), statistics.median(baseline)
            results.append(
                {
                    "size_bytes": size,
                    "iterations": iterations,
                    "client_ops_per_s": round(1 / ours_s, 2),
                    "baseline_ops_per_s": round(1 / baseline_s, 2),
                    "client_mb_per_s": round(size / ours_s / 1e6, 1),
                    "overhead_ratio": round(ours_s / baseline_s, 3),
                }
            )
        client.close()
        http.close()
    print(json.dumps({"benchmark": "ucondb_upload_verify", "results": results}, indent=2))
    print(
        "ucondb: "
        + "; ".join(
            f"{r['size_bytes'] // 1000} KB {r['client_ops_per_s']}/s client vs "
            f"{r['baseline_ops_per_s']}/s plain httpx (x{r['overhead_ratio']})"
            for r in results
        )
    )


if __name__ == "__main__":
    main()
