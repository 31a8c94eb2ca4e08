"""One holder at a time across replicas: a partner's sync, the webhook sender."""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["named_lock", "partner_lock"]

_local_locks: dict[str, bool] = {}


def partner_lock(engine: AsyncEngine, name: str) -> contextlib.AbstractAsyncContextManager[bool]:
    """One sync of a partner at a time."""
    return named_lock(engine, f"sync:{name}")


@contextlib.asynccontextmanager
async def named_lock(engine: AsyncEngine, name: str) -> AsyncIterator[bool]:
    """A PostgreSQL advisory lock across replicas, a flag in this process on SQLite (one process
    is all SQLite serves). Never waits: yields whether it was taken."""
    if engine.dialect.name == "postgresql":
        key = zlib.crc32(f"entraide-hub:{name}".encode())
        async with engine.connect() as conn:
            got = bool(
                (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})).scalar()
            )
            await conn.commit()
            try:
                yield got
            finally:
                if got:
                    await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    await conn.commit()
        return
    if _local_locks.get(name):
        yield False
        return
    _local_locks[name] = True
    try:
        yield True
    finally:
        _local_locks.pop(name, None)
