"""Where the response cache keeps its answers, and the version that decides which are current.

An entry is stored with the version read before its answer was computed and served only while
the version is unchanged; any committed write bumps it (hub.web.response_cache explains why that
is exact). In one process the version is a counter and a bump empties the dict at once; with
Redis the version is one shared counter, read with the entry in a single round trip (MGET), so
one replica's write drops every replica's entries.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol

import redis.asyncio as aioredis

from hub.clock import Clock
from hub.observability.metrics import HubMetrics
from hub.settings import Settings

__all__ = ["Entry", "MemoryStore", "RedisStore", "Store", "make_store"]

logger = logging.getLogger("hub.web.cache")

# What an entry costs beyond its body (key, tuple, dict slot), for the size bound.
_OVERHEAD = 200


@dataclass(frozen=True, slots=True)
class Entry:
    body: bytes
    operation: str  # the metrics label of the operation that computed it
    position: int  # the event-log position read before it was computed


class Store(Protocol):
    async def get(self, key: bytes) -> tuple[Entry | None, int]:
        """The current entry under `key` (None when missing, stale or expired) and the version
        to store a new answer with."""

    async def put(self, key: bytes, version: int, entry: Entry) -> None: ...

    def bump(self) -> None:
        """A write committed: drop every entry (synchronously, before the writer goes on)."""

    async def settle(self) -> None:
        """Wait until the bumps made here are visible to every replica."""

    async def aclose(self) -> None: ...


class MemoryStore:
    """This process only: an LRU dict bounded in bytes, entries bounded in age."""

    def __init__(self, max_bytes: int, max_age: float, clock: Clock, metrics: HubMetrics) -> None:
        self.max_bytes = max_bytes
        self.max_entry = max_bytes // 8
        self.max_age = max_age
        self.clock = clock
        self.metrics = metrics
        self.version = 0
        self.size = 0
        self._entries: OrderedDict[bytes, tuple[Entry, float]] = OrderedDict()

    async def get(self, key: bytes) -> tuple[Entry | None, int]:
        found = self._entries.get(key)
        if found is None:
            return None, self.version
        entry, expires = found
        if self.clock.monotonic() >= expires:
            self._drop(key)
            return None, self.version
        self._entries.move_to_end(key)
        return entry, self.version

    async def put(self, key: bytes, version: int, entry: Entry) -> None:
        cost = len(entry.body) + _OVERHEAD
        if version != self.version or cost > self.max_entry:
            return  # computed before a write that has committed since, or too large
        if key in self._entries:
            self._drop(key)
        self._entries[key] = (entry, self.clock.monotonic() + self.max_age)
        self.size += cost
        while self.size > self.max_bytes and self._entries:
            self._drop(next(iter(self._entries)))
        self.metrics.cache_held(len(self._entries), self.size)

    def _drop(self, key: bytes) -> None:
        entry, _ = self._entries.pop(key)
        self.size -= len(entry.body) + _OVERHEAD
        self.metrics.cache_held(len(self._entries), self.size)

    def bump(self) -> None:
        self.version += 1
        if self._entries:
            self.metrics.cache_invalidations.inc(len(self._entries))
            self._entries = OrderedDict()
            self.size = 0
            self.metrics.cache_held(0, 0)

    async def settle(self) -> None:
        return None

    async def aclose(self) -> None:
        self._entries.clear()


class RedisStore:
    """Shared by every replica: entries under `{prefix}e:{key}` (version, log position, operation
    and body, a line each but the body), the version under `{prefix}version`; Redis drops
    entries at their age bound (PX)."""

    def __init__(self, url: str, prefix: str, max_age: float, metrics: HubMetrics) -> None:
        self.client: aioredis.Redis = aioredis.from_url(url)
        self.version_key = f"{prefix}version".encode()
        self.prefix = f"{prefix}e:".encode()
        self.max_age_ms = max(1, int(max_age * 1000))
        self.metrics = metrics
        self._pending: set[asyncio.Task[None]] = set()

    async def get(self, key: bytes) -> tuple[Entry | None, int]:
        raw_version, raw = await self.client.mget([self.version_key, self.prefix + key])
        version = int(raw_version or 0)
        if raw is None:
            return None, version
        data = raw.encode() if isinstance(raw, str) else raw  # decode_responses is off: bytes
        stored, position, operation, body = data.split(b"\n", 3)
        if int(stored) != version:
            return None, version
        return Entry(body, operation.decode(), int(position)), version

    async def put(self, key: bytes, version: int, entry: Entry) -> None:
        value = b"%d\n%d\n%s\n%s" % (
            version,
            entry.position,
            entry.operation.encode(),
            entry.body,
        )
        await self.client.set(self.prefix + key, value, px=self.max_age_ms)

    def bump(self) -> None:
        # Called from the engine's commit hook (no await there): the INCR runs as a task, and
        # HubGraphQL waits for it (settle) before answering the request that wrote.
        self.metrics.cache_invalidations.inc()
        task = asyncio.get_running_loop().create_task(self._incr())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _incr(self) -> None:
        try:
            await self.client.incr(self.version_key)
        except Exception:  # a lost bump would leave entries current: log it loudly
            logger.exception("could not announce a write to the shared response cache")

    async def settle(self) -> None:
        if self._pending:
            await asyncio.gather(*list(self._pending))

    async def aclose(self) -> None:
        await self.settle()
        await self.client.aclose()


def make_store(settings: Settings, clock: Clock, metrics: HubMetrics) -> Store:
    """Redis when the broker is Redis (replicas share entries), else this process's memory."""
    age = settings.response_cache_max_age_seconds
    if settings.broker_url.startswith(("redis://", "rediss://")):
        return RedisStore(settings.broker_url, settings.response_cache_prefix, age, metrics)
    return MemoryStore(settings.response_cache_max_bytes, age, clock, metrics)
