"""Webhooks for intranets (company scope) and partners (their own missions' events)."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import Annotated

import strawberry
from strawberry.types import Info

from hub.auth import Caller
from hub.errors import BadCursor
from hub.storage.repository import check_first
from hub.storage.webhooks import DeliveryRow, WebhookRow
from hub.webhooks import WEBHOOK_EVENT_TYPES, Webhooks
from schema.context import Context
from schema.event_cursor import decode_event_cursor, encode_event_cursor
from schema.inputs import MissionFilterInput, to_filter
from schema.permissions import CanUseWebhooks
from schema.subscription import EventPageInfo

__all__ = ["WebhookMutation", "WebhookQuery"]


@strawberry.enum(description="What a webhook can be told of.")
class WebhookEventType(enum.Enum):
    PUBLISHED = strawberry.enum_value(
        "PUBLISHED", description="A mission entered the filter (a partner's: was published)."
    )
    UPDATED = strawberry.enum_value("UPDATED", description="A mission changed, still matching.")
    CLOSED = strawberry.enum_value(
        "CLOSED", description="A mission left the filter (a partner's: was closed)."
    )
    ENGAGEMENT_CREATED = strawberry.enum_value(
        "ENGAGEMENT_CREATED",
        description="An employee's interest (or hours a company declared): a company's own "
        "engagements, a partner's on its missions.",
    )
    ENGAGEMENT_UPDATED = strawberry.enum_value(
        "ENGAGEMENT_UPDATED", description="An engagement's status or hours changed."
    )
    ENGAGEMENT_ERASED = strawberry.enum_value(
        "ENGAGEMENT_ERASED",
        description="The employee's contact details and message were erased: erase your copy.",
    )


assert [e.name for e in WebhookEventType] == list(WEBHOOK_EVENT_TYPES)


@strawberry.enum(description="Whether a webhook is sent to.")
class WebhookStatus(enum.Enum):
    ACTIVE = strawberry.enum_value("ACTIVE", description="Deliveries are sent.")
    DISABLED = strawberry.enum_value(
        "DISABLED",
        description="Nothing is sent; events are still kept for it: `statusReason` says why, "
        "and re-enabling it sends what was queued, in order.",
    )


@strawberry.enum(description="Where a delivery stands.")
class WebhookDeliveryStatus(enum.Enum):
    PENDING = strawberry.enum_value("PENDING", description="Not yet accepted: sent or retried.")
    DELIVERED = strawberry.enum_value("DELIVERED", description="Answered with a 2xx.")
    CANCELLED = strawberry.enum_value("CANCELLED", description="Replaced by a replay.")


@strawberry.type(description="An endpoint the hub posts signed events to (Standard Webhooks).")
class Webhook:
    id: strawberry.ID = strawberry.field(description="The webhook's id.")
    url: str = strawberry.field(description="Where deliveries are posted.")
    events: list[WebhookEventType] = strawberry.field(description="The event types it gets.")
    status: WebhookStatus = strawberry.field(description="Whether it is sent to.")
    status_reason: str | None = strawberry.field(description="Why it is disabled.")
    cursor: str = strawberry.field(
        description="The event-log position up to which its deliveries are queued."
    )
    previous_secret_valid_until: datetime | None = strawberry.field(
        description="After a rotation: until when the previous secret also signs."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it last changed.")

    @staticmethod
    def of(row: WebhookRow) -> Webhook:
        return Webhook(
            id=strawberry.ID(row.id),
            url=row.url,
            events=[WebhookEventType(e) for e in row.events],
            status=WebhookStatus(row.status),
            status_reason=row.status_reason,
            cursor=encode_event_cursor(row.cursor),
            previous_secret_valid_until=row.previous_secret_until if row.previous_secret else None,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@strawberry.type(description="A webhook and its signing secret, shown this once: keep it.")
class WebhookSecret:
    webhook: Webhook = strawberry.field(description="The webhook.")
    secret: str = strawberry.field(
        description="The Standard Webhooks secret (whsec_...) that signs its deliveries."
    )


@strawberry.type(description="One event sent, or to send, to a webhook.")
class WebhookDelivery:
    id: strawberry.ID = strawberry.field(description="The delivery's id.")
    message_id: str = strawberry.field(
        description="The webhook-id header: the same on every retry and replay of the event."
    )
    cursor: str = strawberry.field(description="The event's cursor (in the payload too).")
    event_type: WebhookEventType = strawberry.field(description="The event's type.")
    status: WebhookDeliveryStatus = strawberry.field(description="Where it stands.")
    attempts: int = strawberry.field(description="Attempts made.")
    next_attempt_at: datetime | None = strawberry.field(description="Next attempt (PENDING).")
    last_attempt_at: datetime | None = strawberry.field(description="Last attempt.")
    last_status_code: int | None = strawberry.field(
        description="The receiver's HTTP status at the last attempt; null when none came."
    )
    last_error: str | None = strawberry.field(
        description="Why the last attempt failed: status, timeout, refused address..."
    )
    delivered_at: datetime | None = strawberry.field(description="When it was accepted.")
    created_at: datetime = strawberry.field(description="When it was queued.")

    @staticmethod
    def of(row: DeliveryRow) -> WebhookDelivery:
        return WebhookDelivery(
            id=strawberry.ID(str(row.pk)),
            message_id=row.message_id,
            cursor=encode_event_cursor(row.seq),
            event_type=WebhookEventType(row.event_type),
            status=WebhookDeliveryStatus(row.status),
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at if row.status == "PENDING" else None,
            last_attempt_at=row.last_attempt_at,
            last_status_code=row.last_status_code,
            last_error=row.last_error,
            delivered_at=row.delivered_at,
            created_at=row.created_at,
        )


@strawberry.type(description="A page of a webhook's deliveries, newest first.")
class WebhookDeliveryConnection:
    nodes: list[WebhookDelivery] = strawberry.field(description="Deliveries, newest first.")
    page_info: EventPageInfo = strawberry.field(description="Paging.")


def _service(info: Info[Context, None]) -> tuple[Webhooks, Caller]:
    webhooks, caller = info.context.webhooks, info.context.caller
    if webhooks is None or caller is None:
        raise RuntimeError("the request context has no webhooks: build it in create_app")
    return webhooks, caller


def _delivery_position(cursor: str) -> int:
    """A delivery page's cursor: the last delivery's id (the page goes on with older ones)."""
    if not cursor.isdigit():
        raise BadCursor("after: malformed cursor: pass a page's endCursor")
    return int(cursor)


_Id = Annotated[strawberry.ID, strawberry.argument(description="The webhook's id.")]
_Events = Annotated[
    list[WebhookEventType], strawberry.argument(description="The event types to receive.")
]
_Filter = Annotated[
    MissionFilterInput | None,
    strawberry.argument(
        description="The missions to hear of, as in `missions` and `missionEvents` (OPEN ones "
        "when omitted), under the company's policy. Not for partners: theirs hears of all "
        "of its own missions."
    ),
]


@strawberry.type(description="Webhooks.")
class WebhookQuery:
    @strawberry.field(permission_classes=[CanUseWebhooks], description="Your webhooks.")
    async def webhooks(self, info: Info[Context, None]) -> list[Webhook]:
        service, caller = _service(info)
        return [Webhook.of(row) for row in await service.store.of_client(caller.client_pk)]

    @strawberry.field(
        permission_classes=[CanUseWebhooks],
        description="A webhook's deliveries, newest first, with status codes and errors.",
    )
    async def webhook_deliveries(
        self,
        info: Info[Context, None],
        webhook_id: _Id,
        first: Annotated[int | None, strawberry.argument(description="Page size.")] = None,
        after: Annotated[
            str | None, strawberry.argument(description="The endCursor of the previous page.")
        ] = None,
    ) -> WebhookDeliveryConnection:
        service, caller = _service(info)
        settings = info.context.settings
        size = check_first(first, settings.page_size_default, settings.page_size_max)
        row = await service.find(caller, str(webhook_id))
        before = _delivery_position(after) if after else None
        rows = await service.store.history(row.pk, before, size + 1)
        page = rows[:size]
        return WebhookDeliveryConnection(
            nodes=[WebhookDelivery.of(d) for d in page],
            page_info=EventPageInfo(
                has_next_page=len(rows) > size,
                end_cursor=str(page[-1].pk) if page else after,
            ),
        )


@strawberry.type(description="Webhooks.")
class WebhookMutation:
    @strawberry.mutation(
        permission_classes=[CanUseWebhooks],
        description="Register an endpoint for events from now on. The URL must be https and "
        "public; the secret that signs deliveries is returned this once.",
    )
    async def create_webhook(
        self,
        info: Info[Context, None],
        url: Annotated[str, strawberry.argument(description="The endpoint (https://...).")],
        events: _Events,
        filter: _Filter = None,
    ) -> WebhookSecret:
        service, caller = _service(info)
        flt = to_filter(filter) if filter is not None else None
        row, secret = await service.create(caller, url, flt, [e.name for e in events])
        return WebhookSecret(webhook=Webhook.of(row), secret=secret)

    @strawberry.mutation(
        permission_classes=[CanUseWebhooks],
        description="Change a webhook: what is given changes. `enabled: true` on a disabled "
        "webhook sends what was queued for it, in order, from now.",
    )
    async def update_webhook(
        self,
        info: Info[Context, None],
        id: _Id,
        url: Annotated[str | None, strawberry.argument(description="A new endpoint.")] = None,
        filter: _Filter = None,
        events: Annotated[
            list[WebhookEventType] | None, strawberry.argument(description="New event types.")
        ] = None,
        enabled: Annotated[
            bool | None, strawberry.argument(description="Disable, or re-enable.")
        ] = None,
    ) -> Webhook:
        service, caller = _service(info)
        row = await service.find(caller, str(id))
        changed = await service.update(
            row,
            caller,
            url=url,
            flt=to_filter(filter) if filter is not None else None,
            events=[e.name for e in events] if events is not None else None,
            enabled=enabled,
        )
        return Webhook.of(changed)

    @strawberry.mutation(
        permission_classes=[CanUseWebhooks],
        description="Delete a webhook and its queue; returns its id.",
    )
    async def delete_webhook(self, info: Info[Context, None], id: _Id) -> strawberry.ID:
        service, caller = _service(info)
        await service.delete(await service.find(caller, str(id)), caller)
        return id

    @strawberry.mutation(
        permission_classes=[CanUseWebhooks],
        description="A new signing secret, returned this once. During the overlap both secrets "
        "sign every delivery (two signatures in webhook-signature), so the receiver can switch "
        "without losing one.",
    )
    async def rotate_webhook_secret(
        self,
        info: Info[Context, None],
        id: _Id,
        overlap_hours: Annotated[
            float, strawberry.argument(description="How long the old secret still signs (≤ 168).")
        ] = 24.0,
    ) -> WebhookSecret:
        service, caller = _service(info)
        row = await service.find(caller, str(id))
        changed, secret = await service.rotate(row, caller, timedelta(hours=overlap_hours))
        return WebhookSecret(webhook=Webhook.of(changed), secret=secret)

    @strawberry.mutation(
        permission_classes=[CanUseWebhooks],
        description="Send again, in order, the events after a cursor (a delivery's, or a "
        "search's eventCursor); what was still queued after it is sent once, not twice. "
        "Receivers de-duplicate by webhook-id, which a replay keeps.",
    )
    async def replay_webhook(
        self,
        info: Info[Context, None],
        webhook_id: _Id,
        from_cursor: Annotated[
            str, strawberry.argument(description="Resend what came after this cursor.")
        ],
    ) -> Webhook:
        service, caller = _service(info)
        row = await service.find(caller, str(webhook_id))
        changed = await service.replay(row, caller, decode_event_cursor(from_cursor))
        return Webhook.of(changed)
