"""The README's first command, `rra demo`, as a real process: it archives the sample runs, serves
the dashboard, archives a run once it is stopped, and stops cleanly on SIGTERM."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support import free_port

pytestmark = pytest.mark.slow


def wait_json(url: str, predicate, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    last: dict = {}
    while time.monotonic() < deadline:
        try:
            last = httpx.get(url, timeout=2).json()
            if predicate(last):
                return last
        except (httpx.TransportError, ValueError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"timed out; last answer: {last}")


def test_demo_archives_everything_and_a_run_once_it_stops(tmp_path: Path) -> None:
    port, ucondb_port = free_port(), free_port()
    demo_dir = tmp_path / "demo"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app.cli",
            "demo",
            "--dir",
            str(demo_dir),
            "--runs",
            "6",
            "--port",
            str(port),
            "--ucondb-port",
            str(ucondb_port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "RRA_CONFIG": ""},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        status = wait_json(
            f"{base}/api/status", lambda s: s["stages"]["migrate"]["by_state"].get("done") == 5
        )
        assert status["stages"]["import"]["by_state"]["waiting"] == 1
        assert httpx.get(f"{base}/").status_code == 200
        running = status["newest_run_seen"]
        stopped = subprocess.run(
            [
                sys.executable,
                "-m",
                "app.cli",
                "stop-sample-run",
                str(demo_dir / "run_records"),
                str(running),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert stopped.returncode == 0, stopped.stderr
        wait_json(
            f"{base}/api/runs/{running}",
            lambda r: r.get("stages", {}).get("migrate", {}).get("state") == "done",
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, output
    assert f"Dashboard:       http://127.0.0.1:{port}/" in output
    assert "service stopped" in output
