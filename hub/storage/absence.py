"""Which of a partner's open missions a complete pull no longer lists, in the writer's
transaction (the decision to close them is hub.ingest.service's)."""

from __future__ import annotations

from collections.abc import Set
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.catalogue.model import MissionStatus
from hub.storage.tables import missions

__all__ = ["absent_from", "mission_count", "open_external_ids"]

_CHUNK = 10_000  # open missions read and looked up at a time


async def open_external_ids(
    conn: AsyncConnection, partner_pk: int, *, limit: int | None = None
) -> list[str]:
    """The partner's open missions (the first `limit` of them in the order they were stored)."""
    query = (
        select(missions.c.external_id)
        .where(
            missions.c.partner_pk == partner_pk,
            missions.c.status == MissionStatus.OPEN.value,
        )
        .order_by(missions.c.pk)
        .limit(limit)
    )
    return list((await conn.execute(query)).scalars())


async def absent_from(
    conn: AsyncConnection, partner_pk: int, seen: Set[str], *, snapshot: bool
) -> list[str]:
    """The open missions to close for being absent from a complete pull.

    A snapshot closes every one it lacks. A full pass of offset pages is no snapshot (pages can
    shift while read): a mission closes when it is missing from two consecutive passes, so the
    misses are counted here, and reset for the missions seen again.

    The open missions are read in chunks (a million-mission partner is never in memory at once),
    each looked up in `seen` in id order (a set kept in a file, hub.ingest.listed, then reads
    its pages in order); only the missing ones are kept.
    """
    missing: list[Any] = []
    result = await conn.stream(
        select(missions.c.external_id, missions.c.pk, missions.c.missed_syncs).where(
            missions.c.partner_pk == partner_pk,
            missions.c.status == MissionStatus.OPEN.value,
        )
    )
    async for chunk in result.partitions(_CHUNK):
        for row in sorted(chunk, key=lambda row: str(row.external_id)):
            if row.external_id not in seen:
                missing.append(row)
    if snapshot:
        return [row.external_id for row in missing]
    to_close = [row.external_id for row in missing if row.missed_syncs + 1 >= 2]
    await conn.execute(
        update(missions)
        .where(missions.c.partner_pk == partner_pk, missions.c.missed_syncs > 0)
        .values(missed_syncs=0)
    )
    keep = [row for row in missing if row.missed_syncs + 1 < 2]
    if keep:
        await conn.execute(
            update(missions)
            .where(missions.c.pk == bindparam("b_pk"))
            .values(missed_syncs=bindparam("b_missed")),
            [{"b_pk": row.pk, "b_missed": row.missed_syncs + 1} for row in keep],
        )
    return to_close


async def mission_count(engine: AsyncEngine) -> int:
    """How many missions the store holds, open or not."""
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(missions))).scalar_one())
