"""RFC 7009 token revocation: `POST /oauth/revoke`, and the `jti` deny-list every replica reads
when it validates a token."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import anyio.from_thread
from authlib.oauth2.rfc6749 import AuthorizationServer
from authlib.oauth2.rfc7009 import RevocationEndpoint
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.auth.flight import Flights
from hub.auth.introspection import IssuedToken, Lookup
from hub.auth.oauth_request import AUTH_METHODS
from hub.clock import Clock, SystemClock
from hub.storage import add_revocation, is_revoked

__all__ = ["Revocation", "RevocationList"]


@dataclass
class RevocationList:
    """The `jti` deny-list; each answer is trusted for `ttl` seconds on this replica."""

    engine: AsyncEngine
    ttl: float = 1.0
    clock: Clock = field(default_factory=SystemClock)
    _cache: dict[str, tuple[float, bool]] = field(default_factory=dict)
    _reads: Flights[str, bool] = field(default_factory=Flights, repr=False)

    async def is_revoked(self, jti: str) -> bool:
        cached = self._cache.get(jti)
        now = self.clock.monotonic()
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        return await self._reads.run(jti, lambda: self._read(jti, now))

    async def _read(self, jti: str, now: float) -> bool:
        found = await is_revoked(self.engine, jti)
        if len(self._cache) > 100_000:
            self._cache.clear()
        if not self._cache.get(jti, (0.0, False))[1]:  # a revocation made meanwhile stands
            self._cache[jti] = (now, found)
        return found

    async def revoke(self, jti: str, client_id: str, expires_at: datetime) -> None:
        await add_revocation(self.engine, jti, client_id, expires_at, self.clock.now())
        self._cache[jti] = (self.clock.monotonic(), True)


# Revokes a live token, in the event loop; the second argument is the client asking.
Revoke = Callable[[IssuedToken, str | None], Coroutine[Any, Any, None]]


class Revocation(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = AUTH_METHODS

    def __init__(self, server: AuthorizationServer, lookup: Lookup, revoke: Revoke) -> None:
        super().__init__(server)
        self._lookup = lookup
        self._revoke = revoke

    def query_token(self, token_string: str, token_type_hint: str | None) -> IssuedToken | None:
        return anyio.from_thread.run(self._lookup, token_string)

    def revoke_token(self, token: IssuedToken, request: Any) -> None:
        by = request.client.get_client_id() if request.client else None
        anyio.from_thread.run(self._revoke, token, by)
