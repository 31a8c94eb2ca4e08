"""A partner's declarative mapping, kept on its row: set (versioned) and read back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.storage.tables import partners

__all__ = ["StoredMapping", "partner_mapping", "set_partner_mapping"]


@dataclass(frozen=True, slots=True)
class StoredMapping:
    partner: str
    connector: str | None
    mapping: dict[str, Any] | None  # None: the connector's own default
    version: int  # 0 until one is set; each set adds one
    set_at: datetime | None


async def partner_mapping(engine: AsyncEngine, name: str) -> StoredMapping | None:
    """The partner's mapping, or None when there is no such partner."""
    columns = (
        partners.c.connector,
        partners.c.mapping,
        partners.c.mapping_version,
        partners.c.mapping_set_at,
    )
    async with engine.connect() as conn:
        row = (await conn.execute(select(*columns).where(partners.c.name == name))).first()
    if row is None:
        return None
    return StoredMapping(
        name, row.connector, row.mapping, int(row.mapping_version or 0), row.mapping_set_at
    )


async def set_partner_mapping(
    engine: AsyncEngine, name: str, mapping: dict[str, Any], now: datetime
) -> int | None:
    """Store a (validated) mapping for the partner; its new version, or None if no partner."""
    async with engine.begin() as conn:
        changed = await conn.execute(
            update(partners)
            .where(partners.c.name == name)
            .values(
                mapping=mapping,
                mapping_version=func.coalesce(partners.c.mapping_version, 0) + 1,
                mapping_set_at=now,
            )
        )
        if changed.rowcount == 0:
            return None
        version = await conn.scalar(
            select(partners.c.mapping_version).where(partners.c.name == name)
        )
    return int(version or 0)
