"""Trusted identity providers: a company's own IdP whose tokens act as one of its clients.

Their JWKS is fetched over HTTP with the hub's client, cached, and refetched once on an
unknown `kid` (at most every `refetch_interval` seconds, so forged kids cause no storm).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from joserfc.jwk import KeySet
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.clock import Clock, SystemClock
from hub.storage import trusted_issuer_rows

__all__ = ["IssuerStore"]


@dataclass
class _RemoteKeys:
    keys: KeySet
    fetched_at: float


@dataclass
class IssuerStore:
    """Trusted identity providers and their JWKS, fetched with the hub's HTTP client."""

    engine: AsyncEngine
    http: httpx.AsyncClient
    jwks_ttl: float = 300.0
    refetch_interval: float = 10.0
    clock: Clock = field(default_factory=SystemClock)
    _jwks: dict[str, _RemoteKeys] = field(default_factory=dict)
    _last_forced: dict[str, float] = field(default_factory=dict)

    async def issuers(self, issuer: str) -> list[dict[str, Any]]:
        return await trusted_issuer_rows(self.engine, issuer)

    async def _fetch(self, url: str) -> KeySet:
        response = await self.http.get(url, timeout=5.0)
        response.raise_for_status()
        keys = KeySet.import_key_set(response.json())
        self._jwks[url] = _RemoteKeys(keys, self.clock.monotonic())
        return keys

    async def keys_for(self, url: str, kid: str | None) -> KeySet:
        """The issuer's keys; an unknown kid triggers one refetch (at most every few seconds)."""
        now = self.clock.monotonic()
        cached = self._jwks.get(url)
        if cached is None or now - cached.fetched_at > self.jwks_ttl:
            return await self._fetch(url)
        known = {key.kid for key in cached.keys}
        stale = now - self._last_forced.get(url, -1e9) >= self.refetch_interval
        if kid is not None and kid not in known and stale:
            self._last_forced[url] = now
            return await self._fetch(url)
        return cached.keys
