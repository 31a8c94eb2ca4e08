"""A few engagements of the demo company, so that its report and the partners' events are not
empty on a fresh machine: interests, some accepted, some completed with hours, one declined, one
withdrawn, one declared by the company; hourly costs set."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from hub.catalogue.filters import MissionFilter, MissionOrder, Policy
from hub.clock import ManualClock
from hub.engagement import ContactCipher, EngagementStatus
from hub.ingest.engagements import EngagementWriter, UpdateItem
from hub.storage.engagement_reads import EngagementReads, Owner
from hub.storage.repository import MissionRepository

__all__ = ["load_demo_engagements"]

_SITES = ("Lyon", "Paris", "Lille")
_DEPARTMENTS = ("IT", "Finance", "RH")
# What each demo engagement became, in order (None: left INTERESTED), with the hours given.
_OUTCOMES: tuple[tuple[EngagementStatus | None, float | None], ...] = (
    (EngagementStatus.COMPLETED, 6),
    (EngagementStatus.COMPLETED, 12),
    (EngagementStatus.COMPLETED, 3.5),
    (EngagementStatus.ACCEPTED, 2),
    (EngagementStatus.APPLIED, None),
    (EngagementStatus.DECLINED, None),
    (None, None),
    (EngagementStatus.WITHDRAWN, None),
)


@dataclass(frozen=True)
class _Company:
    client_pk: int
    client_id: str
    partner: str | None = None
    policy: Policy = field(default_factory=Policy)


async def load_demo_engagements(
    engine: AsyncEngine, now: datetime, company_pk: int, company_id: str
) -> int:
    """Write the demo engagements unless the company has some; returns how many it has."""
    clock = ManualClock(now)
    reads = EngagementReads(engine, clock)
    owner = Owner(company_pk=company_pk)
    if existing := await reads.page(owner, first=100):
        return len(existing)
    repository = MissionRepository(engine, clock)
    page, _ = await repository.search(MissionFilter(), MissionOrder.RECENT, len(_OUTCOMES), None)
    writer = EngagementWriter(
        engine,
        clock,
        ContactCipher([]),
        link_base="http://localhost",
        link_ttl=timedelta(days=30),
        retention=timedelta(days=365),
    )
    company = _Company(company_pk, company_id)
    await writer.set_costs(company_pk, 55.0, {"Lyon": 62.0}, {}, 40_000_000.0)
    for index, (mission, (status, hours)) in enumerate(zip(page.items, _OUTCOMES, strict=False)):
        interest = await writer.express_interest(
            company,
            mission.id,
            f"demo-{index + 1:03d}",
            site=_SITES[index % len(_SITES)],
            department=_DEPARTMENTS[index % len(_DEPARTMENTS)],
        )
        engagement = interest.engagement
        if status is EngagementStatus.WITHDRAWN:
            await writer.withdraw(company_pk, engagement.id, "demo: plans changed")
        elif status is not None:
            item = UpdateItem(engagement.id, status, hours, "demo")
            await writer.update(engagement.partner_pk, [item])
    if page.items:
        await writer.record_hours(company, page.items[0].id, "demo-100", 4, site="Paris")
    return len(await reads.page(owner, first=100))
