"""Reads of the change-event log: from a cursor, its start, its end; and pruning."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.catalogue.records import MissionRecord
from hub.errors import UserInputError
from hub.storage.rows import MISSION_COLUMNS, RecordReader
from hub.storage.tables import hub_state, mission_events, missions

__all__ = ["LOG_COLUMNS", "CursorExpired", "EventLogReads", "EventRow"]

# What every reader of the log reads of a row, before what its events are about.
LOG_COLUMNS = (
    mission_events.c.seq,
    mission_events.c.type,
    mission_events.c.occurred_at,
    mission_events.c.previous,
    mission_events.c.state,
)


class CursorExpired(UserInputError):
    """The log no longer holds what follows this cursor: the client must resynchronise."""


@dataclass(frozen=True, slots=True)
class EventRow:
    """One change of the event log, with the mission as it is now."""

    seq: int
    type: str
    occurred_at: datetime
    previous: dict[str, Any] | None
    state: dict[str, Any] | None
    mission: MissionRecord


class EventLogReads(RecordReader):
    """The event log as readers (subscriptions, `missionEvents`, webhooks) see it."""

    async def pruned_through(self, conn: AsyncConnection) -> int:
        value = (
            await conn.execute(select(hub_state.c.value).where(hub_state.c.key == "pruned_through"))
        ).scalar_one_or_none()
        return int(value or 0)

    async def log_start(self) -> int:
        """The oldest position a reader may start from (events before it were pruned)."""
        async with self.engine.connect() as conn:
            return await self.pruned_through(conn)

    async def check_cursor(self, conn: AsyncConnection, seq: int, again: str) -> None:
        """CursorExpired when the log no longer holds what follows `seq`; `again` says how to
        start over."""
        if seq < await self.pruned_through(conn):
            raise CursorExpired(f"this cursor is older than the event log keeps: {again}")

    async def events_after(self, seq: int, limit: int) -> list[EventRow]:
        """The mission events after position `seq`, oldest first, missions loaded once for the
        batch."""
        async with self.engine.connect() as conn:
            await self.check_cursor(
                conn, seq, "query missions again and subscribe from their eventCursor"
            )
            rows = (
                await conn.execute(
                    select(*LOG_COLUMNS, mission_events.c.mission_pk)
                    .where(mission_events.c.seq > seq)
                    # Engagement events share the log; they are read by their own readers
                    # (hub.storage.engagement_reads), under their own isolation.
                    .where(mission_events.c.engagement_pk.is_(None))
                    .order_by(mission_events.c.seq)
                    .limit(limit)
                )
            ).all()
            if not rows:
                return []
            pks = sorted({row.mission_pk for row in rows})
            mission_rows = (
                (await conn.execute(select(*MISSION_COLUMNS).where(missions.c.pk.in_(pks))))
                .mappings()
                .all()
            )
            records = {record.pk: record for record in await self._records(conn, mission_rows)}
        return [
            EventRow(
                row.seq, row.type, row.occurred_at, row.previous, row.state, records[row.mission_pk]
            )
            for row in rows
        ]

    async def prune_events(self, before: datetime) -> int:
        """Drop events older than `before`; cursors from before then get CursorExpired."""
        async with self.engine.begin() as conn:
            last = (
                await conn.execute(
                    select(func.max(mission_events.c.seq)).where(
                        mission_events.c.occurred_at < before
                    )
                )
            ).scalar_one()
            if last is None:
                return 0
            result = await conn.execute(delete(mission_events).where(mission_events.c.seq <= last))
            if await self.pruned_through(conn):
                await conn.execute(
                    update(hub_state)
                    .where(hub_state.c.key == "pruned_through")
                    .values(value=int(last))
                )
            else:
                await conn.execute(insert(hub_state).values(key="pruned_through", value=int(last)))
            return int(result.rowcount or 0)

    async def event_cursor(self) -> int:
        """The log position now: a client that subscribes from here misses nothing after it."""
        async with self.engine.connect() as conn:
            value = (await conn.execute(select(func.max(mission_events.c.seq)))).scalar_one()
        return int(value or 0)
