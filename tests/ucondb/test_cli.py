"""`rra ucondb-server` starts the stand-in on the requested loopback port."""

import socket
import subprocess
import sys
import time

import httpx
import pytest
from typer.testing import CliRunner

from app.cli.application import cli


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_ucondb_server_command_serves_uploads_with_the_given_credentials() -> None:
    port = _free_port()
    command = [
        sys.executable, "-m", "app.cli", "ucondb-server", "--port", str(port),
        "--user", "archiver", "--folder", "run_records", "--prefix", "/ucon/app",
    ]  # fmt: skip
    env = {"RRA_UCONDB_SERVER_PASSWORD": "cli-secret", "PATH": "/usr/bin:/bin"}
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/ucon/app"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                assert httpx.get(f"{base}/version").text == "3.9.7"
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline
                time.sleep(0.1)
        upload = httpx.post(
            f"{base}/data/run_records/configuration",
            params={"key": "1"},
            content=b"x",
            auth=httpx.DigestAuth("archiver", "cli-secret"),
        )
        assert upload.status_code == 200
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0].decode()
    assert f"UconDB stand-in at http://127.0.0.1:{port}/ucon/app" in output
    assert "cli-secret" not in output


def test_user_without_password_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RRA_UCONDB_SERVER_PASSWORD", raising=False)

    result = CliRunner().invoke(cli, ["ucondb-server", "--port", "1", "--user", "u"])

    assert result.exit_code == 1
    assert "--user and --password go together" in result.output
