#!/usr/bin/env python
"""Does cancelling a database writer leave a task that never ends? (hub/storage/db.py)

    .venv/bin/python scripts/cancel_hazard.py [--trials 200] [--cancels 2] [--wait 15] [--hub]

Each trial: a fresh SQLite file, three tasks writing through SQLAlchemy and aiosqlite in a loop,
cancelled `--cancels` times (a few milliseconds apart) after a random moment of their work; then
every task still in the event loop is cancelled once more, as `asyncio.run` does when it ends,
and given --wait seconds (more than the hub's SQLite busy timeout, 10 s: a close may wait for a
lock that an interrupted transaction holds until its connection is stopped). Prints how many
trials left tasks behind and how many of those never ended. With --hub, the engine is the hub's
(`hub.storage.db.make_engine`, whose aiosqlite connections may be stopped twice); without,
SQLAlchemy's own.

With the versions of SQLAlchemy and aiosqlite this was written against, two cancellations
inside a write left a connection's close hanging in nearly every trial (18 of 20) on
SQLAlchemy's own connections, one cancellation in none (0 of 1,000); the hub's connections leave
none either way. Run it after upgrading either library: when `--cancels 2` hangs nothing without
--hub, the hazard is gone upstream and hub/storage/db.py's `_StoppableOnce` can go.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
from pathlib import Path

import aiosqlite
import sqlalchemy
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from hub.settings import load_settings
from hub.storage.db import make_engine


async def trial(
    directory: Path, seed: int, cancels: int, hub: bool, wait: float
) -> tuple[int, bool]:
    """(tasks left behind, whether they all ended once cancelled again)."""
    rng = random.Random(seed)
    url = f"sqlite+aiosqlite:///{directory / f'{seed}.db'}"
    engine = make_engine(load_settings(database_url=url)) if hub else create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (a INTEGER)"))

    async def writer() -> None:
        while True:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t VALUES (1)"))
                await conn.execute(text("SELECT count(*) FROM t"))

    tasks = [asyncio.create_task(writer()) for _ in range(3)]
    await asyncio.sleep(rng.random() * 0.05)
    for n in range(cancels):
        if n:
            await asyncio.sleep(rng.random() * 0.002)
        for task in tasks:
            task.cancel()
    await asyncio.wait(tasks)
    left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in left:
        task.cancel()
    ended = True
    if left:
        _done, pending = await asyncio.wait(left, timeout=wait)
        ended = not pending
    if ended:
        await engine.dispose()
    return len(left), ended


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--cancels", type=int, default=2)
    parser.add_argument("--wait", type=float, default=15.0)
    parser.add_argument("--hub", action="store_true", help="the hub's engine, not SQLAlchemy's")
    args = parser.parse_args()
    left_behind = hung = 0
    with tempfile.TemporaryDirectory() as directory:
        for seed in range(args.trials):
            loop = asyncio.new_event_loop()  # not closed when tasks hang: they would raise
            left, ended = loop.run_until_complete(
                trial(Path(directory), seed, args.cancels, args.hub, args.wait)
            )
            left_behind += bool(left)
            hung += not ended
            if ended:
                loop.close()
    print(
        f"SQLAlchemy {sqlalchemy.__version__}, aiosqlite {aiosqlite.__version__}, "
        f"{'the hub' if args.hub else 'SQLAlchemy'}'s connections: "
        f"{args.trials} trials, {args.cancels} cancellation(s) each: "
        f"{left_behind} left tasks behind, {hung} of them never ended"
    )
    sys.stdout.flush()
    os._exit(0)  # a hung connection's worker thread would keep the process alive


if __name__ == "__main__":
    main()
