"""The service shell as a real process: probes, docs, one instance per SQLite ledger, SIGTERM."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import free_port, write_config


def start(config: Path, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--config", str(config), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "RRA_CONFIG": ""},
    )


def wait_healthy(base: str, proc: subprocess.Popen[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(
                f"service exited early:\n{proc.stdout.read() if proc.stdout else ''}"
            )
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("service did not become healthy")


@pytest.fixture
def service(tmp_path: Path, db_url: str) -> Iterator[tuple[str, Path, subprocess.Popen[str]]]:
    config = write_config(tmp_path, db_url)
    port = free_port()
    proc = start(config, port)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc)
        yield base, config, proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_probes_docs_and_dashboard(service) -> None:
    base, _, _ = service
    assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{base}/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["checks"]["database"]["ok"] is True
    # the configured UconDB (port 9) and run-records directory do not exist: degraded, not down
    assert body["status"] == "degraded"
    assert body["checks"]["ucondb"]["ok"] is False and body["checks"]["filesystem"]["ok"] is False
    assert "do-not-show-me" not in ready.text
    assert "swagger" in httpx.get(f"{base}/docs").text.lower()
    assert httpx.get(f"{base}/openapi.json").json()["info"]["title"] == "Run Record Archiver"
    page = httpx.get(f"{base}/")
    assert page.status_code == 200 and "Run Record Archiver" in page.text
    assert "do-not-show-me" not in page.text
    assert httpx.get(f"{base}/static/style.css").status_code == 200


def test_sigterm_shuts_down_cleanly(service) -> None:
    _, _, proc = service
    proc.send_signal(signal.SIGTERM)
    output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, output
    assert "Application shutdown complete" in output
    assert "do-not-show-me" not in output


def test_second_instance_on_one_sqlite_file_is_refused(service, db_url: str) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("the single-instance lock applies to SQLite ledgers only")
    _, config, first = service
    second = start(config, free_port())
    output, _ = second.communicate(timeout=60)
    assert second.returncode == 1
    assert "another rra service" in output and str(first.pid) in output
    assert first.poll() is None  # the running instance is undisturbed
