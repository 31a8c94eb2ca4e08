"""Many new rows of one table in one statement: COPY on PostgreSQL, an executemany elsewhere.

The writer's inserts of a batch (missions, their places and labels, dedup keys) go through
`insert_rows`. On PostgreSQL an executemany of 500 rows is 500 executions of a prepared INSERT
(its parameters bound one by one by SQLAlchemy, then asyncpg); COPY ... FROM STDIN (asyncpg's
`copy_records_to_table`, on the transaction's own connection) sends them as one binary stream.
Values are bound as SQLAlchemy would bind them (its bind processors for the dialect: JSON
serialised, UTC datetimes), and a column missing from the rows gets its Python-side default, as
an INSERT would: triggers, generated columns and constraints run the same way for both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["insert_rows"]


def _fill(table: Table, columns: list[str]) -> dict[str, Any]:
    """Python-side defaults of the columns the rows leave out (a server default, or the
    sequence of a key, is the database's own, as for an INSERT that omits the column)."""
    out: dict[str, Any] = {}
    for column in table.columns:
        if column.name in columns or column.default is None:
            continue
        default: Any = column.default
        if getattr(default, "is_sequence", False):
            continue
        if getattr(default, "is_scalar", False):
            out[column.name] = default.arg
        elif getattr(default, "is_callable", False):
            out[column.name] = default.arg(None)  # dict, list: they take no context
        else:  # a SQL expression: let an INSERT evaluate it
            raise _NotCopyable(column.name)
    return out


class _NotCopyable(Exception):
    pass


async def insert_rows(conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT `rows` (dicts with the same keys) into `table`, in the caller's transaction."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        await conn.execute(insert(table), list(rows))
        return
    columns = list(rows[0])
    try:
        defaults = _fill(table, columns)
    except _NotCopyable:
        await conn.execute(insert(table), list(rows))
        return
    names = columns + list(defaults)
    dialect = conn.dialect
    processors: list[Callable[[Any], Any] | None] = [
        table.c[name].type._cached_bind_processor(dialect) for name in names
    ]
    tail = tuple(defaults.values())
    records = []
    for row in rows:
        values = tuple(row[name] for name in columns) + tail
        records.append(
            tuple(
                value if process is None else process(value)
                for value, process in zip(values, processors, strict=True)
            )
        )
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    await driver.copy_records_to_table(table.name, records=records, columns=names)
