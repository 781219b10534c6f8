"""Gaps and islands of a set of run numbers, computed in SQL on SQLite and PostgreSQL alike.

Consecutive numbers share `run_number - ROW_NUMBER() OVER (ORDER BY run_number)`, so grouping by
it yields the islands; the gaps are the spaces between neighbouring islands. Only islands, gap
intervals and the first few numbers ever leave the database: one stray run 99999999 costs
nothing (the legacy report built every integer between min and max in memory).
"""

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Subquery, except_, func, or_, true, union
from sqlmodel import Session, select


class RunRange(BaseModel):
    """Consecutive run numbers `first`…`last` (equal for a single run)."""

    first: int
    last: int


class Extent(BaseModel):
    """How many runs a set holds and its lowest and highest (None when empty)."""

    count: int
    first: int | None = None
    last: int | None = None


class Listing(BaseModel):
    """The first numbers of a set (ascending) and how many it holds in all."""

    numbers: list[int]
    total: int


def extent(session: Session, runs: Subquery, where: ColumnElement[bool] | None = None) -> Extent:
    """Count, minimum and maximum of `runs` (optionally only those matching `where`)."""
    number = runs.c.run_number
    query = select(func.count(), func.min(number), func.max(number)).select_from(runs)
    count, first, last = session.execute(query.where(where if where is not None else true())).one()
    return Extent(count=count, first=first, last=last)


def listing(
    session: Session, runs: Subquery, *, limit: int, where: ColumnElement[bool] | None = None
) -> Listing:
    """The first `limit` numbers of `runs` (matching `where`) and their total count."""
    number = runs.c.run_number
    query = (
        select(number, func.count().over())
        .where(where if where is not None else true())
        .order_by(number)
        .limit(limit)
    )
    rows = session.execute(query).all()
    return Listing(numbers=[row[0] for row in rows], total=rows[0][1] if rows else 0)


def difference(runs: Subquery, *others: Subquery) -> Subquery:
    """The runs of `runs` that are in none of `others` (SQL EXCEPT: sorted or hashed set
    operations, never a per-row lookup into a derived table)."""
    selects = [select(runs.c.run_number), *(select(other.c.run_number) for other in others)]
    return except_(*selects).subquery("difference")


def _islands(runs: Subquery) -> Subquery:
    number = runs.c.run_number
    grouped = select(
        number.label("n"), (number - func.row_number().over(order_by=number)).label("grp")
    ).subquery("grouped")
    return (
        select(func.min(grouped.c.n).label("lo"), func.max(grouped.c.n).label("hi"))
        .group_by(grouped.c.grp)
        .subquery("islands")
    )


def island_edges(session: Session, runs: Subquery, *, edge: int) -> tuple[list[RunRange], int]:
    """The first and last `edge` islands of `runs` (all of them when there are at most
    2 × `edge`), ascending, and the number of islands."""
    return first_and_last(session, _islands(runs), edge=edge)


def first_and_last(session: Session, ranges: Subquery, *, edge: int) -> tuple[list[RunRange], int]:
    """The first and last `edge` rows of a (`lo`, `hi`) subquery, ascending, and its size."""
    ranked = select(
        ranges.c.lo,
        ranges.c.hi,
        func.row_number().over(order_by=ranges.c.lo).label("pos"),
        func.count().over().label("total"),
    ).subquery("ranked")
    rows = session.execute(
        select(ranked.c.lo, ranked.c.hi, ranked.c.total)
        .where(or_(ranked.c.pos <= edge, ranked.c.pos > ranked.c.total - edge))
        .order_by(ranked.c.lo)
    ).all()
    return [RunRange(first=lo, last=hi) for lo, hi, _ in rows], rows[0][2] if rows else 0


def gaps(session: Session, runs: Subquery, span: Extent, *, skip: Subquery, limit: int) -> Listing:
    """Numbers between `span.first` and `span.last` missing from `runs` and from `skip`:
    the first `limit` individually, and how many there are."""
    if span.first is None or span.last is None:
        return Listing(numbers=[], total=0)
    inside = skip.c.run_number.between(span.first, span.last)
    cover = union(select(runs.c.run_number), select(skip.c.run_number).where(inside)).subquery(
        "cover"
    )
    islands = _islands(cover)
    spaces = select(
        (func.lag(islands.c.hi).over(order_by=islands.c.lo) + 1).label("lo"),
        (islands.c.lo - 1).label("hi"),
    ).subquery("spaces")
    rows = session.execute(
        select(spaces.c.lo, spaces.c.hi, func.sum(spaces.c.hi - spaces.c.lo + 1).over())
        .where(spaces.c.lo.is_not(None))
        .order_by(spaces.c.lo)
        .limit(limit)
    ).all()
    numbers: list[int] = []
    for lo, hi, _ in rows:
        numbers.extend(range(lo, min(hi, lo + limit - len(numbers) - 1) + 1))
        if len(numbers) >= limit:
            break
    return Listing(numbers=numbers, total=int(rows[0][2]) if rows else 0)
