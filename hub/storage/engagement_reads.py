"""Engagement reads, each under the isolation of who asks: a company its own, a partner those on
its listings. The event log's engagement events are read here, beside the missions' readers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from hub.engagement import EngagementRecord, EngagementStatus, Fact
from hub.storage.engagements import (
    Owner,
    costs_of,
    engagement_select,
    find_engagements,
    record_of,
)
from hub.storage.event_reads import LOG_COLUMNS, EventLogReads
from hub.storage.labels import partner_pks
from hub.storage.tables import engagement_history, engagements, mission_events, missions

__all__ = ["EngagementEventRow", "EngagementReads", "HistoryLine", "Owner"]


@dataclass(frozen=True, slots=True)
class EngagementEventRow:
    seq: int
    type: str
    occurred_at: datetime
    previous: dict[str, Any] | None
    state: dict[str, Any] | None
    engagement: EngagementRecord


@dataclass(frozen=True, slots=True)
class HistoryLine:
    at: datetime
    actor: str
    status: EngagementStatus
    hours_given: float | None
    note: str | None


class EngagementReads(EventLogReads):
    async def by_ids(self, ids: Sequence[str], owner: Owner) -> dict[str, EngagementRecord]:
        async with self.engine.connect() as conn:
            found = await find_engagements(conn, engagements.c.id.in_(list(ids)), owner.condition())
        return {record.id: record for record in found}

    async def partner_pk(self, name: str) -> int | None:
        async with self.engine.connect() as conn:
            found = await partner_pks(conn, name)
        return next(iter(found), None)

    async def page(
        self,
        owner: Owner,
        *,
        statuses: Sequence[EngagementStatus] = (),
        mission_id: str | None = None,
        employee_ref: str | None = None,
        first: int,
        after_pk: int | None = None,
    ) -> list[EngagementRecord]:
        """Newest first; `first + 1` rows, so that the caller knows whether more follow."""
        stmt = engagement_select().where(owner.condition())
        if statuses:
            stmt = stmt.where(engagements.c.status.in_([s.value for s in statuses]))
        if mission_id is not None:
            stmt = stmt.where(missions.c.id == mission_id)
        if employee_ref is not None:
            stmt = stmt.where(engagements.c.employee_ref == employee_ref)
        if after_pk is not None:
            stmt = stmt.where(engagements.c.pk < after_pk)
        stmt = stmt.order_by(engagements.c.pk.desc()).limit(first + 1)
        async with self.engine.connect() as conn:
            return [record_of(row) for row in await conn.execute(stmt)]

    async def history(self, engagement_pk: int) -> list[HistoryLine]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(engagement_history)
                .where(engagement_history.c.engagement_pk == engagement_pk)
                .order_by(engagement_history.c.pk)
            )
            return [
                HistoryLine(r.at, r.actor, EngagementStatus(r.status), r.hours_given, r.note)
                for r in rows
            ]

    async def engagement_events_after(
        self, seq: int, limit: int, owner: Owner
    ) -> list[EngagementEventRow]:
        """The engagement events after position `seq` that `owner` may see, oldest first."""
        async with self.engine.connect() as conn:
            await self.check_cursor(
                conn, seq, "list engagements again and follow the events from now on"
            )
            rows = (
                await conn.execute(
                    select(*LOG_COLUMNS, mission_events.c.engagement_pk)
                    .join(engagements, engagements.c.pk == mission_events.c.engagement_pk)
                    .where(mission_events.c.seq > seq, owner.condition())
                    .order_by(mission_events.c.seq)
                    .limit(limit)
                )
            ).all()
            pks = sorted({row.engagement_pk for row in rows})
            records = {r.pk: r for r in await find_engagements(conn, engagements.c.pk.in_(pks))}
        return [
            EngagementEventRow(
                r.seq, r.type, r.occurred_at, r.previous, r.state, records[r.engagement_pk]
            )
            for r in rows
        ]

    async def report_facts(self, company_pk: int, start: datetime, end: datetime) -> list[Fact]:
        """The company's engagements that count in [start, end): completed then, or (not
        completed) expressed then."""
        on = func.coalesce(engagements.c.completed_at, engagements.c.created_at)
        async with self.engine.connect() as conn:
            found = await find_engagements(
                conn, engagements.c.company_pk == company_pk, on >= start, on < end
            )
        facts = []
        for record in found:
            facts.append(
                Fact(
                    status=record.status,
                    hours_given=Decimal(str(record.hours_given or 0)),
                    employee=record.employee_ref,
                    organization=record.organization_name,
                    partner=record.partner,
                    cause=record.cause,
                    skill=record.skill,
                    site=record.site,
                    department=record.department,
                    on=record.completed_at or record.created_at,
                    clicked=record.clicked_at is not None,
                )
            )
        return facts

    async def costs(self, company_pk: int) -> list[tuple[str, str, float]]:
        async with self.engine.connect() as conn:
            return await costs_of(conn, company_pk)
