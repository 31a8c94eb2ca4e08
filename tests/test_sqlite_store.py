"""The embedded store's connections: what every SQLite connection of the hub is set to."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from hub.settings import load_settings
from hub.storage.db import SQLITE_CACHE_KIB, SQLITE_CHECKPOINT_PAGES, make_engine
from tests.conftest import run


def test_every_sqlite_connection_is_set_for_the_hubs_writes(tmp_path: Path) -> None:
    """WAL with NORMAL sync, foreign keys, a 16 MB page cache and a checkpoint every 10,000
    WAL pages (SQLite's 2 MB and 1,000 pages checkpointed a sync's batches almost at every
    commit), on each connection the pool opens, not only the first."""

    async def go() -> list[tuple[object, ...]]:
        engine = make_engine(load_settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/h.db"))
        try:
            found = []
            async with engine.connect() as one, engine.connect() as two:
                for conn in (one, two):
                    row = []
                    for pragma in (
                        "journal_mode",
                        "synchronous",
                        "foreign_keys",
                        "cache_size",
                        "wal_autocheckpoint",
                    ):
                        row.append((await conn.execute(text(f"PRAGMA {pragma}"))).scalar())
                    found.append(tuple(row))
            return found
        finally:
            await engine.dispose()

    expected = ("wal", 1, 1, -SQLITE_CACHE_KIB, SQLITE_CHECKPOINT_PAGES)
    assert run(go()) == [expected, expected]
    assert SQLITE_CACHE_KIB > 2_000 and SQLITE_CHECKPOINT_PAGES > 1_000  # above the defaults
