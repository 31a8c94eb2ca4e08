"""Which events of the log reach a webhook, as what type, with what body.

The log holds every kind of event in one order. Each kind has a reader here (a `Source`): it
reads its rows after a position and judges each for one webhook, giving the type the webhook
gets (None: not for it) and the body. The worker merges the sources in log order.

Mission events (MissionEvents) are judged as the webhook's owner's subscription would judge
them; engagement events (hub/webhooks/engagement_events.py) go to their owner's webhooks: a
partner's hears of the engagements on its missions, a company's of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from hub.live.matching import Matcher
from hub.storage.repository import EventRow, MissionRepository
from hub.storage.webhooks import WebhookRow
from hub.webhooks.payload import event_payload

__all__ = [
    "MISSION_EVENT_TYPES",
    "WEBHOOK_EVENT_TYPES",
    "Audience",
    "Judged",
    "MissionEvents",
    "Source",
    "merged",
]

MISSION_EVENT_TYPES = ("PUBLISHED", "UPDATED", "CLOSED")
# The types a webhook may ask for (the GraphQL enum WebhookEventType lists the same): mission
# changes, and engagement events (hub/webhooks/engagement_events.py).
WEBHOOK_EVENT_TYPES: tuple[str, ...] = (
    *MISSION_EVENT_TYPES,
    "ENGAGEMENT_CREATED",
    "ENGAGEMENT_UPDATED",
    "ENGAGEMENT_ERASED",
)


@dataclass(frozen=True, slots=True)
class Audience:
    """A webhook and what its owner may see: its filter under the company's policy, or, for a
    partner's webhook, the partner's own missions."""

    webhook: WebhookRow
    matcher: Matcher

    def owns(self, partner: str) -> bool:
        """A partner's webhook hears only of its own missions."""
        return partner == self.webhook.partner

    def wants(self, kind: str | None) -> str | None:
        return kind if kind in self.webhook.events else None


@dataclass(frozen=True, slots=True)
class Judged:
    """One row of the log as it concerns one webhook."""

    seq: int
    type: str | None  # what the webhook gets; None when the row is not for it
    body: Callable[[str, str], dict[str, Any]]  # (cursor, type) -> the delivery's JSON


class Source(Protocol):
    async def read(self, audience: Audience, after: int, limit: int) -> list[Judged]:
        """This kind's rows after log position `after`, oldest first, at most `limit`."""
        ...


class MissionEvents:
    """Mission changes. A company's webhook: as its subscription would see them (entering its
    filter is PUBLISHED, staying in it UPDATED, leaving it CLOSED). A partner's: its own
    missions' changes as logged."""

    def __init__(self, repository: MissionRepository) -> None:
        self.repository = repository

    async def read(self, audience: Audience, after: int, limit: int) -> list[Judged]:
        rows = await self.repository.events_after(after, limit)
        return [
            Judged(row.seq, audience.wants(self._type(audience, row)), _body(row)) for row in rows
        ]

    @staticmethod
    def _type(audience: Audience, row: EventRow) -> str | None:
        if audience.webhook.partner is not None:
            return row.type if audience.owns(row.mission.partner.name) else None
        kind = audience.matcher.judge(row.previous, row.state, row.mission.is_duplicate)
        return kind.value if kind is not None else None


def _body(row: EventRow) -> Callable[[str, str], dict[str, Any]]:
    def body(cursor: str, kind: str) -> dict[str, Any]:
        return event_payload(cursor, kind, row.occurred_at, row.mission)

    return body


def merged(pages: Sequence[list[Judged]], limit: int, after: int) -> tuple[list[Judged], int]:
    """The sources' pages in log order, and the position up to which that order is complete:
    a full page says its source may hold more after its last row, so nothing past the lowest
    such row is certain yet."""
    full = [page[-1].seq for page in pages if len(page) >= limit]
    ends = [page[-1].seq for page in pages if page]
    through = min(full) if full else max(ends, default=after)
    rows = sorted((j for page in pages for j in page if j.seq <= through), key=lambda j: j.seq)
    return rows, through
