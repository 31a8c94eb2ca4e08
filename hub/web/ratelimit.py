"""Per-client rate limits: a token bucket per caller, in memory or in Redis (shared by replicas).

A bucket holds up to `burst` tokens and refills at `per_minute / 60` tokens a second; each
request takes one. An empty bucket answers how long until the next token, which the hub sends
as `Retry-After`.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

from hub.clock import Clock
from hub.settings import Settings

__all__ = [
    "MemoryRateLimiter",
    "RateLimiter",
    "RedisRateLimiter",
    "Unlimited",
    "make_limiter",
    "retry_after",
]

logger = logging.getLogger("hub.web.ratelimit")


class RateLimiter(Protocol):
    async def take(self, key: str) -> float:
        """Take a token from `key`'s bucket: 0 when there was one, else seconds to wait."""
        ...

    async def aclose(self) -> None: ...


def retry_after(wait: float) -> int:
    """`Retry-After` is whole seconds; never 0, or clients would retry at once."""
    return max(1, math.ceil(wait))


class Unlimited:
    """HUB_RATE_LIMIT_PER_MINUTE=0."""

    async def take(self, key: str) -> float:
        return 0.0

    async def aclose(self) -> None:
        return None


class MemoryRateLimiter:
    """Buckets in this process: right for one replica. Each take is O(1): the buckets are kept
    in the order they were last used, and past `max_keys` the least recently used one is
    forgotten (it has most likely refilled; if not, that key starts again from a full bucket,
    which takes `max_keys` keys in use within one refill time)."""

    max_keys = 10_000

    def __init__(
        self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self.buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # -> (tokens, at)

    async def take(self, key: str) -> float:
        # No await between read and write: atomic on the event loop.
        now = self.clock()
        found = self.buckets.get(key)
        if found is None:
            tokens = self.burst
            if len(self.buckets) >= self.max_keys:
                self.buckets.popitem(last=False)  # the least recently used
        else:
            tokens = min(self.burst, found[0] + (now - found[1]) * self.rate)
            self.buckets.move_to_end(key)
        if tokens >= 1:
            self.buckets[key] = (tokens - 1, now)
            return 0.0
        self.buckets[key] = (tokens, now)
        return (1 - tokens) / self.rate

    async def aclose(self) -> None:
        self.buckets.clear()


# Atomic in Redis; the clock is Redis's, so replicas with skewed clocks agree.
_TAKE = """
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) * 1000 / rate) + 1000)
return wait
"""


class RedisRateLimiter:
    """Buckets in Redis, shared by every replica; one Lua script per request.

    When Redis cannot be reached, requests are let through (a rate limit protects the hub; it
    must not take it down), and the outage and the recovery are each logged once.
    """

    def __init__(self, redis: Any, per_minute: int, burst: int, prefix: str) -> None:
        self.redis = redis
        self.rate = per_minute / 60.0
        self.burst = burst
        self.prefix = prefix
        self.script = redis.register_script(_TAKE)
        self.failing = False

    async def take(self, key: str) -> float:
        try:
            wait_ms = await self.script(keys=[self.prefix + key], args=[self.burst, self.rate])
        except Exception as exc:  # any Redis failure: let the request through
            if not self.failing:
                logger.warning("rate limits off: Redis unreachable (%s)", exc)
                self.failing = True
            return 0.0
        if self.failing:
            logger.warning("rate limits back on: Redis reachable again")
            self.failing = False
        return int(wait_ms) / 1000.0

    async def aclose(self) -> None:
        await self.redis.aclose()


def make_limiter(settings: Settings, clock: Clock) -> RateLimiter:
    """Redis when the broker is Redis (several replicas share one budget), else memory."""
    if settings.rate_limit_per_minute == 0:
        return Unlimited()
    if settings.broker_url.startswith(("redis://", "rediss://")):
        from redis.asyncio import Redis

        return RedisRateLimiter(
            Redis.from_url(settings.broker_url),
            settings.rate_limit_per_minute,
            settings.rate_limit_burst,
            settings.rate_limit_prefix,
        )
    return MemoryRateLimiter(
        settings.rate_limit_per_minute, settings.rate_limit_burst, clock.monotonic
    )
