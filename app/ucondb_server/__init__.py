"""A UconDB-compatible local server: a stand-in for the real one, which cannot run here.

It is a test double. It reproduces the observable behaviour that spec/ucondb.md §8 lists (routing,
parameters, content types, streaming without Content-Length, HTML 500 pages, Digest quirks,
statuses, key uniqueness, blob de-duplication, json-seq lookups in random order, one lock for
uploads and downloads, a body size limit) plus test-only fault injection and a request log.

Not implemented: `/create_folder`, `/tag`, `/data_for_versions`, the browser UI (`/`, `/UI`),
the `X-UConDB-Authenticator` signature scheme, `tr`/`tr_since` filters of `/versions`, date
strings for `tv`/`tr` (epoch seconds only), `format=csv`, `get_blob` compression, several
server processes behind one URL, and PostgreSQL itself (storage is SQLite).
"""

from app.ucondb_server.app import DEFAULT_PREFIX, create_app
from app.ucondb_server.runner import RunningServer, serve_in_background
from app.ucondb_server.state import Fault, RecordedRequest, ServerState, make_state

__all__ = [
    "DEFAULT_PREFIX",
    "Fault",
    "RecordedRequest",
    "RunningServer",
    "ServerState",
    "create_app",
    "make_state",
    "serve_in_background",
]
