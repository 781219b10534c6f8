"""Helpers shared by the artdaq_database store tests (imported by the test modules)."""

import hashlib
import os
from pathlib import Path

from app.stores.artdaqdb.results import ExpectedFile

SBND_PROCESS_FILES = 19


def sbnd_run_files(testdata: Path, count: int = SBND_PROCESS_FILES) -> dict[str, bytes]:
    """About 20 real SBND process files plus the schema and a small metadata file."""
    configs = testdata / "sbndaq" / "sbn-nd" / "DAQInterface" / "configs"
    processes = sorted((configs / "standard").glob("*.fcl"))[:count]
    files = {path.stem: path.read_bytes() for path in processes}
    files["metadata"] = b'config_name: "standard"\nrun_number: 12500\n'
    files["schema"] = (configs / "schema.fcl").read_bytes()
    return files


def expected_of(files: dict[str, bytes]) -> dict[str, ExpectedFile]:
    """What the project records at import time, per entity."""
    return {
        entity: ExpectedFile(len(data), hashlib.sha256(data).hexdigest())
        for entity, data in files.items()
    }


def tree_state(root: Path) -> dict[str, tuple[str, int]]:
    """sha256 and mtime (ns) of every file and directory under `root`, but not the mtime of
    `root` itself: writers stage temporary files there (§5.7) before they know whether the
    run needs them, and delete them again."""
    state = {}
    for dirpath, _dirs, names in os.walk(root):
        directory = Path(dirpath)
        if directory != root:
            state[str(directory)] = ("dir", directory.stat().st_mtime_ns)
        for name in names:
            path = directory / name
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            state[str(path)] = (digest, path.stat().st_mtime_ns)
    return state


def small_run_files() -> dict[str, bytes]:
    """A tiny valid run (no test data needed)."""
    return {
        "boot": b"daqinterface_settings: {\n  a: 1\n}\n",
        "metadata": b'config_name: "standard"\n',
        "schema": b"run_history: []\nsystem_layout: []\n",
    }
