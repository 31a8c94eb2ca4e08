"""The audit log: tokens issued, denied and revoked, and every partner write."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.storage.tables import audit_log

__all__ = ["append_audit"]


async def append_audit(
    engine: AsyncEngine, at: datetime, event: str, client_id: str | None, detail: dict[str, Any]
) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(audit_log).values(at=at, event=event, client_id=client_id, detail=detail)
        )
