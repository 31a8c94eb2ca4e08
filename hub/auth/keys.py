"""Signing keys: kept in the database so that every replica signs and verifies with the same set.

The newest key signs. `rotate` adds a key and retires the others: a retired key still verifies,
and stays in the JWKS, until every token it signed has expired.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from joserfc.jwk import ECKey, KeySet
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.clock import Clock, SystemClock
from hub.storage import add_signing_key, signing_key_rows

__all__ = ["ALGORITHM", "KeyStore"]

ALGORITHM = "ES256"


def _new_jwk(now: datetime) -> dict[str, Any]:
    kid = now.strftime("%Y%m%d") + "-" + secrets.token_hex(6)
    key = ECKey.generate_key(
        "P-256", parameters={"kid": kid, "alg": ALGORITHM, "use": "sig"}, private=True
    )
    return dict(key.as_dict(private=True))


@dataclass
class KeyStore:
    engine: AsyncEngine
    token_ttl: timedelta
    reload_every: float = 30.0
    clock: Clock = field(default_factory=SystemClock)
    _keys: list[dict[str, Any]] = field(default_factory=list)  # rows, newest first
    _loaded_at: float = -1e9

    async def _load(self) -> None:
        self._keys = await signing_key_rows(self.engine)
        self._loaded_at = self.clock.monotonic()

    async def ensure(self) -> None:
        """Load the keys, creating the first one on a new database."""
        await self._load()
        if not self._keys:
            await self.rotate()

    async def refresh(self, force: bool = False) -> None:
        """Reload when stale; `force` (an unknown kid) reloads at most once a second."""
        age = self.clock.monotonic() - self._loaded_at
        if age > self.reload_every or (force and age > 1.0):
            await self._load()

    async def rotate(self) -> str:
        """Add a signing key; the previous ones only verify from now on. Returns the new kid."""
        now = self.clock.now()
        jwk = _new_jwk(now)
        await add_signing_key(self.engine, str(jwk["kid"]), jwk, now)
        await self._load()
        return str(jwk["kid"])

    @property
    def _grace(self) -> timedelta:
        # Another replica may sign with a retired key until it reloads its keys: publish the
        # key for a token lifetime after that.
        return self.token_ttl + timedelta(seconds=self.reload_every)

    def _live(self) -> list[dict[str, Any]]:
        now = self.clock.now()
        return [
            row
            for row in self._keys
            if row["retired_at"] is None or row["retired_at"] + self._grace > now
        ]

    def signing_set(self) -> KeySet:
        """The one key that signs (the newest), as a key set authlib accepts."""
        if not self._keys:
            raise RuntimeError("no signing key loaded; call ensure() at start-up")
        return KeySet.import_key_set({"keys": [self._keys[0]["private_jwk"]]})

    def verification_set(self) -> KeySet:
        return KeySet.import_key_set({"keys": [self._public(row) for row in self._live()]})

    def kids(self) -> set[str]:
        return {row["kid"] for row in self._live()}

    @staticmethod
    def _public(row: dict[str, Any]) -> dict[str, Any]:
        key = ECKey.import_key(row["private_jwk"])
        public = dict(key.as_dict(private=False))
        public.update(kid=row["kid"], alg=ALGORITHM, use="sig")
        return public

    def jwks(self) -> dict[str, Any]:
        """The public JWKS: the signing key and the retired keys whose tokens may still live."""
        return {"keys": [self._public(row) for row in self._live()]}

    def describe(self) -> list[dict[str, Any]]:
        return [
            {
                "kid": row["kid"],
                "created_at": row["created_at"].isoformat(),
                "retired_at": row["retired_at"].isoformat() if row["retired_at"] else None,
                "published": row in self._live(),
            }
            for row in self._keys
        ]
