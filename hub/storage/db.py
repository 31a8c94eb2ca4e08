"""Engine creation: one place that knows how SQLite and PostgreSQL differ at connection time."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Coroutine
from typing import Any

import aiosqlite
import orjson
from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hub.catalogue.geo import distance_km
from hub.settings import Settings

__all__ = ["make_engine", "refresh_statistics", "sqlite_distance"]


def sqlite_distance(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> float | None:
    if lat1 is None or lon1 is None or lat2 is None or lon2 is None:
        return None
    return distance_km(float(lat1), float(lon1), float(lat2), float(lon2))


SQLITE_CACHE_KIB = 16_384  # each connection's page cache (SQLite's default: 2,000 KiB)
SQLITE_CHECKPOINT_PAGES = 10_000  # WAL pages between automatic checkpoints (default 1,000)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # aiosqlite wraps sqlite3; the adapted connection exposes the raw one for functions.
    raw: sqlite3.Connection = getattr(dbapi_connection, "_connection", dbapi_connection)
    if hasattr(raw, "_conn"):  # aiosqlite.Connection -> sqlite3.Connection
        raw = raw._conn
    raw.create_function("hub_distance_km", 4, sqlite_distance, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    # Writes that touch index pages all over the file (a sync's batches: the missions' ids are
    # hashes) rewrote the same pages into the WAL at every commit and checkpointed them into
    # the file (an fsync) almost every transaction with SQLite's defaults (a 2 MB page cache, a
    # checkpoint every 1,000 pages): 50,000 missions in transactions of 500 went in 1.4x
    # faster with 16 MB and 10,000 pages (the WAL grows to about 40 MB between checkpoints).
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_CHECKPOINT_PAGES}")
    cursor.close()


class _StoppableOnce(aiosqlite.Connection):
    """aiosqlite's connection whose `stop()` may be called twice.

    SQLAlchemy ends a connection interrupted by a cancellation with a graceful close, in a
    shielded task; cancelled again meanwhile (an anyio cancel scope cancels again and again, as
    Starlette's does when a streaming client goes; the event loop's exit cancels what is left),
    it stops the connection's thread at once instead (`stop()`). The graceful close then calls
    `stop()` a second time, queues it behind the first, which ended the thread, and waits for it
    forever: a task that never ends, a connection never returned (aiosqlite 0.22 with SQLAlchemy
    2.1; `scripts/cancel_hazard.py` measures it, and tests/test_sqlite_store.py checks this
    class). Here a second `stop()` is given the first one's future, which the thread resolves
    as it ends."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int) -> None:
        super().__init__(connector, iter_chunk_size)
        self._thread.daemon = True  # as SQLAlchemy's own connect does: never holds the exit
        self._stopped = False
        self._stop_future: asyncio.Future[Any] | None = None

    def stop(self) -> asyncio.Future[Any] | None:
        if not self._stopped:
            self._stopped = True
            self._stop_future = super().stop()
        return self._stop_future


def _sqlite_connect(url: URL) -> Callable[[], Coroutine[Any, Any, aiosqlite.Connection]]:
    """SQLAlchemy's `async_creator` for `url`: the arguments its aiosqlite dialect would pass."""
    args, kwargs = url.get_dialect()().create_connect_args(url)
    database: str = args[0]
    options: dict[str, Any] = dict(kwargs)

    async def connect() -> aiosqlite.Connection:
        return await _StoppableOnce(lambda: sqlite3.connect(database, **options), 64)

    return connect


def _json_text(value: Any) -> str:
    """JSON columns' text, by orjson (the standard library's encoder was 2% of a first sync's
    samples: four JSON columns a mission, and its events). Compact and UTF-8 where json.dumps
    spaced and escaped, the same values; keys that are not strings are written as strings, as
    json.dumps does."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _json_value(text: Any) -> Any:
    """A JSON column's value, by orjson. SQLite hands back a number stored in a JSON column as
    a number: a TypeError lets SQLAlchemy's SQLite JSON type return it as it is (json.loads
    raised one; orjson raises a ValueError)."""
    if not isinstance(text, str | bytes | bytearray | memoryview):
        raise TypeError(f"not JSON text: {type(text).__name__}")
    return orjson.loads(text)


def make_engine(settings: Settings) -> AsyncEngine:
    """The async engine for the configured store, with SQLite's pragmas and distance function
    (PostgreSQL's JIT off); JSON columns written and read by orjson."""
    if settings.is_sqlite:
        url = make_url(settings.database_url)
        engine = create_async_engine(
            url,
            echo=settings.db_echo,
            async_creator=_sqlite_connect(url),
            json_serializer=_json_text,
            json_deserializer=_json_value,
        )
        event.listen(engine.sync_engine, "connect", _on_sqlite_connect)
        return engine
    return create_async_engine(
        settings.database_url,
        echo=settings.db_echo,
        json_serializer=_json_text,
        json_deserializer=_json_value,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_pre_ping=True,
        # No JIT: the hub's statements are short, and PostgreSQL compiles again on every run
        # (100-160 ms) whenever a plan's estimated cost passes jit_above_cost.
        connect_args={"server_settings": {"jit": "off"}},
    )


async def refresh_statistics(engine: AsyncEngine) -> None:
    """Have PostgreSQL's planner look at the missions again (a large first load outgrows its
    statistics within minutes); nothing to do on SQLite."""
    if engine.dialect.name == "postgresql":
        async with engine.begin() as conn:
            await conn.execute(text("ANALYZE missions, mission_locations, mission_dedup_keys"))
