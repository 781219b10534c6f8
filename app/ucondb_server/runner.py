"""Run the UconDB stand-in under uvicorn in a background thread, for tests, benchmarks and demos."""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from app.ucondb_server.app import DEFAULT_PREFIX, create_app
from app.ucondb_server.state import ServerState

START_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class RunningServer:
    """A started stand-in: its base URL (ending in the prefix, e.g. `/app`) and its state."""

    base_url: str
    state: ServerState


@contextmanager
def serve_in_background(
    state: ServerState,
    *,
    prefix: str = DEFAULT_PREFIX,
    host: str = "127.0.0.1",
    port: int = 0,
    control: bool = False,
    certfile: Path | None = None,
    keyfile: Path | None = None,
) -> Iterator[RunningServer]:
    """Serve on `host:port` (0 = a free port) until the block ends; stalled requests are cut.

    With `certfile` and `keyfile` it serves HTTPS, so TLS verification can be tested too.
    """
    app = create_app(state, prefix=prefix, control=control)
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="off",
        access_log=False,
        timeout_graceful_shutdown=1,
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
    )
    server = uvicorn.Server(config)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the UconDB stand-in did not start")
            time.sleep(0.01)
        bound_host, bound_port = sock.getsockname()[:2]
        url_host = f"[{bound_host}]" if family == socket.AF_INET6 else bound_host
        scheme = "https" if certfile else "http"
        yield RunningServer(f"{scheme}://{url_host}:{bound_port}{prefix}", state)
    finally:
        server.should_exit = True
        thread.join(timeout=START_TIMEOUT_SECONDS)
        sock.close()
