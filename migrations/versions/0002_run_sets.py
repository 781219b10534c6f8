"""run sets kept by triggers; stage_status indexes for range counts

Reports and the dashboard need gaps and islands of whole sources; at 10^6 runs an ordered
window over every row costs about a second per source. `run_sets` holds each source's runs as
64-bit words, kept exact by triggers on the tables that define the sets, so the report reads
a few thousand words. The triggers live in the database so that every writer keeps the sets,
whichever code path or process it is.

A later migration that rebuilds `runs`, `store_runs` or `stage_status` on SQLite (batch "move
and copy") drops their triggers and must create them again (tests check they exist at head).
TRUNCATE on PostgreSQL fires no row or transition-table triggers; the service never uses it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Per table: each set a row can belong to, as (set name, membership condition) over the row
# `{r}`, and the columns whose change can move a row between sets.
MEMBERSHIP: dict[str, list[tuple[str, str]]] = {
    "runs": [
        ("'runs:present'", "{r}.present"),
        ("'runs:excluded'", "{r}.excluded_reason IS NOT NULL"),
    ],
    "store_runs": [("'stores:' || {r}.store", "TRUE")],
    "stage_status": [
        ("'stage:' || {r}.stage || ':' || {r}.state", "{r}.state IN ('done', 'excluded')"),
    ],
}
WATCHED: dict[str, tuple[str, ...]] = {
    "runs": ("run_number", "present", "excluded_reason"),
    "store_runs": ("store", "run_number"),
    "stage_status": ("run_number", "stage", "state"),
}


def _bit(dialect: str, run: str) -> str:
    """The run's bit within its word, as a signed 64-bit integer (bit 63 is the sign)."""
    if dialect == "postgresql":
        return f"(CAST(1 AS BIGINT) << CAST({run} & 63 AS INTEGER))"
    return f"(1 << ({run} & 63))"


def _on(expression: str, row: str) -> str:
    """A membership expression over the row `row` (NEW, OLD or a table alias)."""
    return expression.format(r=row)


def _moved(table: str, differ: str) -> str:
    """When an update can move a row between sets: a watched column changed (`differ` is the
    dialect's null-safe "differs") and the row is in some set before or after."""
    changed = " OR ".join(f"OLD.{column} {differ} NEW.{column}" for column in WATCHED[table])
    member = " OR ".join(
        _on(condition, row) for row in ("OLD", "NEW") for _, condition in MEMBERSHIP[table]
    )
    return f"({changed}) AND ({member})"


def _members(table: str, source: str) -> str:
    """(name, run_number) of every set membership of the rows of `source`."""
    return " UNION ALL ".join(
        f"SELECT {_on(name, 'r')} AS name, r.run_number AS run_number "
        f"FROM {source} AS r WHERE {_on(condition, 'r')}"
        for name, condition in MEMBERSHIP[table]
    )


def _grouped(dialect: str, table: str, source: str) -> str:
    """The memberships of `source`'s rows folded into (name, word, bits)."""
    fold = "bit_or" if dialect == "postgresql" else "SUM"  # distinct bits: SUM is OR
    return (
        f"SELECT m.name AS name, m.run_number >> 6 AS word, "
        f"{fold}({_bit(dialect, 'm.run_number')}) AS bits "
        f"FROM ({_members(table, source)}) AS m "
        "GROUP BY m.name, m.run_number >> 6"
    )


def _sqlite_triggers(table: str) -> list[str]:
    def add(row: str) -> list[str]:
        return [
            "INSERT INTO run_sets (name, word, bits) "
            f"SELECT {_on(name, row)}, {row}.run_number >> 6, {_bit('sqlite', f'{row}.run_number')}"
            f" WHERE {_on(condition, row)} "
            "ON CONFLICT (name, word) DO UPDATE SET bits = bits | excluded.bits;"
            for name, condition in MEMBERSHIP[table]
        ]

    def remove(row: str) -> list[str]:
        return [
            f"UPDATE run_sets SET bits = bits & ~{_bit('sqlite', f'{row}.run_number')} "
            f"WHERE name = {_on(name, row)} AND word = {row}.run_number >> 6 "
            f"AND {_on(condition, row)};"
            for name, condition in MEMBERSHIP[table]
        ]

    watched = ", ".join(WATCHED[table])
    return [
        f"CREATE TRIGGER run_sets_{table}_insert AFTER INSERT ON {table} "
        f"BEGIN {' '.join(add('NEW'))} END",
        f"CREATE TRIGGER run_sets_{table}_delete AFTER DELETE ON {table} "
        f"BEGIN {' '.join(remove('OLD'))} END",
        f"CREATE TRIGGER run_sets_{table}_update AFTER UPDATE OF {watched} ON {table} "
        f"WHEN {_moved(table, 'IS NOT')} BEGIN {' '.join(remove('OLD') + add('NEW'))} END",
    ]


def _postgresql_triggers(table: str) -> list[str]:
    """Whole statements at once for inserts and deletes (reconcile replaces a listing of a
    million runs in a few statements); row by row for the updates that move a row."""
    upsert = "ON CONFLICT (name, word) DO UPDATE SET bits = run_sets.bits | EXCLUDED.bits"
    inserted = (
        f"INSERT INTO run_sets (name, word, bits) SELECT g.name, g.word, g.bits "
        f"FROM ({_grouped('postgresql', table, 'new_rows')}) AS g ORDER BY g.name, g.word "
        f"{upsert};"
    )
    deleted = (
        "UPDATE run_sets SET bits = run_sets.bits & ~g.bits "
        f"FROM ({_grouped('postgresql', table, 'old_rows')}) AS g "
        "WHERE run_sets.name = g.name AND run_sets.word = g.word;"
    )
    moved = [
        f"UPDATE run_sets SET bits = bits & ~{_bit('postgresql', 'OLD.run_number')} "
        f"WHERE name = {_on(name, 'OLD')} AND word = OLD.run_number >> 6 "
        f"AND {_on(condition, 'OLD')};"
        for name, condition in MEMBERSHIP[table]
    ] + [
        f"INSERT INTO run_sets (name, word, bits) SELECT {_on(name, 'NEW')}, "
        f"NEW.run_number >> 6, {_bit('postgresql', 'NEW.run_number')} "
        f"WHERE {_on(condition, 'NEW')} {upsert};"
        for name, condition in MEMBERSHIP[table]
    ]
    statements = []
    for event, body in (("insert", inserted), ("delete", deleted), ("update", " ".join(moved))):
        statements.append(
            f"CREATE FUNCTION run_sets_{table}_{event}() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ BEGIN {body} RETURN NULL; END $$"
        )
    statements += [
        f"CREATE TRIGGER run_sets_{table}_insert AFTER INSERT ON {table} "
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
        f"EXECUTE FUNCTION run_sets_{table}_insert()",
        f"CREATE TRIGGER run_sets_{table}_delete AFTER DELETE ON {table} "
        "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
        f"EXECUTE FUNCTION run_sets_{table}_delete()",
        f"CREATE TRIGGER run_sets_{table}_update AFTER UPDATE OF {', '.join(WATCHED[table])} "
        f"ON {table} FOR EACH ROW WHEN ({_moved(table, 'IS DISTINCT FROM')}) "
        f"EXECUTE FUNCTION run_sets_{table}_update()",
    ]
    return statements


def upgrade() -> None:
    op.create_table(
        "run_sets",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("word", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("bits", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", "word"),
    )
    op.create_index(
        "ix_stage_status_stage_state_run",
        "stage_status",
        ["stage", "state", "run_number"],
        unique=False,
    )
    op.create_index(
        "ix_stage_status_stage_state_finished",
        "stage_status",
        ["stage", "state", "finished_at"],
        unique=False,
    )
    dialect = op.get_bind().dialect.name
    for table in MEMBERSHIP:
        triggers = _postgresql_triggers if dialect == "postgresql" else _sqlite_triggers
        for statement in triggers(table):
            op.execute(statement)
        op.execute(f"INSERT INTO run_sets (name, word, bits) {_grouped(dialect, table, table)}")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in MEMBERSHIP:
        for event in ("insert", "delete", "update"):
            if dialect == "postgresql":
                op.execute(f"DROP TRIGGER run_sets_{table}_{event} ON {table}")
                op.execute(f"DROP FUNCTION run_sets_{table}_{event}()")
            else:
                op.execute(f"DROP TRIGGER run_sets_{table}_{event}")
    op.drop_index("ix_stage_status_stage_state_finished", table_name="stage_status")
    op.drop_index("ix_stage_status_stage_state_run", table_name="stage_status")
    op.drop_table("run_sets")
