"""Ledger engine and sessions: SQLite (WAL, busy timeout, one service per file) or PostgreSQL."""

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, create_engine

from app.redact import redact_url


class LedgerLockedError(RuntimeError):
    """Another process already owns this SQLite ledger (SQLite has no SKIP LOCKED)."""


def is_sqlite(url: str) -> bool:
    """Whether the ledger URL names a SQLite database."""
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL (None for in-memory databases)."""
    database = make_url(url).database
    if not database or database == ":memory:":
        return None
    return Path(database)


def _sqlite_pragmas(busy_timeout_ms: int) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return on_connect


def make_engine(url: str, *, busy_timeout_ms: int = 30000) -> Engine:
    """Create the ledger engine; SQLite files get WAL and a busy timeout, parents created."""
    if is_sqlite(url):
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
        )
        event.listen(engine, "connect", _sqlite_pragmas(busy_timeout_ms))
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on error (the caller's boundary)."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def lock_sqlite_ledger(url: str) -> TextIO | None:
    """Hold an exclusive OS lock beside a SQLite ledger for the life of the process.

    Returns the open lock file (keep a reference); None for PostgreSQL or in-memory SQLite.
    The file is never truncated before the lock is held, so a refused second instance cannot
    disturb the owner's record.
    """
    path = sqlite_path(url) if is_sqlite(url) else None
    if path is None:
        return None
    lock_path = path.with_name(path.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    handle = lock_path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read().strip() or "unknown"
        handle.close()
        raise LedgerLockedError(
            f"another rra service (pid {owner}) is already using the SQLite ledger {path}; "
            "stop it first, or use PostgreSQL (database.url) to run several instances"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def describe_url(url: str) -> str:
    """The ledger URL as it may be shown to people: password replaced by ***."""
    return redact_url(url)
