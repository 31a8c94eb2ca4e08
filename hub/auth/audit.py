"""Who did what with their credentials: the audit log's writer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from hub.storage import append_audit

__all__ = ["audit"]


async def audit(
    engine: AsyncEngine, at: datetime, event: str, client_id: str | None, **detail: Any
) -> None:
    """One audit row: token issued, denied or revoked, and every partner write."""
    await append_audit(engine, at, event, client_id, detail)
