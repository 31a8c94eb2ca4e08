"""Engagement events for webhooks: a company's webhook hears of its own engagements, a partner's
of the engagements on its missions (the same rule as `partnerEngagementEvents` and the company's
`engagementEvents`), as ENGAGEMENT_CREATED, ENGAGEMENT_UPDATED and ENGAGEMENT_ERASED.

The body says what the owner's API says of the engagement, never the employee's contact details:
a partner reads those through the API, where each read is audited (docs/partners.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub.engagement.record import EngagementRecord
from hub.storage.engagement_reads import EngagementEventRow, EngagementReads
from hub.storage.engagements import CREATED, ERASED, UPDATED, Owner
from hub.webhooks.routes import Audience, Judged

__all__ = ["ENGAGEMENT_EVENT_TYPES", "EngagementEvents", "engagement_json"]

ENGAGEMENT_EVENT_TYPES = (CREATED, UPDATED, ERASED)


class EngagementEvents:
    """The engagement rows of the log that a webhook's owner may see."""

    def __init__(self, reads: EngagementReads) -> None:
        self.reads = reads
        self._partner_pks: dict[str, int | None] = {}

    async def read(self, audience: Audience, after: int, limit: int) -> list[Judged]:
        owner = await self._owner(audience)
        if owner is None:  # a partner the hub no longer knows: nothing of anyone else's
            return []
        rows = await self.reads.engagement_events_after(after, limit, owner)
        partner = audience.webhook.partner is not None
        return [Judged(row.seq, audience.wants(row.type), _body(row, partner)) for row in rows]

    async def _owner(self, audience: Audience) -> Owner | None:
        name = audience.webhook.partner
        if name is None:
            return Owner(company_pk=audience.webhook.client_pk)
        if name not in self._partner_pks:
            self._partner_pks[name] = await self.reads.partner_pk(name)
        pk = self._partner_pks[name]
        return None if pk is None else Owner(partner_pk=pk)


def engagement_json(
    record: EngagementRecord, for_partner: bool, state: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The engagement as its owner's API shows it: the company sees its employee's reference and
    labels, the partner the company's name and the employee's message. With an event's `state`,
    the status and hours are those the event recorded (a delivery may be sent after later
    changes: each event says what it changed to)."""
    out: dict[str, Any] = {
        "id": record.id,
        "missionId": record.mission_id,
        "missionTitle": record.mission_title,
        "partner": record.partner,
        "status": record.status.value,
        "source": record.source,
        "hoursPlanned": record.hours_planned,
        "hoursGiven": record.hours_given,
        "startAt": _iso(record.start_at),
        "endAt": _iso(record.end_at),
        "completedAt": _iso(record.completed_at),
        "createdAt": _iso(record.created_at),
        "updatedAt": _iso(record.updated_at),
    }
    if for_partner:
        out |= {"company": record.company_name, "message": record.message}
    else:
        out |= {
            "employeeRef": record.employee_ref,
            "site": record.site,
            "department": record.department,
            "team": record.team,
            "clickedAt": _iso(record.clicked_at),
        }
    if state:
        out |= {"status": state.get("status", out["status"]), "hoursGiven": state.get("hoursGiven")}
    return out


def _iso(value: Any) -> str | None:
    return None if value is None else str(value.isoformat())


def _body(row: EngagementEventRow, for_partner: bool) -> Callable[[str, str], dict[str, Any]]:
    def body(cursor: str, kind: str) -> dict[str, Any]:
        return {
            "cursor": cursor,
            "type": kind,
            "occurredAt": row.occurred_at.isoformat(),
            "engagement": engagement_json(row.engagement, for_partner, row.state),
        }

    return body
