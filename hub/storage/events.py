"""Appends to the ordered change-event log, in the writer's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.catalogue.model import EventType
from hub.storage.bulk import JsonMemo, insert_rows
from hub.storage.tables import mission_events

__all__ = ["EngagementEvent", "Event", "append_engagement_events", "append_events"]

# Serialises appends to the event log on PostgreSQL so that log order is commit order.
_EVENT_LOCK_KEY = 0x656E74726169

# (mission pk, type, match state before as JSON or None, match state after as JSON)
Event = tuple[int, EventType, dict[str, Any] | None, dict[str, Any]]
# (engagement pk, its listing's pk, type, state before or None, state after): ENGAGEMENT_*.
EngagementEvent = tuple[int, int, str, dict[str, Any] | None, dict[str, Any]]


async def append_events(
    conn: AsyncConnection, events: list[Event], now: datetime, *, json_memo: JsonMemo | None = None
) -> list[int]:
    """Append `events` in order; returns their log positions (`json_memo`: insert_rows')."""
    return await _append(
        conn,
        [
            {
                "mission_pk": pk,
                "type": kind.value,
                "occurred_at": now,
                "previous": previous,
                "state": state,
            }
            for pk, kind, previous, state in events
        ],
        json_memo,
    )


async def append_engagement_events(
    conn: AsyncConnection, events: list[EngagementEvent], now: datetime
) -> list[int]:
    """Append engagement events to the same log, in order; returns their log positions."""
    return await _append(
        conn,
        [
            {
                "mission_pk": mission_pk,
                "engagement_pk": engagement_pk,
                "type": kind,
                "occurred_at": now,
                "previous": previous,
                "state": state,
            }
            for engagement_pk, mission_pk, kind, previous, state in events
        ],
    )


async def _append(
    conn: AsyncConnection, rows: list[dict[str, Any]], json_memo: JsonMemo | None = None
) -> list[int]:
    if not rows:
        return []
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _EVENT_LOCK_KEY})
    # One COPY (PostgreSQL) or executemany, then read the positions back: appends are
    # serialised (the lock above; SQLite has one writer), so the new rows are exactly those
    # after the last position. (RETURNING in input order makes SQLite insert one row per
    # statement.)
    before = (await conn.execute(select(func.max(mission_events.c.seq)))).scalar_one() or 0
    await insert_rows(conn, mission_events, rows, json_memo=json_memo)
    result = await conn.execute(
        select(mission_events.c.seq)
        .where(mission_events.c.seq > before)
        .order_by(mission_events.c.seq)
    )
    return [row[0] for row in result]
