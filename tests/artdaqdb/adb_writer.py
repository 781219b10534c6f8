"""A separate writer process for the concurrency and crash tests: archives a range of runs.

Usage: python adb_writer.py URI FIRST_RUN COUNT; prints `ready` once imported, then one line
per archived run.
"""

import sys

from adb_helpers import small_run_files

from app.stores.artdaqdb.store import open_store


def run_files(run: int) -> dict[str, bytes]:
    """A run of a dozen small files whose content depends on the run number."""
    files = small_run_files()
    for number in range(10):
        files[f"tpc{number:02d}"] = f"run: {run}\nboard: {number}\n".encode()
    return files


def main() -> None:
    uri, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    store = open_store(uri)
    print("ready", flush=True)
    for run in range(first, first + count):
        result = store.archive_run(run, "standard", run_files(run))
        print(run, result.outcome.value, flush=True)
        if not result.ok:
            sys.exit(1)


if __name__ == "__main__":
    main()
