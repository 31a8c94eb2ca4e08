"""Which events of the log reach a webhook, and as what type.

Every type of the hub's event log has one entry in ROUTES: a function that says what a row means
for one webhook (a type it may subscribe to), or None when the row is not for it. The engagement
events join the same log, and webhooks, with one entry each here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hub.live.matching import Matcher
from hub.storage.repository import EventRow
from hub.storage.webhooks import WebhookRow

__all__ = ["ROUTES", "WEBHOOK_EVENT_TYPES", "Audience", "route"]


@dataclass(frozen=True, slots=True)
class Audience:
    """A webhook and what its owner may see: its filter under the company's policy, or, for a
    partner's webhook, the partner's own missions."""

    webhook: WebhookRow
    matcher: Matcher

    def owns(self, row: EventRow) -> bool:
        """A partner's webhook hears only of its own missions."""
        return row.mission.partner.name == self.webhook.partner


def mission_change(audience: Audience, row: EventRow) -> str | None:
    """A company's webhook: as its subscription would see it (entering its filter is PUBLISHED,
    staying in it UPDATED, leaving it CLOSED). A partner's: its own missions' changes as logged."""
    if audience.webhook.partner is not None:
        return row.type if audience.owns(row) else None
    kind = audience.matcher.judge(row.previous, row.state, row.mission.is_duplicate)
    return kind.value if kind is not None else None


Route = Callable[[Audience, EventRow], str | None]

ROUTES: dict[str, Route] = {
    "PUBLISHED": mission_change,
    "UPDATED": mission_change,
    "CLOSED": mission_change,
}

# The types a webhook may ask for (the GraphQL enum WebhookEventType lists the same).
WEBHOOK_EVENT_TYPES: tuple[str, ...] = tuple(ROUTES)


def route(audience: Audience, row: EventRow) -> str | None:
    """The type this row is delivered as to this webhook, or None (not for it, or a type it did
    not ask for)."""
    how = ROUTES.get(row.type)
    kind = how(audience, row) if how is not None else None
    return kind if kind in audience.webhook.events else None
