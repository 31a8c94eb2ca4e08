"""A page of searches by a common, a rare and an absent skill, with the rare criteria read from
the labels' side (hub.storage.label_rarity, the default) and walked in the page's order (the
threshold set to -1: how every label was read before), interleaved in one process, on one
store: the compiled statement of the intranet's page (title, organization, skills, city, date).

    .venv/bin/python bench/label_rarity.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/hub_anchor
    .venv/bin/python bench/label_rarity.py --database-url sqlite+aiosqlite:///bench/out/hub_anchor.db

The store should be a large one (bench/seed_hub.py; bench/copy_store.py for its SQLite copy):
on a small catalogue every label is rare and both ways take a millisecond. The skills are
picked from the store: the most common one, the least common one the shown listings carry, and
one no listing carries. Prints the median wall time a page of each way and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from hub.catalogue.filters import MissionFilter, MissionOrder
from hub.settings import load_settings
from hub.storage import label_rarity
from hub.storage.compiled_search import search_page
from hub.storage.db import make_engine
from hub.storage.read_pool import ReadPool
from hub.storage.tables import mission_skills

sys.path.insert(0, str(Path(__file__).resolve().parent))

from compiled_statement import ANCHOR

WAYS = {"from the labels (default)": label_rarity.RARE_AT_MOST, "walked in order": -1}


async def _skills(pool: ReadPool) -> dict[str, str]:
    counted = (
        select(mission_skills.c.skill, func.count().label("n"))
        .group_by(mission_skills.c.skill)
        .order_by(func.count())
    )
    async with pool.engine.connect() as conn:
        rows = (await conn.execute(counted)).all()
    return {
        f"common ({rows[-1].n:,} rows)": rows[-1].skill,
        f"rare ({rows[0].n:,} rows)": rows[0].skill,
        "absent (0 rows)": "competence-absente",
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    engine = make_engine(load_settings(database_url=args.database_url))
    pool = ReadPool(engine, 1)
    times: dict[tuple[str, str], list[float]] = {}
    try:
        skills = await _skills(pool)
        for _ in range(args.rounds):
            for label, skill in skills.items():
                flt = MissionFilter(skills=(skill,))
                for way, threshold in WAYS.items():
                    label_rarity.RARE_AT_MOST = threshold
                    label_rarity._counts.clear()
                    now = datetime.now(UTC)
                    await search_page(pool, ANCHOR, flt, MissionOrder.RECENT, 20, None, None, now)
                    start = time.perf_counter()
                    for _ in range(args.runs):
                        await search_page(
                            pool, ANCHOR, flt, MissionOrder.RECENT, 20, None, None, now
                        )
                    elapsed = (time.perf_counter() - start) / args.runs * 1000
                    times.setdefault((label, way), []).append(elapsed)
    finally:
        await pool.aclose()
        await engine.dispose()
    print(f"{'skill':28} | " + " | ".join(f"{way:>26}" for way in WAYS) + " | walked ÷ labels")
    for label in skills:
        medians = [statistics.median(times[(label, way)]) for way in WAYS]
        cells = " | ".join(f"{m:23.2f} ms" for m in medians)
        print(f"{label:28} | {cells} | {medians[1] / medians[0]:14.1f}")


if __name__ == "__main__":
    asyncio.run(main())
