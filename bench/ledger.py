"""Large benchmark ledgers: a scratch database on SQLite or PostgreSQL, seeded in SQL.

A PostgreSQL benchmark gets a schema of its own (created, then dropped with everything in it),
so it never touches anyone else's tables on a shared server. Seeding is one INSERT … SELECT per
table over a plan table: a million runs take seconds, not the minutes of Python row inserts.
The plan's "random" draws are a hash of the run number, identical on both backends.
"""

import argparse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import BigInteger, Column, MetaData, Table, create_engine, insert, text
from sqlalchemy.engine import Engine, make_url

from app import migrate
from app.db import make_engine, sqlite_path
from app.timeutil import UtcDateTime

CLOCK_MINUTES = 7 * 24 * 60
_clock = Table(
    "bench_clock",
    MetaData(),
    Column("k", BigInteger, primary_key=True, autoincrement=False),
    Column("at", UtcDateTime(), nullable=False),
)


@contextmanager
def scratch_ledger(root: Path, database_url: str | None) -> Iterator[str]:
    """A fresh, empty ledger URL: a SQLite file under `root`, or (given a PostgreSQL URL) a new
    schema on that server, dropped with its tables at the end."""
    if not database_url:
        yield f"sqlite:///{root / 'ledger.sqlite3'}"
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(database_url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def add_database_option(parser: argparse.ArgumentParser) -> None:
    """`--database-url`: where the report and dashboard benchmarks build their ledgers."""
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server to measure on (a scratch schema is created and dropped); "
        "default: a SQLite file in a temporary directory",
    )


def backend(url: str | None) -> str:
    """`sqlite` or `postgresql`, for the figures (no URL: the default SQLite file)."""
    return make_url(url).get_backend_name() if url else "sqlite"


def migrated_engine(url: str) -> Engine:
    """The ledger engine with the schema at the newest revision."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    return engine


def draw(salt: int) -> str:
    """SQL for a pseudo-random integer in [0, 10000) from the plan's run number `n`: a
    multiplicative hash squared (products stay below 2^63 on both backends)."""
    mixed = f"((n * 2654435761 + {salt * 40503}) % 2147483648)"
    return f"(({mixed} * {mixed} / 65536) % 10000)"


def create_plan(
    engine: Engine, first: int, count: int, columns: dict[str, str], *, now: datetime
) -> None:
    """Table `bench_plan`: run numbers `n` = `first`… (`count` of them) with one column per
    entry of `columns` (name → SQL over `n`, e.g. a `draw`); and `bench_clock`: `now` minus k
    minutes for k in 0…CLOCK_MINUTES-1 (k = 0 is the ledger's "now")."""
    values = ", ".join(["n", *(f"{sql} AS {name}" for name, sql in columns.items())])
    with engine.begin() as connection:
        sequence = (
            "CREATE TABLE bench_plan AS WITH RECURSIVE seq(n) AS ("
            "SELECT CAST(:first AS BIGINT) UNION ALL SELECT n + 1 FROM seq WHERE n < :last) "
        )
        plan = f"SELECT {values} FROM seq"  # noqa: S608
        connection.execute(text(sequence + plan), {"first": first, "last": first + count - 1})
        _clock.create(connection)
        connection.execute(
            insert(_clock),
            [{"k": k, "at": now - timedelta(minutes=k)} for k in range(CLOCK_MINUTES)],
        )


FROM_PLAN = "FROM bench_plan JOIN bench_clock AS clock ON clock.k = 0"


def runs_rows(where: str) -> str:
    """INSERT … SELECT of the `runs` rows for the plan's runs matching `where` (every 997th
    excluded, seven configuration names)."""
    return (
        "INSERT INTO runs (run_number, readiness, config_name, excluded_reason, "
        "changed_after_archive, released, present, first_seen_at, last_scanned_at) "
        "SELECT n, 'ready', 'cfg' || CAST(n % 7 AS VARCHAR(8)), "
        "CASE WHEN n % 997 = 0 THEN 'bench' END, FALSE, FALSE, TRUE, clock.at, clock.at "
        f"{FROM_PLAN} WHERE {where}"
    )


def fill(engine: Engine, statements: list[str]) -> None:
    """Run the INSERT … SELECT statements over the plan, drop the plan, then give the planner
    the statistics a live server would have."""
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
        connection.execute(text("DROP TABLE bench_plan"))
        connection.execute(text("DROP TABLE bench_clock"))
    settle(engine)


def settle(engine: Engine) -> None:
    """PostgreSQL: VACUUM ANALYZE, as autovacuum does after a bulk load (statistics for the
    planner, a visibility map for index-only scans). SQLite: nothing; the service never runs
    ANALYZE there, so neither does the benchmark."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


def size_bytes(engine: Engine, url: str) -> int:
    """The ledger's size on disk (SQLite file and WAL, or the schema's relations)."""
    if engine.dialect.name == "postgresql":
        query = text(
            "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace s ON s.oid = c.relnamespace "
            "WHERE s.nspname = current_schema() AND c.relkind = 'r'"
        )
        with engine.connect() as connection:
            return int(connection.execute(query).scalar_one())
    path = sqlite_path(url)
    if path is None:
        return 0
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())
