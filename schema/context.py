"""Per-request context: who calls, the settings, the repository, this request's loaders."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from strawberry.dataloader import DataLoader

from hub.auth.caller import Caller
from hub.catalogue.filters import Policy
from hub.catalogue.records import MissionRecord, OrganizationRecord
from hub.clock import Clock
from hub.ingest.engagements import EngagementWriter
from hub.ingest.service import MissionWriter
from hub.live.stream import LiveEvents
from hub.settings import Settings
from hub.storage.engagement_reads import EngagementReads
from hub.storage.repository import MissionRepository
from hub.webhooks import Webhooks

__all__ = ["Context"]


@dataclass
class Context:
    request: Any
    response: Any
    settings: Settings
    repository: MissionRepository
    caller: Caller | None = None
    live: LiveEvents | None = field(default=None, repr=False)
    connection_params: dict[str, Any] | None = None  # a WebSocket's connection_init payload
    # Called with the event-log positions a mutation wrote, once committed (the broker).
    on_events: Callable[[list[int]], Awaitable[None]] | None = field(default=None, repr=False)
    # The one write service: mutations write missions through it, and it publishes after commit.
    writer: MissionWriter | None = field(default=None, repr=False)
    # The engagement loop: its one write service and its reads (each under its owner).
    engagement_writer: EngagementWriter | None = field(default=None, repr=False)
    engagement_reads: EngagementReads | None = field(default=None, repr=False)
    # Whether a document's exact text is registered for a trusted-documents client (the
    # document store); without it, such a client runs nothing.
    admits_document: Callable[[Caller, str], Awaitable[bool]] | None = field(
        default=None, repr=False
    )
    webhooks: Webhooks | None = field(default=None, repr=False)  # the webhooks' service
    _missions: DataLoader[str, MissionRecord | None] | None = field(default=None, repr=False)
    _organizations: DataLoader[str, OrganizationRecord | None] | None = field(
        default=None, repr=False
    )
    _partner_counts: DataLoader[int, int] | None = field(default=None, repr=False)

    async def published(self, seqs: list[int]) -> None:
        """Tell subscribers about committed changes."""
        if seqs and self.on_events is not None:
            await self.on_events(seqs)

    @property
    def clock(self) -> Clock:
        """The hub's one clock."""
        return self.repository.clock

    @property
    def policy(self) -> Policy | None:
        """The caller's standing restriction, applied by the repository to every read."""
        return self.caller.policy if self.caller is not None else None

    @property
    def missions(self) -> DataLoader[str, MissionRecord | None]:
        """Missions by id, batched: a request that names 100 costs one query."""
        if self._missions is None:

            async def load(ids: list[str]) -> list[MissionRecord | None]:
                found = await self.repository.missions_by_ids(ids, self.policy)
                return [found.get(i) for i in ids]

            self._missions = DataLoader(load_fn=load)
        return self._missions

    @property
    def organizations(self) -> DataLoader[str, OrganizationRecord | None]:
        """Organizations by id, batched."""
        if self._organizations is None:

            async def load(ids: list[str]) -> list[OrganizationRecord | None]:
                found = await self.repository.organizations_by_ids(ids, self.policy)
                return [found.get(i) for i in ids]

            self._organizations = DataLoader(load_fn=load)
        return self._organizations

    @property
    def partner_counts(self) -> DataLoader[int, int]:
        """Open missions by partner pk, batched: every `missionCount` of a request in one query."""
        if self._partner_counts is None:

            async def load(pks: list[int]) -> list[int]:
                found = await self.repository.open_mission_counts(pks)
                return [found.get(pk, 0) for pk in pks]

            self._partner_counts = DataLoader(load_fn=load)
        return self._partner_counts
