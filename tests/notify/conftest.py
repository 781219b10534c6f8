"""Real local receivers for the alert channels: an aiosmtpd SMTP server and a Slack Web API
endpoint on 127.0.0.1."""

import json
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from notify_support import (
    Recorder,
    SlackRequest,
    SlackServer,
    SmtpServer,
    TlsFiles,
    authenticator,
    free_port,
)


@pytest.fixture
def smtp_server_factory() -> Iterator[Callable[..., SmtpServer]]:
    """Start aiosmtpd servers on 127.0.0.1 (`port` to reuse one); stopped after the test."""
    controllers: list[Controller] = []

    def start(*, port: int | None = None, **smtp_options: Any) -> SmtpServer:
        server = SmtpServer(port or free_port())
        controller = Controller(
            Recorder(server),
            hostname="127.0.0.1",
            port=server.port,
            authenticator=authenticator,
            **smtp_options,
        )
        controller.start()
        controllers.append(controller)
        return server

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def smtp_server(smtp_server_factory: Callable[..., SmtpServer]) -> SmtpServer:
    """A plain SMTP server accepting every message, login allowed without TLS."""
    return smtp_server_factory(auth_require_tls=False)


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    files = TlsFiles(folder / "cert.pem", folder / "key.pem")
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(files.key), "-out", str(files.cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return files


@pytest.fixture
def slack_server() -> Iterator[SlackServer]:
    """A Slack Web API stand-in on 127.0.0.1 that records each request and answers `reply`."""
    state: list[SlackServer] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            server = state[0]
            server.requests.append(
                SlackRequest(self.path, self.headers.get("Authorization"), json.loads(raw))
            )
            body = json.dumps(server.reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: Any) -> None:
            return

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.append(SlackServer(f"http://127.0.0.1:{httpd.server_address[1]}/api/"))
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state[0]
    httpd.shutdown()
    httpd.server_close()
