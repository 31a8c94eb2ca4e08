"""The in-process broker: one replica, no dependency."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from hub.pubsub.base import Message

__all__ = ["MemoryBroker"]


class MemoryBroker:
    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[Message | None]] = set()

    async def start(self) -> None:
        pass

    async def publish(self, message: Message) -> None:
        for queue in list(self._queues):
            queue.put_nowait(message)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[Message]]:
        queue: asyncio.Queue[Message | None] = asyncio.Queue()
        self._queues.add(queue)

        async def messages() -> AsyncIterator[Message]:
            while (message := await queue.get()) is not None:
                yield message

        try:
            yield messages()
        finally:
            self._queues.discard(queue)

    async def close(self) -> None:
        for queue in list(self._queues):
            queue.put_nowait(None)
