"""The webhook outbox's worker: queue deliveries from the event log, send them in order, retry.

Each tick, under one lock for all replicas (one replica at a time sends):

1. queue: for every active endpoint, read the log after its cursor, keep what its audience may
   see (hub/webhooks/routes.py), and insert one delivery row per event, moving the cursor in the
   same transaction: a restart resumes exactly there, nothing lost, nothing queued twice;
2. send: per endpoint, the oldest pending delivery first, and the next only once it is
   delivered (in order per endpoint). A failure is retried with exponential backoff and jitter;
   an endpoint whose head delivery has failed for `retry_days` is disabled, with its reason, an
   audit event and a log line, and keeps its queue for when its owner re-enables it.

Every "now" comes from the hub's clock: tests move it instead of waiting out the backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from hub.auth import ClientStore, audit
from hub.background import Steps
from hub.clock import Clock
from hub.live.matching import Matcher
from hub.live.stream import LiveEvents
from hub.observability.metrics import HubMetrics
from hub.storage import named_lock
from hub.storage.repository import CursorExpired, MissionRepository
from hub.storage.webhooks import DISABLED, DeliveryRow, NewDelivery, WebhookRow, WebhookStore
from hub.webhooks.filters import filter_from_json
from hub.webhooks.routes import Audience, Judged, MissionEvents, Source, merged
from hub.webhooks.sender import Sender

__all__ = ["WebhookWorker", "retry_delay"]

logger = logging.getLogger("hub.webhooks")

_LOG_PAGE = 500
_SENDS_PER_TICK = 100  # per endpoint: a busy endpoint does not hold the others' turn
_CONCURRENT_ENDPOINTS = 8
_MARK_BATCH = 25  # acceptances marked per commit
_FIRST_RETRY_SECONDS = 5.0
_LONGEST_RETRY_SECONDS = 6 * 3600.0


def retry_delay(attempts: int, rng: random.Random) -> float:
    """Seconds before retry number `attempts`: 5 s doubling up to 6 h, with jitter (between
    half of it and all of it), so that endpoints failing together do not retry together."""
    base = min(_FIRST_RETRY_SECONDS * 2.0 ** max(attempts - 1, 0), _LONGEST_RETRY_SECONDS)
    return base / 2 + rng.uniform(0, base / 2)


@dataclass
class WebhookWorker:
    store: WebhookStore
    repository: MissionRepository
    clients: ClientStore
    sender: Sender
    clock: Clock
    cursor_of: Callable[[int], str]  # a log position as the API writes cursors
    retry_days: float = 3.0
    poll_seconds: float = 1.0
    history_days: float = 30.0  # delivered deliveries are kept this long (the event log's)
    live: LiveEvents | None = None  # wakes the worker when events commit on any replica
    metrics: HubMetrics = field(default_factory=HubMetrics)
    # Every kind of event a webhook may get, read from the log (hub/webhooks/routes.py).
    sources: list[Source] = field(default_factory=list)
    rng: random.Random = field(default_factory=random.Random)
    # Each tick is a step: stopping lets it end (no send starts once asked) instead of
    # cancelling its database work (hub/background.py).
    steps: Steps = field(default_factory=lambda: Steps("webhooks"))
    _woken: asyncio.Event = field(default_factory=asyncio.Event)
    _matchers: dict[tuple[int, datetime, object], Matcher] = field(default_factory=dict)
    _pruned_at: float | None = None

    def __post_init__(self) -> None:
        self.sources = self.sources or [MissionEvents(self.repository)]

    async def run_forever(self) -> None:
        waker = asyncio.create_task(self._wake_on_events()) if self.live is not None else None
        try:
            while not self.steps.stopping:
                try:
                    with self.steps.step():
                        if await self.tick():
                            continue  # more may be due at once: no wait while there is work
                except Exception:  # the loop must outlive any one failure
                    logger.exception("webhook tick failed")
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for may swallow the
                # cancellation that stops the worker when the wake-up lands at the same moment.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.poll_seconds):
                        await self._woken.wait()
                self._woken.clear()
        finally:
            if waker is not None:
                waker.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await waker

    def wake(self) -> None:
        self._woken.set()

    async def _wake_on_events(self) -> None:
        """Wakes the worker whenever the log may have moved: it reads what to deliver itself,
        so it takes the live stream's wake-ups, not its batches of loaded missions."""
        assert self.live is not None
        async with self.live.wakeups() as moved:
            while True:
                await moved.wait()
                moved.clear()
                self.wake()

    async def tick(self) -> int:
        """Queue, then send what is due; returns how many deliveries succeeded."""
        async with named_lock(self.store.engine, "webhooks") as mine:
            if not mine:
                return 0  # another replica sends
            await self.queue()
            sent = await self.send_due()
            await self._prune()
            return sent

    async def _prune(self) -> None:
        """Once an hour, drop the history older than `history_days`."""
        if self._pruned_at is not None and self.clock.monotonic() - self._pruned_at < 3600:
            return
        self._pruned_at = self.clock.monotonic()
        dropped = await self.store.prune(self.clock.now() - timedelta(days=self.history_days))
        if dropped:
            logger.info("webhooks: dropped %d settled deliveries", dropped)

    # --- queue ----------------------------------------------------------------------------------

    async def queue(self) -> None:
        for webhook in await self.store.active():
            audience = await self._audience(webhook)
            if audience is not None:
                await self._queue(audience)

    async def _audience(self, webhook: WebhookRow) -> Audience | None:
        client = await self.clients.get_by_pk(webhook.client_pk)
        if client is None or not client.enabled:
            return None  # a disabled client's webhooks wait, queue and all
        key = (webhook.pk, webhook.updated_at, client.policy)
        matcher = self._matchers.get(key)
        if matcher is None:
            if len(self._matchers) > 10_000:  # changed webhooks leave stale entries
                self._matchers.clear()
            flt = filter_from_json(webhook.filter)
            matcher = await Matcher.build(self.repository, flt, client.policy)
            self._matchers[key] = matcher
        return Audience(webhook, matcher)

    async def _queue(self, audience: Audience) -> None:
        webhook = audience.webhook
        while True:
            now = self.clock.now()
            try:
                pages = [await s.read(audience, webhook.cursor, _LOG_PAGE) for s in self.sources]
            except CursorExpired:
                start = await self.repository.log_start()
                logger.warning("webhook %s: events up to %d were pruned", webhook.id, start)
                await self.store.queue(webhook.pk, webhook.cursor, start, [], now)
                return
            rows, through = merged(pages, _LOG_PAGE, webhook.cursor)
            if through == webhook.cursor:
                return
            deliveries = [self._delivery(row, row.type) for row in rows if row.type is not None]
            if not await self.store.queue(webhook.pk, webhook.cursor, through, deliveries, now):
                return  # changed meanwhile (a replay): the next tick reads it afresh
            webhook = replace(webhook, cursor=through)
            audience = replace(audience, webhook=webhook)

    def _delivery(self, row: Judged, kind: str) -> NewDelivery:
        cursor = self.cursor_of(row.seq)
        return NewDelivery(
            seq=row.seq,
            message_id=f"msg_{cursor}",  # the same on every retry and replay: receivers dedupe
            event_type=kind,
            payload=row.body(cursor, kind),
        )

    # --- send -----------------------------------------------------------------------------------

    async def send_due(self) -> int:
        turns = asyncio.Semaphore(_CONCURRENT_ENDPOINTS)

        async def drain(webhook: WebhookRow) -> int:
            if await self._audience(webhook) is None:
                return 0  # its client is disabled: its queue waits
            async with turns:
                return await self._drain(webhook)

        return sum(await asyncio.gather(*(drain(w) for w in await self.store.active())))

    async def _drain(self, webhook: WebhookRow) -> int:
        """Send the endpoint's due deliveries in order, until one fails. Acceptances are marked
        in batches (one commit for up to _MARK_BATCH): a crash before the mark sends those
        again, which at-least-once allows and receivers de-duplicate by webhook-id."""
        accepted: list[tuple[int, int, datetime]] = []
        sent = 0
        try:
            for delivery in await self.store.pending(webhook.pk, _SENDS_PER_TICK):
                now = self.clock.now()
                if delivery.next_attempt_at > now or self.steps.stopping:
                    break
                attempt = await self.sender.send(
                    webhook.url, webhook.secrets(now), delivery.message_id, delivery.payload, now
                )
                if not attempt.ok:
                    self.metrics.webhook_attempt("failed")
                    error = attempt.error or ""
                    await self._failed(webhook, delivery, now, attempt.status_code, error)
                    break
                self.metrics.webhook_attempt("delivered")
                accepted.append((delivery.pk, attempt.status_code or 200, now))
                sent += 1
                if len(accepted) >= _MARK_BATCH:
                    await self.store.delivered(accepted)
                    accepted = []
        finally:
            if accepted:
                await self.store.delivered(accepted)
        return sent

    async def _failed(
        self,
        webhook: WebhookRow,
        delivery: DeliveryRow,
        now: datetime,
        status_code: int | None,
        error: str,
    ) -> None:
        first = delivery.first_attempt_at or now
        window = timedelta(days=self.retry_days)
        delay = timedelta(seconds=retry_delay(delivery.attempts + 1, self.rng))
        await self.store.failed(delivery, now, min(now + delay, first + window), status_code, error)
        if now - first < window:
            return
        reason = (
            f"disabled at {now.isoformat()}: deliveries failed for {self.retry_days:g} days "
            f"(last: {error}); fix the endpoint, then re-enable it with updateWebhook"
        )
        await self.store.change(webhook.pk, now, status=DISABLED, status_reason=reason)
        self.metrics.webhook_attempt("disabled")
        client = await self.clients.get_by_pk(webhook.client_pk)
        await audit(
            self.store.engine,
            now,
            "webhook.disabled",
            client.id if client is not None else None,
            webhook=webhook.id,
            url=webhook.url,
            reason=reason,
        )
        logger.warning("webhook %s disabled: %s", webhook.id, reason)
