"""The event log's position for the response cache, read on one connection kept for it.

Every lookup of the response cache reads the log position (hub.web.response_cache.LogPosition
shares one read between the lookups waiting at that moment). Through SQLAlchemy that read took a
pooled connection, a BEGIN, the SELECT and a ROLLBACK: about a tenth of a hit's time under load.
Here one connection of the engine's pool is checked out once and kept; the driver's own
connection (asyncpg, aiosqlite) runs one prepared `SELECT max(seq)` per read, outside any
transaction: each read is its own statement, so it sees every transaction committed before it
started, from any process, exactly like the SQLAlchemy read it replaces.

The statement is the one `hub.storage`'s `event_cursor` runs (tests/test_fast_path.py checks
that both give the same position after writes); it lives here as text because only
`hub.storage` imports the tables.

SQLite in a file also gets a read that never leaves the event loop (SqliteNow): a lookup uses
it when it answers, and the shared asynchronous read when it does not.

A failed read drops the connection (it goes back to the pool invalidated) and fails the lookups
waiting for it; the next read checks out a new connection. SQLite in memory has one connection
for everything (a static pool): there the reader is not used (`direct_position` returns None),
as a read on it could see another request's uncommitted transaction.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import StaticPool

__all__ = ["DirectPosition", "direct_position"]

logger = logging.getLogger("hub.web.cache")

POSITION_SQL = "SELECT max(seq) FROM mission_events"


class DirectPosition:
    """`await position()`: the log position, on a connection of `engine` kept for it. Callers
    must not overlap reads (LogPosition runs one at a time); a lock makes sure of it."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._conn: AsyncConnection | None = None  # the kept connection
        self._read: Callable[[], Awaitable[Any]] | None = None
        self._lock = asyncio.Lock()
        self.now: SqliteNow | None = None  # a read that does not wait, where there is one

    async def __call__(self) -> int:
        async with self._lock:
            try:
                if self._read is None:
                    await self._open()
                assert self._read is not None
                value = await self._read()
            except BaseException:
                await self._drop()
                raise
        return int(value or 0)

    async def _open(self) -> None:
        conn = await self.engine.connect()  # no statement through it: no transaction either
        self._conn = conn
        driver: Any = (await conn.get_raw_connection()).driver_connection
        if self.dialect == "postgresql":
            statement = await driver.prepare(POSITION_SQL)
            self._read = statement.fetchval
            return

        async def read() -> Any:  # aiosqlite: a SELECT opens no transaction (no implicit BEGIN)
            async with driver.execute(POSITION_SQL) as cursor:
                row = await cursor.fetchone()
            return row[0] if row else None

        self._read = read

    async def _drop(self) -> None:
        conn, self._conn, self._read = self._conn, None, None
        if conn is not None:
            try:
                await conn.invalidate()
                await conn.close()
            except Exception:  # the connection is gone already: nothing to give back
                logger.debug("dropping the log position's connection failed", exc_info=True)

    async def aclose(self) -> None:
        """Give the connection back to the pool (before the engine is disposed)."""
        async with self._lock:
            conn, self._conn, self._read = self._conn, None, None
            if conn is not None:
                await conn.close()
            if self.now is not None:
                self.now.close()
                self.now = None


class SqliteNow:
    """SQLite in a file (WAL mode, as hub.storage.db sets it): the position read at once, on a
    read-only connection of its own, without leaving the event loop; aiosqlite's thread hop cost
    more than the read (an indexed max). A WAL reader does not wait for writers; a read that
    would wait all the same (busy) gives None, and the lookup takes the shared asynchronous read.
    Each read runs to its end in autocommit, so none holds a snapshot: it sees every transaction
    committed before it started, from any process."""

    def __init__(self, path: str) -> None:
        uri = Path(path).absolute().as_uri() + "?mode=ro"
        self._conn = sqlite3.connect(
            uri, uri=True, timeout=0, isolation_level=None, check_same_thread=False
        )

    def __call__(self) -> int | None:
        try:
            rows = self._conn.execute(POSITION_SQL).fetchall()
        except sqlite3.Error:
            return None
        return int(rows[0][0] or 0) if rows else 0

    def close(self) -> None:
        self._conn.close()


def direct_position(engine: AsyncEngine) -> DirectPosition | None:
    """A DirectPosition for `engine`, or None where one connection is shared by all (SQLite in
    memory), so a kept connection could read inside another request's transaction."""
    if isinstance(engine.pool, StaticPool):
        return None
    if engine.dialect.name not in ("postgresql", "sqlite"):
        return None
    position = DirectPosition(engine)
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        try:
            position.now = SqliteNow(database)
        except sqlite3.Error:  # not there yet, or not readable: the asynchronous read only
            logger.info("the log position is read through aiosqlite only", exc_info=True)
    return position
