"""Redis pub/sub between replicas (redis-py's asyncio client)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

import orjson
import redis.asyncio as aioredis

from hub.pubsub.base import Message

__all__ = ["RedisBroker"]

logger = logging.getLogger("hub.pubsub")


class RedisBroker:
    def __init__(self, url: str, channel: str = "entraide-hub:changes") -> None:
        self.url = url
        self.channel = channel
        self._client: aioredis.Redis | None = None

    async def start(self) -> None:
        self._client = aioredis.from_url(self.url)
        await self._client.ping()  # fail at start-up, loudly, when Redis is unreachable

    async def publish(self, message: Message) -> None:
        assert self._client is not None, "start() first"
        await self._client.publish(self.channel, orjson.dumps(message))

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[AsyncIterator[Message]]:
        assert self._client is not None, "start() first"
        pubsub = self._client.pubsub()
        await pubsub.subscribe(self.channel)

        async def messages() -> AsyncIterator[Message]:
            async for raw in pubsub.listen():
                if raw.get("type") != "message":
                    continue
                try:
                    yield orjson.loads(raw["data"])
                except orjson.JSONDecodeError:
                    logger.warning("ignored a malformed message on %s", self.channel)

        try:
            yield messages()
        finally:
            await pubsub.unsubscribe(self.channel)
            await pubsub.aclose()  # type: ignore[no-untyped-call,unused-ignore]  # typed in redis 8

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
