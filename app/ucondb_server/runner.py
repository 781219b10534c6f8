"""Run the UconDB stand-in under uvicorn in a background thread, for tests, benchmarks and demos."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from app.threaded_server import serving
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
    with serving(
        config, host=host, port=port, what="the UconDB stand-in", timeout=START_TIMEOUT_SECONDS
    ) as (bound_host, bound_port):
        url_host = f"[{bound_host}]" if ":" in bound_host else bound_host
        scheme = "https" if certfile else "http"
        yield RunningServer(f"{scheme}://{url_host}:{bound_port}{prefix}", state)
