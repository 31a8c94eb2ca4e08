"""Which label criteria of a search are rare: few enough listings carry them that the search
should start from those listings rather than walk the catalogue in its order.

A collapsed search reads the shown listings newest first and tests each one's causes and
skills until it has a page. For a label most listings carry that stops after a few dozen rows;
for a rare label it reads thousands, and for a label no open listing carries, the whole
catalogue (1.6 s on PostgreSQL and 2 s on SQLite at 200,000 missions, for a request any
intranet sends when an employee picks an uncommon skill). A rare criterion is compiled instead
as "the listing is among those the label's rows name" (hub.storage.search), which reads the
label's index first: the same listings, found from the other end.

Rare means at most RARE_AT_MOST rows of the label (any listing, any status: an upper bound of
the shown listings it can match). Where the two ways cost the same: walking in order reads about
20 × shown ÷ matching rows for a page, starting from the label reads about 2 × matching rows
(the listings' own and their merged members'), equal near √(10 × shown), about 1,300 rows at
160,000 shown listings. The count is capped (it stops at RARE_AT_MOST + 1 index entries) and
kept a minute per label set: it decides only which way the statement reads, never what it
returns, so a stale count costs time, not correctness.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from sqlalchemy import func, literal, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.catalogue.filters import MissionFilter
from hub.storage.tables import mission_causes, mission_skills

RARE_AT_MOST = 1_000
_KEPT_SECONDS = 60.0
_KEPT = 4_096

_TABLES = {"causes": (mission_causes, "cause"), "skills": (mission_skills, "skill")}
_counts: OrderedDict[tuple[str, str, tuple[str, ...]], tuple[bool, float]] = OrderedDict()


async def rare_labels(engine: AsyncEngine, flt: MissionFilter) -> frozenset[str]:
    """The label kinds ("causes", "skills") whose criterion in `flt` is rare."""
    rare = set()
    for kind, values in (("causes", flt.causes), ("skills", flt.skills)):
        if values and await _is_rare(engine, kind, tuple(sorted(set(values)))):
            rare.add(kind)
    return frozenset(rare)


async def _is_rare(engine: AsyncEngine, kind: str, values: tuple[str, ...]) -> bool:
    key = (str(engine.url), kind, values)
    now = time.monotonic()
    kept = _counts.get(key)
    if kept is not None and kept[1] > now:
        _counts.move_to_end(key)
        return kept[0]
    table, column = _TABLES[kind]
    capped = (
        select(literal(1))
        .select_from(table)
        .where(table.c[column].in_(values))
        .limit(RARE_AT_MOST + 1)
        .subquery()
    )
    async with engine.connect() as conn:
        rows = int((await conn.execute(select(func.count()).select_from(capped))).scalar_one())
    rare = rows <= RARE_AT_MOST
    _counts[key] = (rare, now + _KEPT_SECONDS)
    if len(_counts) > _KEPT:
        _counts.popitem(last=False)
    return rare
