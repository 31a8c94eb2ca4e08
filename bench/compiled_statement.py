"""Where the compiled statement's time goes: the anchor search's statement run alone, on one
connection, with its keys only (the filter, order and page) and with the anchor's whole
projection (each mission's JSON), interleaved, in one process.

    .venv/bin/python bench/compiled_statement.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/hub_anchor
    .venv/bin/python bench/compiled_statement.py --database-url sqlite+aiosqlite:///bench/out/compiled.db
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
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
    try:
        for _ in range(args.rounds):
            for name, node in variants.items():
                for _ in range(5):  # warm: the statement compiled and prepared
                    await search_page(
                        pool, node, FILTER, MissionOrder.RECENT, 20, None, None, datetime.now(UTC)
                    )
                start = time.perf_counter()
                for _ in range(args.runs):
                    await search_page(
                        pool, node, FILTER, MissionOrder.RECENT, 20, None, None, datetime.now(UTC)
                    )
                times[name].append((time.perf_counter() - start) / args.runs * 1000)
    finally:
        await pool.aclose()
        await engine.dispose()
    for name, values in times.items():
        rounds = ", ".join(f"{v:.2f}" for v in values)
        print(f"{name:18}: median {statistics.median(values):.2f} ms a page ({rounds})")


if __name__ == "__main__":
    asyncio.run(main())
