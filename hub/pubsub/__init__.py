"""Change notifications between replicas: in memory for one process, Redis for several."""

from __future__ import annotations

from hub.pubsub.base import Broker, Message
from hub.pubsub.memory import MemoryBroker
from hub.pubsub.redis import RedisBroker

__all__ = ["Broker", "MemoryBroker", "Message", "RedisBroker", "make_broker"]


def make_broker(url: str) -> Broker:
    """memory:// or redis://HOST:PORT/DB, as HUB_BROKER_URL says."""
    if url.startswith(("redis://", "rediss://")):
        return RedisBroker(url)
    return MemoryBroker()
