"""Revoked access tokens (RFC 7009), by `jti`: the deny-list every replica reads."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.storage.tables import revoked_tokens

__all__ = ["add_revocation", "is_revoked"]


async def is_revoked(engine: AsyncEngine, jti: str) -> bool:
    async with engine.connect() as conn:
        found = await conn.execute(select(revoked_tokens.c.jti).where(revoked_tokens.c.jti == jti))
        return found.first() is not None


async def add_revocation(
    engine: AsyncEngine, jti: str, client_id: str, expires_at: datetime, revoked_at: datetime
) -> bool:
    """Deny `jti`; False when it was revoked already (revocation is idempotent)."""
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(revoked_tokens).values(
                    jti=jti, client_id=client_id, expires_at=expires_at, revoked_at=revoked_at
                )
            )
    except IntegrityError:
        return False
    return True
