"""Where the compiled statement's time goes: the anchor search's statement run alone, on one
connection, with its keys only (the filter, order and page) and with the anchor's whole
projection (each mission's JSON), interleaved, in one process: wall time a page, and the CPU
time a page of what runs the statement (the PostgreSQL backend, read from /proc; on SQLite
this process), which other jobs on a shared machine do not inflate.

    .venv/bin/python bench/compiled_statement.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/hub_anchor
    .venv/bin/python bench/compiled_statement.py --database-url sqlite+aiosqlite:///bench/out/compiled.db
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

from hub.catalogue.filters import MissionFilter, MissionOrder
from hub.catalogue.model import Remote
from hub.settings import load_settings
from hub.storage.compiled_search import Field, search_page
from hub.storage.db import make_engine
from hub.storage.read_pool import ReadPool

ANCHOR = (
    Field("id", "id"),
    Field("title", "title"),
    Field("organization", "organization", (Field("name", "name"),)),
    Field("skills", "skills", (Field("slug", "slug"),)),
    Field("locations", "locations", (Field("city", "city"),)),
    Field("postedAt", "posted_at"),
)
FILTER = MissionFilter(remote=(Remote.FULL,), skills=("design-graphique",))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    engine = make_engine(load_settings(database_url=args.database_url))
    pool = ReadPool(engine, 1)
    variants = {"keys only": None, "anchor projection": ANCHOR}
    times: dict[str, list[float]] = {name: [] for name in variants}
    cpu: dict[str, float] = dict.fromkeys(variants, 0.0)
    try:
        clock = await _cpu_clock(pool)
        for _ in range(args.rounds):
            for name, node in variants.items():
                for _ in range(5):  # warm: the statement compiled and prepared
                    await search_page(
                        pool, node, FILTER, MissionOrder.RECENT, 20, None, None, datetime.now(UTC)
                    )
                start, used = time.perf_counter(), clock()
                for _ in range(args.runs):
                    await search_page(
                        pool, node, FILTER, MissionOrder.RECENT, 20, None, None, datetime.now(UTC)
                    )
                times[name].append((time.perf_counter() - start) / args.runs * 1000)
                cpu[name] += clock() - used
    finally:
        await pool.aclose()
        await engine.dispose()
    whose = "PostgreSQL backend's" if engine.dialect.name == "postgresql" else "this process's"
    for name, values in times.items():
        rounds = ", ".join(f"{v:.2f}" for v in values)
        per_page = cpu[name] / (args.rounds * args.runs) * 1000
        print(
            f"{name:18}: median {statistics.median(values):.2f} ms a page ({rounds}); "
            f"{per_page:.3f} ms of the {whose} CPU a page"
        )


async def _cpu_clock(pool: ReadPool) -> Callable[[], float]:
    """CPU seconds used so far by what runs the statement: on PostgreSQL the compiled reads'
    one backend (from /proc: the server must run on this machine), on SQLite this process.
    CPU time, unlike wall time, does not count what other jobs on the machine take."""
    if pool.engine.dialect.name == "sqlite":
        return time.process_time
    [(pid,)] = await pool.fetch("SELECT pg_backend_pid()", (), generic_plan=True)
    ticks = os.sysconf("SC_CLK_TCK")

    def used() -> float:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks

    return used


if __name__ == "__main__":
    asyncio.run(main())
