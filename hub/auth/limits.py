"""Rate limits on the token endpoint: per claimed client id and per source address.

Each request to `POST /oauth/token` makes the hub check a secret with argon2, on purpose slow;
the limits keep a guessing script (or a client stuck in a loop) from taking the hub's CPU. The
buckets are the hub's rate limiter (hub/web/ratelimit.py), which the app factory hands in: this
package does not import the web layer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from hub.clock import Clock
from hub.settings import Settings

__all__ = ["Limiter", "LimiterFactory", "RateLimited", "TokenRateLimits"]


class Limiter(Protocol):
    async def take(self, key: str) -> float:
        """Take a token from `key`'s bucket: 0 when there was one, else seconds to wait."""
        ...

    async def aclose(self) -> None: ...


class LimiterFactory(Protocol):
    """Builds a limiter from the `rate_limit_*` settings (hub.web.ratelimit.make_limiter)."""

    def __call__(self, settings: Settings, clock: Clock, /) -> Limiter: ...


class _Unlimited:
    async def take(self, key: str) -> float:
        return 0.0

    async def aclose(self) -> None:
        return None


@dataclass(frozen=True, slots=True)
class RateLimited:
    """A refused request: what was over its limit, and whole seconds until it may retry."""

    what: str
    retry_after: int


@dataclass
class TokenRateLimits:
    by_client: Limiter
    by_address: Limiter

    @classmethod
    def unlimited(cls) -> TokenRateLimits:
        return cls(_Unlimited(), _Unlimited())

    @classmethod
    def from_settings(
        cls, settings: Settings, clock: Clock, make: LimiterFactory
    ) -> TokenRateLimits:
        """Two limiters of the hub's kind (Redis when the broker is Redis), with the token
        endpoint's own rates and their own key prefixes."""

        def limiter(per_minute: int, burst: int, name: str) -> Limiter:
            own = settings.model_copy(
                update={
                    "rate_limit_per_minute": per_minute,
                    "rate_limit_burst": burst,
                    "rate_limit_prefix": f"{settings.rate_limit_prefix}{name}:",
                }
            )
            return make(own, clock)

        return cls(
            limiter(
                settings.token_rate_limit_per_minute,
                settings.token_rate_limit_burst,
                "token-client",
            ),
            limiter(
                settings.token_address_rate_limit_per_minute,
                settings.token_address_rate_limit_burst,
                "token-address",
            ),
        )

    async def check(self, client_id: str | None, address: str | None) -> RateLimited | None:
        """Take from the address's bucket, then the client id's; None when both allow it."""
        if address:
            wait = await self.by_address.take(address)
            if wait:
                return RateLimited("this address", _whole_seconds(wait))
        if client_id:
            wait = await self.by_client.take(client_id)
            if wait:
                return RateLimited("this client id", _whole_seconds(wait))
        return None

    async def aclose(self) -> None:
        await self.by_client.aclose()
        await self.by_address.aclose()


def _whole_seconds(wait: float) -> int:
    """`Retry-After` is whole seconds; never 0, or clients would retry at once."""
    return max(1, math.ceil(wait))
