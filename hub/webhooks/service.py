"""What the API asks of webhooks: checked targets, secrets, and the endpoint's life."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import timedelta

from hub.auth import Caller, audit
from hub.catalogue.filters import MissionFilter
from hub.clock import Clock
from hub.errors import NotFoundError, UserInputError
from hub.storage.repository import MissionRepository
from hub.storage.webhooks import ACTIVE, DISABLED, WebhookRow, WebhookStore
from hub.webhooks.filters import filter_to_json
from hub.webhooks.guard import AddressGuard
from hub.webhooks.routes import WEBHOOK_EVENT_TYPES

__all__ = ["Webhooks", "new_secret"]


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class Webhooks:
    def __init__(
        self,
        store: WebhookStore,
        guard: AddressGuard,
        repository: MissionRepository,
        clock: Clock,
        *,
        max_per_client: int,
    ) -> None:
        self.store = store
        self.guard = guard
        self.repository = repository
        self.clock = clock
        self.max_per_client = max_per_client

    async def find(self, caller: Caller, webhook_id: str) -> WebhookRow:
        found = await self.store.get(webhook_id, caller.client_pk)
        if found is None:
            raise NotFoundError(f"no webhook {webhook_id!r} of this client")
        return found

    async def create(
        self, caller: Caller, url: str, flt: MissionFilter | None, events: Sequence[str]
    ) -> tuple[WebhookRow, str]:
        """A new endpoint, receiving from the log's end onwards; returns it and its secret
        (shown this once)."""
        await self.guard.target(url)  # TargetRefused: a clear error, nothing stored
        kinds = self._events(events)
        if await self.store.count(caller.client_pk) >= self.max_per_client:
            raise UserInputError(
                f"a client may have at most {self.max_per_client} webhooks: delete one first"
            )
        now = self.clock.now()
        secret = new_secret()
        row = await self.store.create(
            caller.partner,
            id="wh_" + secrets.token_urlsafe(12),
            client_pk=caller.client_pk,
            url=url,
            events=kinds,
            filter=filter_to_json(self._filter(caller, flt)),
            secret=secret,
            status=ACTIVE,
            cursor=await self.repository.event_cursor(),
            created_at=now,
            updated_at=now,
        )
        await self._audit(caller, "webhook.created", row, url=url, events=kinds)
        return row, secret

    async def update(
        self,
        row: WebhookRow,
        caller: Caller,
        *,
        url: str | None = None,
        flt: MissionFilter | None = None,
        events: Sequence[str] | None = None,
        enabled: bool | None = None,
    ) -> WebhookRow:
        """Change what is given; re-enabling retries the queued deliveries from now."""
        values: dict[str, object] = {}
        if url is not None:
            await self.guard.target(url)
            values["url"] = url
        if flt is not None:
            values["filter"] = filter_to_json(self._filter(caller, flt))
        if events is not None:
            values["events"] = self._events(events)
        now = self.clock.now()
        if enabled is False and row.status != DISABLED:
            values.update(status=DISABLED, status_reason="disabled by its owner")
        if values:
            await self.store.change(row.pk, now, **values)
        if enabled and row.status == DISABLED:
            await self.store.resume(row.pk, now)
        changed = await self.find(caller, row.id)
        await self._audit(
            caller, "webhook.updated", changed, url=changed.url, status=changed.status
        )
        return changed

    async def rotate(
        self, row: WebhookRow, caller: Caller, overlap: timedelta
    ) -> tuple[WebhookRow, str]:
        """A new secret signs from now; the current one also signs during `overlap`."""
        if overlap < timedelta(0) or overlap > timedelta(days=7):
            raise UserInputError("overlapHours must be between 0 and 168")
        secret = new_secret()
        now = self.clock.now()
        await self.store.change(
            row.pk,
            now,
            secret=secret,
            previous_secret=row.secret,
            previous_secret_until=now + overlap,
        )
        await self._audit(caller, "webhook.secret_rotated", row)
        return await self.find(caller, row.id), secret

    async def replay(self, row: WebhookRow, caller: Caller, position: int) -> WebhookRow:
        """Send again what the endpoint's audience saw after log position `position`."""
        if position > row.cursor:
            raise UserInputError("fromCursor: the webhook has not reached this cursor yet")
        if position < await self.repository.log_start():
            raise UserInputError(
                "fromCursor: the event log no longer holds what follows this cursor"
            )
        await self.store.rewind(row.pk, position, self.clock.now())
        await self._audit(caller, "webhook.replayed", row, after=position)
        return await self.find(caller, row.id)

    async def delete(self, row: WebhookRow, caller: Caller) -> None:
        await self.store.remove(row.pk)
        await self._audit(caller, "webhook.deleted", row, url=row.url)

    async def _audit(self, caller: Caller, event: str, row: WebhookRow, **detail: object) -> None:
        """Who changed where the hub sends what: a webhook URL is where data leaves."""
        await audit(
            self.store.engine, self.clock.now(), event, caller.client_id, webhook=row.id, **detail
        )

    @staticmethod
    def _events(events: Sequence[str]) -> list[str]:
        kinds = list(dict.fromkeys(events))
        if not kinds:
            raise UserInputError("events: name at least one event type")
        unknown = [k for k in kinds if k not in WEBHOOK_EVENT_TYPES]
        if unknown:
            raise UserInputError(f"events: unknown event type {unknown[0]!r}")
        return kinds

    @staticmethod
    def _filter(caller: Caller, flt: MissionFilter | None) -> MissionFilter:
        if caller.partner is None:
            return flt or MissionFilter()
        if flt is not None:
            raise UserInputError(
                "filter: a partner's webhook receives every event of its own missions; "
                "filters are for company webhooks"
            )
        return MissionFilter(partners=(caller.partner,), status=())
