"""Many rows of one table in one statement on PostgreSQL (COPY for new rows, an UPDATE joined to
arrays for changed ones), a few multi-row INSERTs on SQLite.

The writer's inserts of a batch (missions, their places and labels, dedup keys) go through
`insert_rows`. On PostgreSQL an executemany of 500 rows is 500 executions of a prepared INSERT
(its parameters bound one by one by SQLAlchemy, then asyncpg); COPY ... FROM STDIN (asyncpg's
`copy_records_to_table`, on the transaction's own connection) sends them as one binary stream.
Values are bound as SQLAlchemy would bind them (its bind processors for the dialect: JSON
serialised, UTC datetimes), and a column missing from the rows gets its Python-side default, as
an INSERT would: triggers, generated columns and constraints run the same way for both.

On SQLite the rows go in statements of up to `_SQLITE_ROWS` rows each (`INSERT ... VALUES (...),
(...)`), not an executemany of one row a statement: the missions' full-text index is kept by an
AFTER INSERT trigger, and FTS5 writes out its pending terms at every statement that runs a
trigger on it (the trigger's savepoint), so one row a statement left one small index segment a
mission, and the merges they need. In one statement of 200 rows, the same 50,000 missions
(every index and trigger of the table) went in 1.6x faster (2.7 s against 1.65 s, the missions'
INSERT alone).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Dialect, Table, bindparam, insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.storage.tables import UTCDateTime

__all__ = ["JsonMemo", "insert_rows", "update_rows"]


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


def _sqlite_utc(value: datetime | None) -> str | None:
    """What UTCDateTime then SQLite's DATETIME bind (the UTC wall time as
    "YYYY-MM-DD HH:MM:SS.ffffff"), in one step: a sync binds seven a mission."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store; the hub only keeps UTC")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _processor(table: Table, name: str, dialect: Dialect) -> Callable[[Any], Any] | None:
    """The column's bind processor for the dialect (SQLAlchemy's own, but for the hub's UTC
    times on SQLite: the same text, cheaper)."""
    kind = table.c[name].type
    if dialect.name == "sqlite" and isinstance(kind, UTCDateTime):
        return _sqlite_utc
    processor: Callable[[Any], Any] | None = kind._cached_bind_processor(dialect)
    return processor


# What a JSON value was bound as, by the value's identity (the value kept, so that the id
# stays its own): the writer binds a new mission's match state twice, for its row and for its
# PUBLISHED event, and serialises it once.
JsonMemo = dict[int, tuple[Any, Any]]


def _memoised(process: Callable[[Any], Any], memo: JsonMemo) -> Callable[[Any], Any]:
    def bind(value: Any) -> Any:
        if type(value) is not dict and type(value) is not list:
            return process(value)
        hit = memo.get(id(value))
        if hit is not None and hit[0] is value:
            return hit[1]
        bound = process(value)
        memo[id(value)] = (value, bound)
        return bound

    return bind


def _records(
    conn: AsyncConnection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    json_memo: JsonMemo | None = None,
) -> tuple[list[str], list[tuple[Any, ...]]] | None:
    """The column names and each row's values bound as SQLAlchemy binds them (its bind
    processors for the dialect), Python-side defaults filled; None when a left-out column's
    default is a SQL expression (an INSERT must evaluate it)."""
    columns = list(rows[0])
    try:
        defaults = _fill(table, columns)
    except _NotCopyable:
        return None
    names = columns + list(defaults)
    dialect = conn.dialect
    processors: list[Callable[[Any], Any] | None] = [
        _processor(table, name, dialect) for name in names
    ]
    if json_memo is not None:
        processors = [
            _memoised(process, json_memo)
            if process is not None and isinstance(table.c[name].type, JSON)
            else process
            for name, process in zip(names, processors, strict=True)
        ]
    tail = tuple(defaults.values())
    plain = [i for i, process in enumerate(processors) if process is None]
    if len(plain) == len(columns) and not tail:  # nothing to bind: the values as they are
        return names, [tuple(row[name] for name in columns) for row in rows]
    records = []
    for row in rows:
        values = tuple(row[name] for name in columns) + tail
        records.append(
            tuple(
                value if process is None else process(value)
                for value, process in zip(values, processors, strict=True)
            )
        )
    return names, records


_STATEMENTS: dict[tuple[str, str, tuple[str, ...], int], str] = {}

# The most rows in one SQLite INSERT: 200 (more did no better), fewer when the columns times the
# rows would pass the library's limit of bound variables (32,766 since SQLite 3.32, 999 before).
_SQLITE_ROWS = 200
_SQLITE_VARIABLES = 32_766 if sqlite3.sqlite_version_info >= (3, 32, 0) else 999


def _insert_sql(conn: AsyncConnection, table: Table, names: list[str], rows: int = 1) -> str:
    """`INSERT INTO table (names) VALUES (?, ...), ...` for `rows` rows, in the dialect's own
    quoting, made once."""
    key = (conn.dialect.name, table.name, tuple(names), rows)
    sql = _STATEMENTS.get(key)
    if sql is None:
        quote = conn.dialect.identifier_preparer.quote
        columns = ", ".join(quote(name) for name in names)
        marks = "(" + ", ".join("?" for _ in names) + ")"
        values = ", ".join(marks for _ in range(rows))
        sql = _STATEMENTS[key] = f"INSERT INTO {quote(table.name)} ({columns}) VALUES {values}"
    return sql


async def _insert_sqlite(
    conn: AsyncConnection, table: Table, names: list[str], records: list[tuple[Any, ...]]
) -> None:
    """`records` in statements of up to `_SQLITE_ROWS` rows (see the module's docstring)."""
    step = max(1, min(_SQLITE_ROWS, _SQLITE_VARIABLES // len(names)))
    for start in range(0, len(records), step):
        chunk = records[start : start + step]
        values = [value for record in chunk for value in record]
        await conn.exec_driver_sql(_insert_sql(conn, table, names, len(chunk)), tuple(values))


async def insert_rows(
    conn: AsyncConnection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    json_memo: JsonMemo | None = None,
) -> None:
    """INSERT `rows` (dicts with the same keys) into `table`, in the caller's transaction.
    `json_memo`, shared by the inserts of one transaction, binds a JSON value met again (the
    same object, not mutated since) as it was bound the first time."""
    if not rows:
        return
    bound = _records(conn, table, rows, json_memo)
    if bound is None:
        await conn.execute(insert(table), list(rows))
        return
    names, records = bound
    if conn.dialect.name != "postgresql" and conn.dialect.paramstyle == "qmark":
        # SQLite: statements written once, the values bound here (what SQLAlchemy's compiled
        # INSERT would do per row, without its per-row parameter building, the first cost of a
        # sync's writes there), many rows a statement.
        await _insert_sqlite(conn, table, names, records)
        return
    if conn.dialect.name != "postgresql":
        await conn.execute(insert(table), list(rows))
        return
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    await driver.copy_records_to_table(table.name, records=records, columns=names)


async def update_rows(
    conn: AsyncConnection, table: Table, key: str, rows: Sequence[dict[str, Any]]
) -> None:
    """UPDATE `table`, each of `rows` (dicts with the same keys) setting its other columns where
    `key` equals its `key` (unique among the rows), in the caller's transaction.

    On PostgreSQL one statement, whatever the number of rows: the values go as one array a
    column and the statement joins them back (`UPDATE ... FROM unnest(...)`), where an
    executemany is one execution a row; bound as SQLAlchemy would bind them. Elsewhere an
    executemany, as before."""
    if not rows:
        return
    columns = [name for name in rows[0] if name != key]
    if conn.dialect.name != "postgresql":
        stmt = (
            update(table)
            .where(table.c[key] == bindparam("b_" + key))
            .values({name: bindparam("b_" + name) for name in columns})
        )
        await conn.execute(stmt, [{"b_" + k: v for k, v in row.items()} for row in rows])
        return
    dialect = conn.dialect
    names = [key, *columns]
    arrays = []
    for name in names:
        process = table.c[name].type._cached_bind_processor(dialect)
        values = [row[name] for row in rows]
        arrays.append(values if process is None else [process(value) for value in values])
    types = [table.c[name].type.compile(dialect=dialect) for name in names]
    unnest = ", ".join(f"${i}::{kind}[]" for i, kind in enumerate(types, start=1))
    sql = (
        f"UPDATE {table.name} SET {', '.join(f'{name} = v.{name}' for name in columns)} "
        f"FROM unnest({unnest}) AS v({', '.join(names)}) WHERE {table.name}.{key} = v.{key}"
    )
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    await driver.execute(sql, *arrays)
