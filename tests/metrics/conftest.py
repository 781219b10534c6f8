"""A local Carbon line receiver on 127.0.0.1 that records each connection's bytes."""

import socketserver
import threading
from collections.abc import Iterator

import pytest
from metrics_support import CarbonListener


@pytest.fixture
def carbon_listener() -> Iterator[CarbonListener]:
    """Accepts connections; each connection's whole text is kept in arrival order."""
    listeners: list[CarbonListener] = []

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            listeners[0].received(self.rfile.read().decode("utf-8"))

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    listeners.append(CarbonListener(server.server_address[1]))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield listeners[0]
    server.shutdown()
    server.server_close()
