"""Copy a hub store into a fresh one, row for row: a catalogue seeded once through the hub's
write path (bench/seed_hub.py), measured on the other database too.

    .venv/bin/python bench/copy_store.py \\
        --source postgresql+asyncpg://postgres@127.0.0.1:5432/hub_anchor \\
        --target sqlite+aiosqlite:////tmp/hub_anchor.db

The target is migrated to the head revision first (it must be empty); every table of
hub.storage.tables is then copied in primary-key order through SQLAlchemy Core, so each
database's own types (datetimes, JSON, booleans) are written as the hub writes them; generated
columns are left to the target to derive, and SQLite's full-text index fills through its
triggers; PostgreSQL's statistics are refreshed at the end (the hub never runs ANALYZE on
SQLite, so neither does this). Foreign keys are not checked during the copy (a merged listing
may point to a later row) and are checked at the end on SQLite. The client credentials and
signing keys come along: a token the source issued is valid on the target.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from sqlalchemy import Computed, event, insert, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from hub.settings import load_settings
from hub.storage import upgrade
from hub.storage.db import make_engine
from hub.storage.tables import metadata

_CHUNK = 5_000


async def copy(source_url: str, target_url: str) -> None:
    target_engine = make_engine(load_settings(database_url=target_url))
    await upgrade(target_engine)
    await target_engine.dispose()
    source = make_engine(load_settings(database_url=source_url))
    target = create_async_engine(target_url)
    if target.dialect.name == "sqlite":

        @event.listens_for(target.sync_engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA foreign_keys=OFF")
            dbapi_connection.execute("PRAGMA journal_mode=WAL")

    try:
        async with source.connect() as src, target.begin() as dst:
            for table in metadata.sorted_tables:
                if table.name == "hub_state":  # written by the target's own migration
                    await dst.execute(table.delete())
                columns = [c for c in table.c if not isinstance(c.computed, Computed)]
                order = list(table.primary_key.columns) or columns[:1]
                started, copied = time.perf_counter(), 0
                result = await src.stream(select(*columns).order_by(*order))
                async for rows in result.partitions(_CHUNK):
                    await dst.execute(insert(table), [dict(row._mapping) for row in rows])
                    copied += len(rows)
                print(f"{table.name}: {copied} rows in {time.perf_counter() - started:.1f} s")
            if target.dialect.name == "sqlite":
                broken = (await dst.execute(text("PRAGMA foreign_key_check"))).all()
                if broken:
                    raise SystemExit(f"foreign keys broken in the copy: {broken[:5]}")
            else:  # the planner's statistics, as the hub refreshes them (never on SQLite)
                await dst.execute(text("ANALYZE"))
    finally:
        await source.dispose()
        await target.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True)
    parser.add_argument("--target", required=True)
    args = parser.parse_args()
    asyncio.run(copy(args.source, args.target))


if __name__ == "__main__":
    main()
