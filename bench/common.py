"""What the end-to-end benchmarks share: an archive layout in a temp directory, the UconDB
stand-in and `rra serve` as subprocesses on loopback, a legacy-format config, and figures.

The stand-in runs in its own process so that neither the pipeline's nor a baseline's CPU time
is shared with the server's (on a 2-core machine a thread would steal from whoever hosts it).
"""

import json
import os
import platform
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from app.demo import DEMO_SCHEMA
from app.ucondb_server.app import DEFAULT_PREFIX

USER = "bench-writer"
FOLDER = "run_records"
BASELINE_FOLDER = "bench_baseline"
OBJECT = "configuration"
START_TIMEOUT_SECONDS = 30.0
RRA = [sys.executable, "-m", "app.cli"]


@dataclass(frozen=True)
class UconDB:
    """A running stand-in: where it listens and the writer's password."""

    base_url: str
    password: str


def free_port() -> int:
    """A loopback port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(
    url: str, proc: subprocess.Popen[bytes], timeout: float = START_TIMEOUT_SECONDS
) -> None:
    """Poll `url` until it answers 200; fail early if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode} before {url} answered")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout:g} s")


@contextmanager
def running(
    args: list[str], url: str, *, env: dict[str, str] | None = None, log: Path | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Start a subprocess (output to `log`), wait until `url` answers, SIGTERM it at the end."""
    with ExitStack() as stack:
        sink = stack.enter_context(log.open("wb")) if log else subprocess.DEVNULL
        proc = subprocess.Popen(
            args, env={**os.environ, **(env or {})}, stdout=sink, stderr=subprocess.STDOUT
        )
        try:
            wait_http(url, proc)
            yield proc
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


@contextmanager
def ucondb_stand_in(log: Path | None = None) -> Iterator[UconDB]:
    """`rra ucondb-server` on a free loopback port with the archive and the baseline folders."""
    port, password = free_port(), secrets.token_urlsafe(12)
    args = [
        *RRA,
        "ucondb-server",
        f"--port={port}",
        f"--user={USER}",
        f"--folder={FOLDER}",
        f"--folder={BASELINE_FOLDER}",
    ]
    base = f"http://127.0.0.1:{port}{DEFAULT_PREFIX}"
    with running(args, f"{base}/version", env={"RRA_UCONDB_SERVER_PASSWORD": password}, log=log):
        yield UconDB(base, password)


def prepare_archive(root: Path) -> Path:
    """The stores' directories under `root` (records are written by the caller); returns root."""
    (root / "conf").mkdir(parents=True, exist_ok=True)
    (root / "conf" / "schema.fcl").write_text(DEMO_SCHEMA, encoding="ascii")
    (root / "records").mkdir(exist_ok=True)
    return root


def write_config(root: Path, ucondb: UconDB, **sections: dict[str, Any]) -> Path:
    """A legacy-format config.yaml for the archive under `root`; `sections` override settings.

    Only paths and credentials are set here; every other setting keeps its default unless the
    caller overrides it (and says so in its output).
    """
    config: dict[str, dict[str, Any]] = {
        "app": {"work_dir": str(root / "work")},
        "source_files": {"run_records_dir": str(root / "records")},
        "artdaq_db": {
            "database_uri": f"filesystemdb://{root / 'db_archive'}",
            "fcl_conf_dir": str(root / "conf"),
        },
        "ucon_db": {
            "server_url": ucondb.base_url,
            "folder_name": FOLDER,
            "object_name": OBJECT,
            "writer_user": USER,
            "writer_password": ucondb.password,
        },
    }
    for name, values in sections.items():
        config[name] = {**config.get(name, {}), **values}
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@contextmanager
def rra_serve(config: Path, log: Path | None = None) -> Iterator[str]:
    """`rra serve` on a free loopback port; yields its base URL."""
    port = free_port()
    args = [*RRA, "serve", "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    with running(args, f"{base}/healthz", log=log):
        yield base


def quantile(values: list[float], q: float) -> float:
    """The q-quantile (0 < q < 1) with linear interpolation between order statistics."""
    if not values:
        raise ValueError("no values")
    if len(values) == 1:
        return values[0]
    cuts = statistics.quantiles(values, n=1000, method="inclusive")
    return cuts[max(0, min(len(cuts) - 1, round(q * 1000) - 1))]


def machine() -> dict[str, Any]:
    """Where the figures were measured: CPU count, memory, Python, kernel, and the load average
    when they were printed (the benchmark's own processes count in it, and so does other work
    on the machine)."""
    pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(pages / 2**30, 1),
        "loadavg_1_5_15": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def print_figures(name: str, figures: dict[str, Any], summary: str) -> None:
    """The benchmark's JSON (with the machine), then its one-line summary."""
    print(json.dumps({"benchmark": name, "machine": machine(), **figures}, indent=2))
    print(summary)
