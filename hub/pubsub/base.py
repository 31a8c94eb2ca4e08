"""The broker contract: how change notifications travel between hub replicas."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

__all__ = ["Broker", "Message"]

Message = dict[str, Any]
"""A JSON object: {"events": [seq, ...]} after a commit, {"revoked": jti} after a revocation."""


class Broker(Protocol):
    """Publish/subscribe between replicas. Delivery is best effort and carries no data that
    matters on its own: a notification only wakes the receivers, which read the event log
    itself from its last position, so a lost or repeated message loses or repeats nothing.

    Example::

        broker = MemoryBroker()
        await broker.start()
        async with broker.subscribe() as messages:
            await broker.publish({"events": [41, 42]})
            async for message in messages:
                ...  # {"events": [41, 42]}
        await broker.close()
    """

    async def start(self) -> None:
        """Connect; called once by the app's lifespan."""

    async def publish(self, message: Message) -> None:
        """Send to every replica's subscribers, this one included."""

    def subscribe(self) -> AbstractAsyncContextManager[AsyncIterator[Message]]:
        """A stream of the messages published from now on."""

    async def close(self) -> None:
        """Disconnect; subscriptions end."""
