"""Engagement writes, each in the caller's transaction: rows, history, and their events in the
one ordered log (hub.storage.events). hub.ingest.engagements is the only caller."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.catalogue.filters import MissionFilter, Policy
from hub.engagement import EngagementRecord, EngagementStatus, Listing
from hub.storage import search
from hub.storage.events import append_engagement_events
from hub.storage.tables import (
    clients,
    engagement_costs,
    engagement_history,
    engagements,
    mission_causes,
    mission_skills,
    missions,
    organizations,
    partners,
)

__all__ = [
    "CREATED",
    "ERASED",
    "UPDATED",
    "Owner",
    "active_engagement",
    "by_employee",
    "by_id",
    "by_token",
    "change_engagement",
    "contacts_kept_since",
    "costs_of",
    "engagement_select",
    "erase_contacts",
    "find_engagements",
    "insert_engagement",
    "listings_of",
    "mark_clicked",
    "mission_facts",
    "new_engagement_id",
    "record_of",
    "renew_link",
    "reseal_contacts",
    "set_costs",
    "visible_mission",
]


@dataclass(frozen=True, slots=True)
class Owner:
    """Whose engagements a read may return: a company's (client pk) or a partner's."""

    company_pk: int | None = None
    partner_pk: int | None = None

    def condition(self) -> ColumnElement[bool]:
        if self.company_pk is not None:
            return engagements.c.company_pk == self.company_pk
        if self.partner_pk is not None:
            return engagements.c.partner_pk == self.partner_pk
        raise ValueError("an engagement read needs a company or a partner")


# The engagement events' types in the log, beside missions' PUBLISHED, UPDATED and CLOSED.
CREATED = "ENGAGEMENT_CREATED"
UPDATED = "ENGAGEMENT_UPDATED"
ERASED = "ENGAGEMENT_ERASED"


def new_engagement_id() -> str:
    return f"eng_{secrets.token_hex(12)}"


def engagement_select() -> Select[Any]:
    """Engagements with what their record names: mission, partner, company, organization."""
    return (
        select(
            engagements,
            missions.c.id.label("mission_id"),
            missions.c.title.label("mission_title"),
            partners.c.name.label("partner"),
            clients.c.id.label("company"),
            clients.c.name.label("company_name"),
            organizations.c.id.label("organization_id"),
            organizations.c.name.label("organization_name"),
        )
        .join(missions, missions.c.pk == engagements.c.mission_pk)
        .join(partners, partners.c.pk == engagements.c.partner_pk)
        .join(clients, clients.c.pk == engagements.c.company_pk)
        .outerjoin(organizations, organizations.c.pk == engagements.c.organization_pk)
    )


def record_of(row: Any) -> EngagementRecord:
    values = dict(row._mapping)
    values["status"] = EngagementStatus(values["status"])
    return EngagementRecord(**{name: values[name] for name in EngagementRecord.__slots__})


async def find_engagements(conn: AsyncConnection, *conditions: Any) -> list[EngagementRecord]:
    stmt = engagement_select().where(*conditions).order_by(engagements.c.pk)
    return [record_of(row) for row in await conn.execute(stmt)]


async def by_id(conn: AsyncConnection, engagement_id: str, owner: Owner) -> EngagementRecord | None:
    found = await find_engagements(conn, engagements.c.id == engagement_id, owner.condition())
    return found[0] if found else None


async def by_token(conn: AsyncConnection, token: str) -> EngagementRecord | None:
    found = await find_engagements(conn, engagements.c.link_token == token)
    return found[0] if found else None


async def by_employee(
    conn: AsyncConnection, company_pk: int, employee_ref: str
) -> list[EngagementRecord]:
    return await find_engagements(
        conn, engagements.c.company_pk == company_pk, engagements.c.employee_ref == employee_ref
    )


async def active_engagement(
    conn: AsyncConnection,
    company_pk: int,
    employee_ref: str,
    mission_pks: Sequence[int],
    statuses: Sequence[EngagementStatus],
) -> EngagementRecord | None:
    """The employee's latest engagement in `statuses` on any of these listings."""
    found = await find_engagements(
        conn,
        engagements.c.company_pk == company_pk,
        engagements.c.employee_ref == employee_ref,
        engagements.c.mission_pk.in_(list(mission_pks)),
        engagements.c.status.in_([s.value for s in statuses]),
    )
    return found[-1] if found else None


async def renew_link(
    conn: AsyncConnection, pk: int, token: str, expires_at: datetime
) -> EngagementRecord:
    await conn.execute(
        update(engagements)
        .where(engagements.c.pk == pk)
        .values(link_token=token, link_expires_at=expires_at)
    )
    (record,) = await find_engagements(conn, engagements.c.pk == pk)
    return record


async def mark_clicked(conn: AsyncConnection, pk: int, now: datetime) -> bool:
    """Count the first click only; True when this was it."""
    result = await conn.execute(
        update(engagements)
        .where(engagements.c.pk == pk, engagements.c.clicked_at.is_(None))
        .values(clicked_at=now)
    )
    return bool(result.rowcount)


async def contacts_kept_since(conn: AsyncConnection, before: datetime) -> list[EngagementRecord]:
    """Engagements holding contact details and unchanged since `before`."""
    return await find_engagements(
        conn, engagements.c.contact_sealed.is_not(None), engagements.c.updated_at < before
    )


async def visible_mission(
    conn: AsyncConnection, mission_id: str, policy: Policy | None
) -> tuple[int, str] | None:
    """The pk and status of the mission `mission_id` if `policy` lets its company see it: the
    catalogue's own conditions (hub.storage.search), without loading the whole record."""
    conditions = search.compile_filter(
        conn.dialect.name, MissionFilter(status=()), policy, collapse=False
    )
    row = (
        await conn.execute(
            select(missions.c.pk, missions.c.status).where(
                missions.c.id == mission_id, *conditions.values()
            )
        )
    ).first()
    return (row.pk, row.status) if row is not None else None


async def listings_of(conn: AsyncConnection, mission_pk: int) -> list[Listing]:
    """Every partner's listing of the mission `mission_pk` is one of (its merged cluster), the
    one shown first, then by the operator's partner priority."""
    root = (select(missions.c.canonical_pk).where(missions.c.pk == mission_pk)).scalar_subquery()
    rows = await conn.execute(
        select(
            missions.c.pk,
            missions.c.partner_pk,
            missions.c.application_url,
            missions.c.status,
            missions.c.canonical_pk,
            partners.c.name,
            partners.c.config,
            partners.c.priority,
        )
        .join(partners, partners.c.pk == missions.c.partner_pk)
        .where(
            or_(
                missions.c.pk == mission_pk,
                missions.c.pk == root,
                missions.c.canonical_pk == mission_pk,
                and_(missions.c.canonical_pk.is_not(None), missions.c.canonical_pk == root),
            )
        )
    )
    found = sorted(
        rows,
        key=lambda r: (r.canonical_pk is not None, r.priority is None, r.priority or 0, r.pk),
    )
    return [
        Listing(
            pk=r.pk,
            partner_pk=r.partner_pk,
            partner=r.name,
            application_url=r.application_url,
            tracking=(r.config or {}).get("tracking"),
            open=r.status == "OPEN",
        )
        for r in found
    ]


async def mission_facts(conn: AsyncConnection, mission_pk: int) -> dict[str, Any]:
    """What an engagement keeps of its mission: primary cause and skill, organization."""
    org = (
        await conn.execute(select(missions.c.organization_pk).where(missions.c.pk == mission_pk))
    ).scalar_one()
    # A mission's causes and skills are kept unordered: the first by name is its primary one,
    # a stable choice the report documents (hub.engagement.report).
    cause, skill = [
        (
            await conn.execute(
                select(column).where(table.c.mission_pk == mission_pk).order_by(column).limit(1)
            )
        ).scalar_one_or_none()
        for table, column in (
            (mission_causes, mission_causes.c.cause),
            (mission_skills, mission_skills.c.skill),
        )
    ]
    return {"organization_pk": org, "cause": cause, "skill": skill}


async def insert_engagement(
    conn: AsyncConnection, values: dict[str, Any], actor: str, now: datetime
) -> tuple[EngagementRecord, int]:
    """A new engagement, its first history line and its ENGAGEMENT_CREATED event."""
    pk = (
        await conn.execute(
            insert(engagements)
            .values(**values, created_at=now, updated_at=now)
            .returning(engagements.c.pk)
        )
    ).scalar_one()
    (record,) = await find_engagements(conn, engagements.c.pk == pk)
    await _history(conn, record, actor, now, None)
    (seq,) = await append_engagement_events(
        conn, [(pk, record.mission_pk, CREATED, None, record.state)], now
    )
    return record, seq


async def change_engagement(
    conn: AsyncConnection,
    before: EngagementRecord,
    values: dict[str, Any],
    actor: str,
    now: datetime,
    note: str | None = None,
    event: str = UPDATED,
) -> tuple[EngagementRecord, int]:
    """Apply `values`, keep a history line, and append the event (`event` type)."""
    await conn.execute(
        update(engagements).where(engagements.c.pk == before.pk).values(**values, updated_at=now)
    )
    (after,) = await find_engagements(conn, engagements.c.pk == before.pk)
    await _history(conn, after, actor, now, note)
    (seq,) = await append_engagement_events(
        conn, [(after.pk, after.mission_pk, event, before.state, after.state)], now
    )
    return after, seq


async def _history(
    conn: AsyncConnection, record: EngagementRecord, actor: str, now: datetime, note: str | None
) -> None:
    await conn.execute(
        insert(engagement_history).values(
            engagement_pk=record.pk,
            at=now,
            actor=actor,
            status=record.status.value,
            hours_given=record.hours_given,
            note=note,
        )
    )


async def erase_contacts(
    conn: AsyncConnection, found: Sequence[EngagementRecord], values: dict[str, Any], now: datetime
) -> list[int]:
    """Erase what `values` says of each engagement (contact; with the message, the reference and
    the history's notes: the person), with an ENGAGEMENT_ERASED event each, so that a partner
    erases its copy too."""
    seqs = []
    for record in found:
        if "message" in values:  # the person's erasure: the notes of its history go too
            await conn.execute(
                update(engagement_history)
                .where(engagement_history.c.engagement_pk == record.pk)
                .values(note=None)
            )
        _, seq = await change_engagement(conn, record, values, "HUB", now, "erased", ERASED)
        seqs.append(seq)
    return seqs


async def set_costs(
    conn: AsyncConnection, company_pk: int, entries: Sequence[tuple[str, str, float]], now: datetime
) -> None:
    """Replace the company's hourly costs and turnover with `entries` (kind, label, amount)."""
    await conn.execute(delete(engagement_costs).where(engagement_costs.c.company_pk == company_pk))
    if entries:
        await conn.execute(
            insert(engagement_costs),
            [
                {"company_pk": company_pk, "kind": k, "label": lbl, "amount": a, "updated_at": now}
                for k, lbl, a in entries
            ],
        )


async def costs_of(conn: AsyncConnection, company_pk: int) -> list[tuple[str, str, float]]:
    rows = await conn.execute(
        select(engagement_costs.c.kind, engagement_costs.c.label, engagement_costs.c.amount)
        .where(engagement_costs.c.company_pk == company_pk)
        .order_by(engagement_costs.c.kind, engagement_costs.c.label)
    )
    return [(r.kind, r.label, r.amount) for r in rows]


async def reseal_contacts(conn: AsyncConnection, reseal: Callable[[str], str]) -> int:
    """Seal every kept contact again (`reseal`: with the first key), in place: the details do
    not change, so no event. Returns how many."""
    rows = (
        await conn.execute(
            select(engagements.c.pk, engagements.c.contact_sealed).where(
                engagements.c.contact_sealed.is_not(None)
            )
        )
    ).all()
    for pk, sealed in rows:
        await conn.execute(
            update(engagements).where(engagements.c.pk == pk).values(contact_sealed=reseal(sealed))
        )
    return len(rows)
