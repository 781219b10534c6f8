"""The dashboard under uvicorn in a background thread on a free loopback port (for a browser)."""

from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from app.threaded_server import serving

START_TIMEOUT_SECONDS = 15.0


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """Run `app` (lifespan included) until the block ends; yields its base URL."""
    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=2)
    with serving(
        config, host="127.0.0.1", port=0, what="the dashboard", timeout=START_TIMEOUT_SECONDS
    ) as (host, port):
        yield f"http://{host}:{port}"
