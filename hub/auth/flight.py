"""One read at a time per key: the callers that miss a cache together share the read.

The token check reads the client's record and the revocation deny-list from the database when
their ~1 s cache entry runs out; under load, every request arriving in that moment missed at
once and ran the same query (16 at a time at 16 connections, once a second each).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["Flights"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Flights(Generic[K, V]):
    """`await flights.run(key, read)`: `read()` once for the callers that ask for `key` while it
    runs; each of them gets its result (or its exception)."""

    def __init__(self) -> None:
        self._running: dict[K, asyncio.Task[V]] = {}

    async def run(self, key: K, read: Callable[[], Awaitable[V]]) -> V:
        task = self._running.get(key)
        if task is None:

            async def reading() -> V:
                return await read()

            task = asyncio.get_running_loop().create_task(reading())
            self._running[key] = task
            task.add_done_callback(lambda done: self._landed(key, done))
        return await asyncio.shield(task)  # a caller that gives up does not stop the others

    def _landed(self, key: K, task: asyncio.Task[V]) -> None:
        if self._running.get(key) is task:
            del self._running[key]
        if not task.cancelled():
            task.exception()  # retrieved: the callers that were waiting have it
