"""The embedded store's connections: what every SQLite connection of the hub is set to."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import anyio
import pytest
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


@pytest.mark.parametrize("cancel_scope", [False, True], ids=["cancelled-twice", "anyio-scope"])
def test_a_writer_cancelled_mid_write_leaves_no_close_waiting_forever(
    tmp_path: Path, cancel_scope: bool
) -> None:
    """Three tasks writing in a loop on the hub's engine, cancelled in the middle of their work
    twice (or by an anyio cancel scope, which cancels again until its tasks have left it, as a
    Starlette streaming response does when its client goes), at several moments: whatever
    they leave behind ends once cancelled, as the event loop cancels it when it closes, and
    every connection's thread ends. With
    SQLAlchemy's own aiosqlite connections, 18 trials of 20 left a close that never ended
    (scripts/cancel_hazard.py); the hub's connections (hub/storage/db.py) leave none."""

    async def trial(moment: int) -> tuple[int, int]:
        threads_before = set(threading.enumerate())
        url = f"sqlite+aiosqlite:///{tmp_path}/w{moment}.db"
        engine = make_engine(load_settings(database_url=url))
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (a INTEGER)"))

        async def writer() -> None:
            while True:
                async with engine.begin() as conn:
                    await conn.execute(text("INSERT INTO t VALUES (1)"))
                    await conn.execute(text("SELECT count(*) FROM t"))

        if cancel_scope:
            async with anyio.create_task_group() as group:
                for _ in range(3):
                    group.start_soon(writer)
                for _ in range(moment):
                    await asyncio.sleep(0)  # sleep-ok: a yield to the loop, no time
                group.cancel_scope.cancel()
        else:
            tasks = [asyncio.create_task(writer()) for _ in range(3)]
            for _ in range(moment):
                await asyncio.sleep(0)  # sleep-ok: a yield to the loop, no time
            for task in tasks:
                task.cancel()
            await asyncio.sleep(0)  # sleep-ok: a yield to the loop, no time
            for task in tasks:
                task.cancel()
            await asyncio.wait(tasks)
        left = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in left:
            task.cancel()
        pending: set[asyncio.Task[object]] = set()
        if left:
            _done, pending = await asyncio.wait(left, timeout=10)
        if not pending:
            await engine.dispose()
            # Every connection's thread ends (before the loop closes: a thread reporting to a
            # closed loop raises).
            for thread in set(threading.enumerate()) - threads_before:
                await asyncio.to_thread(thread.join, 10)
                assert not thread.is_alive(), f"{thread.name} still runs"
        return len(left), len(pending)

    never_ended = []
    for moment in (2, 5, 10, 20, 40):
        loop = asyncio.new_event_loop()
        _left, hanging = loop.run_until_complete(trial(moment))
        never_ended.append(hanging)
        if not hanging:
            loop.close()  # a loop with hanging tasks is left open: closing it would raise
    assert never_ended == [0] * 5
