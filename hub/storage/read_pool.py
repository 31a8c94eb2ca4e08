"""The compiled reads' own connections (hub.storage.compiled_search runs its statements on
them)."""

from __future__ import annotations

import asyncio
from typing import Any

import aiosqlite
import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.storage.db import sqlite_distance

__all__ = ["ReadPool"]

# One reader: SQLite's work runs in this process, and its threads share the interpreter's lock
# (released while SQLite steps, taken again for every row). With the anchor search on the
# 200,000-mission copy, wrk -c16, alternating: 1 reader 1,259-1,322 req/s, 2 readers
# 1,078-1,173, 4 readers 936-1,022 (p99 16-19, 18-20, 25-27 ms). The reads of the generic path
# (SQLAlchemy's pool) and the writes have connections of their own.
_SQLITE_READERS = 1


class ReadPool:
    """The compiled reads' connections: on PostgreSQL the driver's own pool (asyncpg, prepared
    statements kept per connection, no ping before each use: a broken connection fails the
    read, which the generic path then answers, and is replaced); on SQLite the engine's."""

    def __init__(self, engine: AsyncEngine, size: int) -> None:
        self.engine = engine
        self.size = size
        self._pools: dict[bool, Any] = {}  # generic plans or not -> asyncpg pool
        self._idle: asyncio.Queue[Any] | None = None
        self._opening = asyncio.Lock()

    async def fetch(
        self, sql: str, args: tuple[Any, ...], *, generic_plan: bool = False
    ) -> list[Any]:
        """The statement's rows. With `generic_plan`, on PostgreSQL, the statement is planned
        once per connection for any arguments: PostgreSQL otherwise plans a parameterised
        statement again on every run when it judges its arguments' plans cheaper, which for a
        search page costs more than running it. For statements whose best plan does not
        depend on their arguments' values (not a text search, whose words may be rare or
        common, nor a distance)."""
        if self.engine.dialect.name == "sqlite":
            return await self._fetch_sqlite(sql, args)
        pool = self._pools.get(generic_plan)
        if pool is None:
            async with self._opening:
                pool = self._pools.get(generic_plan)
                if pool is None:
                    url = self.engine.url.set(drivername="postgresql")
                    # No JIT: it compiles again on every run (100-160 ms against a page's
                    # millisecond), and a plan's estimated cost can pass its threshold.
                    settings = {"jit": "off"}
                    if generic_plan:
                        settings["plan_cache_mode"] = "force_generic_plan"
                    pool = await asyncpg.create_pool(
                        url.render_as_string(hide_password=False),
                        min_size=1,
                        max_size=self.size,
                        reset=_keep_session,
                        server_settings=settings,
                    )
                    self._pools[generic_plan] = pool
        async with pool.acquire() as conn:
            return list(await conn.fetch(sql, *args))

    async def _fetch_sqlite(self, sql: str, args: tuple[Any, ...]) -> list[Any]:
        """A connection of the driver's own (aiosqlite, its own thread: WAL lets it read beside
        the writers), each read one call into its thread."""
        path = self.engine.url.database
        if not path or path == ":memory:":  # one connection holds the data: the engine's
            async with self.engine.connect() as conn:
                raw: Any = (await conn.get_raw_connection()).driver_connection
                return list(await raw.execute_fetchall(sql, args))
        if self._idle is None:
            async with self._opening:
                if self._idle is None:
                    idle: asyncio.Queue[Any] = asyncio.Queue()
                    for _ in range(min(self.size, _SQLITE_READERS)):
                        reader = await aiosqlite.connect(path)
                        await reader.create_function(
                            "hub_distance_km", 4, sqlite_distance, deterministic=True
                        )
                        await reader.execute("PRAGMA busy_timeout=10000")
                        idle.put_nowait(reader)
                    self._idle = idle
        conn = await self._idle.get()
        try:
            return list(await conn.execute_fetchall(sql, args))
        finally:
            self._idle.put_nowait(conn)

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.close()
        if self._idle is not None:
            while not self._idle.empty():
                await self._idle.get_nowait().close()
            self._idle = None


async def _keep_session(_conn: Any) -> None:
    """Nothing to reset between uses: the reads run SELECTs only and never change a setting,
    so the pool skips asyncpg's default RESET ALL round trip on each release."""
