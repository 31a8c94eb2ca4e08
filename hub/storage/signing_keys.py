"""The hub's token signing keys: one table shared by every replica."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.storage.tables import signing_keys

__all__ = ["add_signing_key", "signing_key_rows"]


async def signing_key_rows(engine: AsyncEngine) -> list[dict[str, Any]]:
    """Every key (kid, private_jwk, created_at, retired_at), newest first."""
    async with engine.connect() as conn:
        rows = await conn.execute(select(signing_keys).order_by(signing_keys.c.pk.desc()))
        return [dict(row) for row in rows.mappings()]


async def add_signing_key(
    engine: AsyncEngine, kid: str, jwk: dict[str, Any], now: datetime
) -> None:
    """Add the key that signs from now on, and retire the others in the same transaction."""
    async with engine.begin() as conn:
        await conn.execute(
            update(signing_keys).where(signing_keys.c.retired_at.is_(None)).values(retired_at=now)
        )
        await conn.execute(insert(signing_keys).values(kid=kid, private_jwk=jwk, created_at=now))
