"""The webhooks' parts as the app's lifespan owns them: the API's service and the worker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from hub.auth import ClientStore
from hub.background import Steps
from hub.clock import Clock
from hub.live.stream import LiveEvents
from hub.observability.metrics import HubMetrics
from hub.settings import Settings
from hub.storage.engagement_reads import EngagementReads
from hub.storage.repository import MissionRepository
from hub.storage.webhooks import WebhookStore
from hub.webhooks.engagement_events import EngagementEvents
from hub.webhooks.guard import AddressGuard, Resolver, system_resolver
from hub.webhooks.routes import MissionEvents
from hub.webhooks.sender import Sender
from hub.webhooks.service import Webhooks
from hub.webhooks.worker import WebhookWorker

__all__ = ["WebhookRuntime"]


class WebhookRuntime:
    """Built in the lifespan: `api` serves the GraphQL fields; `start` runs the worker when
    HUB_WEBHOOKS is on (every replica runs one; a lock lets one at a time send)."""

    def __init__(
        self,
        settings: Settings,
        engine: AsyncEngine,
        repository: MissionRepository,
        clients: ClientStore,
        clock: Clock,
        live: LiveEvents,
        cursor_of: Callable[[int], str],
        metrics: HubMetrics,
        resolver: Resolver | None = None,
    ) -> None:
        self.settings = settings
        store = WebhookStore(engine, active_seconds=settings.webhook_poll_seconds, clock=clock)
        guard = AddressGuard(
            allow_http=settings.webhook_allow_http,
            allowed_networks=settings.webhook_networks,
            resolver=resolver or system_resolver,
        )
        self.api = Webhooks(
            store, guard, repository, clock, max_per_client=settings.webhook_max_per_client
        )
        self.sender = Sender(
            guard,
            connect_timeout=settings.webhook_connect_timeout_seconds,
            read_timeout=settings.webhook_read_timeout_seconds,
            max_response_bytes=settings.webhook_max_response_bytes,
        )
        self.worker = WebhookWorker(
            store,
            repository,
            clients,
            self.sender,
            clock,
            cursor_of,
            retry_days=settings.webhook_retry_days,
            poll_seconds=settings.webhook_poll_seconds,
            history_days=settings.event_retention_days,
            live=live,
            metrics=metrics,
            sources=[MissionEvents(repository), EngagementEvents(EngagementReads(engine, clock))],
            # A tick asked to stop finishes the sends under way: one at most per endpoint.
            steps=Steps(
                "webhooks",
                grace_seconds=settings.webhook_connect_timeout_seconds
                + settings.webhook_read_timeout_seconds
                + 5.0,
            ),
        )
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.settings.webhooks:
            self._task = asyncio.create_task(self.worker.run_forever(), name="webhooks")

    async def stop(self) -> None:
        await self.worker.steps.stop(self._task)
        await self.sender.aclose()
