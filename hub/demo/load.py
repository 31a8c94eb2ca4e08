"""Load the demo catalogue: what `entraide-hub demo` serves on a fresh machine."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from hub.clock import ManualClock
from hub.demo.catalogue import demo_catalogue
from hub.ingest.service import MissionWriter
from hub.storage import mission_count

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
    existing = await mission_count(engine)
    if existing:
        return existing
    writer = MissionWriter(engine, ManualClock(now))  # the whole catalogue dated `now`
    for partner, drafts in demo_catalogue(missions=count, now=now).items():
        for start in range(0, len(drafts), _BATCH):
            await writer.apply(partner, drafts[start : start + _BATCH])
    return await mission_count(engine)
