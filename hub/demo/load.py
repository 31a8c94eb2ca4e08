"""Load the demo catalogue: what `entraide-hub demo` serves on a fresh machine."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.demo.catalogue import demo_catalogue
from hub.ingest.service import apply
from hub.storage.tables import missions

__all__ = ["DEMO_PARTNER", "FIRST_QUERY", "load_demo"]

DEMO_PARTNER = "benevolat-france"

FIRST_QUERY = """\
query FirstSearch {
  missions(
    filter: { text: "numérique", remote: [FULL, POSSIBLE] }
    first: 5
  ) {
    totalCount
    edges { node { title remote organization { name } locations { city } } }
    facets { causes { value count } }
    pageInfo { hasNextPage endCursor }
  }
}"""

_BATCH = 500


async def load_demo(engine: AsyncEngine, now: datetime, count: int = 2400) -> int:
    """Write the demo catalogue unless the store already holds missions; returns the total."""
    async with engine.connect() as conn:
        existing = int(
            (await conn.execute(select(func.count()).select_from(missions))).scalar_one()
        )
    if existing:
        return existing
    for partner, drafts in demo_catalogue(missions=count, now=now).items():
        for start in range(0, len(drafts), _BATCH):
            await apply(engine, partner, drafts[start : start + _BATCH], now)
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(missions))).scalar_one())
