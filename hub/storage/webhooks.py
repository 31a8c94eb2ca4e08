"""Webhook endpoints and their outbox: one delivery row per (endpoint, event), sent in order."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.clock import Clock, SystemClock
from hub.storage.tables import partners, webhook_deliveries, webhooks

__all__ = [
    "ACTIVE",
    "CANCELLED",
    "DELIVERED",
    "DISABLED",
    "PENDING",
    "DeliveryRow",
    "NewDelivery",
    "WebhookRow",
    "WebhookStore",
]

ACTIVE, DISABLED = "ACTIVE", "DISABLED"  # an endpoint's status
PENDING, DELIVERED, CANCELLED = "PENDING", "DELIVERED", "CANCELLED"  # a delivery's


@dataclass(frozen=True, slots=True)
class WebhookRow:
    pk: int
    id: str
    client_pk: int
    partner: str | None  # the partner's name, for a partner's webhook
    url: str
    events: tuple[str, ...]
    filter: dict[str, Any]
    secret: str
    previous_secret: str | None
    previous_secret_until: datetime | None
    status: str
    status_reason: str | None
    cursor: int
    created_at: datetime
    updated_at: datetime

    def secrets(self, now: datetime) -> list[str]:
        """The secrets that sign now: the current one, and the previous during its overlap."""
        until = self.previous_secret_until
        if self.previous_secret and until is not None and now < until:
            return [self.secret, self.previous_secret]
        return [self.secret]


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    pk: int
    webhook_pk: int
    seq: int
    message_id: str
    event_type: str
    payload: dict[str, Any]
    status: str
    attempts: int
    next_attempt_at: datetime
    first_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewDelivery:
    seq: int
    message_id: str
    event_type: str
    payload: dict[str, Any]


def _webhooks() -> Any:
    return select(webhooks, partners.c.name.label("partner")).outerjoin(
        partners, partners.c.pk == webhooks.c.partner_pk
    )


def _webhook(row: Any) -> WebhookRow:
    values = {name: row[name] for name in WebhookRow.__slots__}
    values["events"] = tuple(values["events"])
    return WebhookRow(**values)


def _delivery(row: Any) -> DeliveryRow:
    return DeliveryRow(**{name: row[name] for name in DeliveryRow.__slots__})


class WebhookStore:
    """Every read and write of webhooks and deliveries; each call is one transaction.

    The active endpoints are what the worker reads on every wake-up, that is after every commit
    of the hub: with `active_seconds`, the list is kept that long (the worker's poll interval),
    so that a hub with no webhook, or whose webhooks did not change, reads nothing for them
    while partners push (two statements a commit, a sixth of a one-mission push's CPU). What
    this store writes updates or drops the kept list at once, so a change made through this
    process is seen at the next wake-up, as before; one made by another process (a replica's
    API, a replica's worker that moved a cursor) within `active_seconds`. Nothing is lost by
    the wait: a new endpoint's deliveries start from its own cursor, and a cursor moved
    elsewhere makes `queue` refuse, which drops the kept list."""

    def __init__(
        self, engine: AsyncEngine, *, active_seconds: float = 0.0, clock: Clock | None = None
    ) -> None:
        self.engine = engine
        self.active_seconds = active_seconds
        self.clock = clock or SystemClock()
        self._active: tuple[float, list[WebhookRow]] | None = None  # (kept until, the list)
        self._generation = 0  # moves with every change made here: a read begun before is not kept

    # --- endpoints ----------------------------------------------------------------------------

    async def create(self, partner: str | None, **values: Any) -> WebhookRow:
        async with self._write() as conn:
            if partner is not None:
                found = await conn.execute(select(partners.c.pk).where(partners.c.name == partner))
                values["partner_pk"] = found.scalar_one()
            await conn.execute(insert(webhooks).values(**values))
            row = (await conn.execute(_webhooks().where(webhooks.c.id == values["id"]))).mappings()
            return _webhook(row.one())

    async def get(self, webhook_id: str, client_pk: int) -> WebhookRow | None:
        """A client's webhook by id; None when it is not this client's."""
        async with self.engine.connect() as conn:
            query = _webhooks().where(
                webhooks.c.id == webhook_id, webhooks.c.client_pk == client_pk
            )
            row = (await conn.execute(query)).mappings().first()
        return _webhook(row) if row is not None else None

    async def of_client(self, client_pk: int) -> list[WebhookRow]:
        async with self.engine.connect() as conn:
            query = _webhooks().where(webhooks.c.client_pk == client_pk).order_by(webhooks.c.pk)
            rows = (await conn.execute(query)).mappings().all()
        return [_webhook(row) for row in rows]

    async def count(self, client_pk: int) -> int:
        async with self.engine.connect() as conn:
            query = select(func.count()).where(webhooks.c.client_pk == client_pk)
            return int((await conn.execute(query)).scalar_one())

    async def active(self) -> list[WebhookRow]:
        kept = self._active
        if kept is not None and kept[0] > self.clock.monotonic():
            return list(kept[1])
        generation = self._generation
        async with self.engine.connect() as conn:
            query = _webhooks().where(webhooks.c.status == ACTIVE).order_by(webhooks.c.pk)
            rows = (await conn.execute(query)).mappings().all()
        found = [_webhook(row) for row in rows]
        if self.active_seconds > 0 and generation == self._generation:
            self._active = (self.clock.monotonic() + self.active_seconds, found)
        return list(found)

    @contextlib.asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that changes endpoints: the kept list is dropped before and after."""
        self._changed()
        try:
            async with self.engine.begin() as conn:
                yield conn
        finally:
            self._changed()

    def _changed(self) -> None:
        """An endpoint changes: the next `active` reads the list again, and a read under way
        meanwhile is not kept."""
        self._generation += 1
        self._active = None

    def _moved(self, pk: int, cursor: int) -> None:
        """This store moved an endpoint's cursor: the kept list says so too."""
        kept = self._active
        self._generation += 1
        if kept is not None:
            rows = [replace(w, cursor=cursor) if w.pk == pk else w for w in kept[1]]
            self._active = (kept[0], rows)

    async def change(self, pk: int, now: datetime, **values: Any) -> None:
        async with self._write() as conn:
            await conn.execute(
                update(webhooks).where(webhooks.c.pk == pk).values(updated_at=now, **values)
            )

    async def resume(self, pk: int, now: datetime) -> None:
        """Re-enable an endpoint: its queued deliveries are retried from now, afresh."""
        async with self._write() as conn:
            await conn.execute(
                update(webhooks)
                .where(webhooks.c.pk == pk)
                .values(status=ACTIVE, status_reason=None, updated_at=now)
            )
            await conn.execute(
                update(webhook_deliveries)
                .where(
                    webhook_deliveries.c.webhook_pk == pk, webhook_deliveries.c.status == PENDING
                )
                .values(attempts=0, first_attempt_at=None, next_attempt_at=now)
            )

    async def remove(self, pk: int) -> None:
        async with self._write() as conn:
            await conn.execute(
                delete(webhook_deliveries).where(webhook_deliveries.c.webhook_pk == pk)
            )
            await conn.execute(delete(webhooks).where(webhooks.c.pk == pk))

    # --- the outbox ---------------------------------------------------------------------------

    async def queue(
        self, pk: int, after: int, through: int, deliveries: Sequence[NewDelivery], now: datetime
    ) -> bool:
        """Queue the deliveries of log positions (after, through] and move the endpoint's cursor
        there, in one transaction; False (nothing queued) when the cursor moved meanwhile."""
        async with self.engine.begin() as conn:
            moved = await conn.execute(
                update(webhooks)
                .where(webhooks.c.pk == pk, webhooks.c.cursor == after)
                .values(cursor=through)
            )
            if not moved.rowcount:
                self._changed()  # moved elsewhere (a replay, another replica): read it again
                return False
            if deliveries:
                await conn.execute(
                    insert(webhook_deliveries),
                    [
                        {
                            "webhook_pk": pk,
                            "seq": d.seq,
                            "message_id": d.message_id,
                            "event_type": d.event_type,
                            "payload": d.payload,
                            "status": PENDING,
                            "attempts": 0,
                            "next_attempt_at": now,
                            "created_at": now,
                        }
                        for d in deliveries
                    ],
                )
        self._moved(pk, through)
        return True

    async def pending(self, pk: int, limit: int) -> list[DeliveryRow]:
        """The endpoint's pending deliveries in send order: nothing goes before the first."""
        query = (
            select(webhook_deliveries)
            .where(webhook_deliveries.c.webhook_pk == pk, webhook_deliveries.c.status == PENDING)
            .order_by(webhook_deliveries.c.pk)
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return [_delivery(row) for row in rows]

    async def delivered(self, accepted: Sequence[tuple[int, int, datetime]]) -> None:
        """Mark deliveries accepted, as (delivery, status code, when): one commit for many."""
        async with self.engine.begin() as conn:
            for pk, status_code, at in accepted:
                await conn.execute(
                    update(webhook_deliveries)
                    .where(webhook_deliveries.c.pk == pk)
                    .values(
                        attempts=webhook_deliveries.c.attempts + 1,
                        last_attempt_at=at,
                        status=DELIVERED,
                        delivered_at=at,
                        last_status_code=status_code,
                        last_error=None,
                    )
                )

    async def failed(
        self,
        delivery: DeliveryRow,
        now: datetime,
        retry_at: datetime,
        status_code: int | None,
        error: str,
    ) -> None:
        await self._attempted(
            delivery.pk,
            now,
            first_attempt_at=delivery.first_attempt_at or now,
            next_attempt_at=retry_at,
            last_status_code=status_code,
            last_error=error[:500],
        )

    async def _attempted(self, pk: int, now: datetime, **values: Any) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(webhook_deliveries)
                .where(webhook_deliveries.c.pk == pk)
                .values(attempts=webhook_deliveries.c.attempts + 1, last_attempt_at=now, **values)
            )

    async def rewind(self, pk: int, to: int, now: datetime) -> None:
        """Replay: cancel what is queued after log position `to` and queue again from there."""
        async with self._write() as conn:
            await conn.execute(
                update(webhook_deliveries)
                .where(
                    webhook_deliveries.c.webhook_pk == pk,
                    webhook_deliveries.c.status == PENDING,
                    webhook_deliveries.c.seq > to,
                )
                .values(status=CANCELLED)
            )
            await conn.execute(
                update(webhooks).where(webhooks.c.pk == pk).values(cursor=to, updated_at=now)
            )

    async def history(self, pk: int, before: int | None, limit: int) -> list[DeliveryRow]:
        """An endpoint's deliveries, newest first, before delivery `before` when given."""
        query = select(webhook_deliveries).where(webhook_deliveries.c.webhook_pk == pk)
        if before is not None:
            query = query.where(webhook_deliveries.c.pk < before)
        async with self.engine.connect() as conn:
            rows = (
                (await conn.execute(query.order_by(webhook_deliveries.c.pk.desc()).limit(limit)))
                .mappings()
                .all()
            )
        return [_delivery(row) for row in rows]

    async def prune(self, before: datetime) -> int:
        """Drop the history of deliveries settled (delivered or cancelled) before `before`."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                delete(webhook_deliveries).where(
                    webhook_deliveries.c.status != PENDING,
                    webhook_deliveries.c.created_at < before,
                )
            )
        return int(result.rowcount or 0)
