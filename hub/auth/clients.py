"""OAuth clients in the database: secrets kept only as argon2 hashes; reads briefly cached."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from authlib.oauth2.rfc6749 import ClientMixin
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.auth.caller import ClientKind, default_scopes
from hub.auth.flight import Flights
from hub.catalogue.filters import Policy
from hub.catalogue.model import EngagementType
from hub.clock import Clock, SystemClock
from hub.errors import UserInputError
from hub.storage import client_id_of, client_row, client_rows, insert_client, update_client

__all__ = [
    "ClientRecord",
    "ClientStore",
    "NewClient",
    "OAuthClient",
    "policy_from_json",
    "policy_to_json",
]

_hasher = PasswordHasher()


def policy_to_json(policy: Policy) -> dict[str, Any]:
    return {
        "causes": list(policy.causes),
        "partners": list(policy.partners),
        "engagement_types": [e.value for e in policy.engagement_types],
        "excluded_organizations": list(policy.excluded_organizations),
    }


def policy_from_json(value: dict[str, Any] | None) -> Policy:
    value = value or {}
    return Policy(
        causes=tuple(value.get("causes", ())),
        partners=tuple(value.get("partners", ())),
        engagement_types=tuple(EngagementType(e) for e in value.get("engagement_types", ())),
        excluded_organizations=tuple(value.get("excluded_organizations", ())),
    )


@dataclass(frozen=True, slots=True)
class ClientRecord:
    pk: int
    id: str
    name: str
    kind: ClientKind
    secret_hash: str | None
    scopes: tuple[str, ...]
    partner: str | None
    policy: Policy
    trusted_documents_only: bool
    enabled: bool


@dataclass(frozen=True, slots=True)
class NewClient:
    """A client just created or re-keyed: the only moment its secret is known in clear."""

    client_id: str
    client_secret: str
    record: ClientRecord


class OAuthClient(ClientMixin):  # type: ignore[misc]
    """The hub's client as authlib sees it (client credentials only, confidential clients)."""

    def __init__(self, record: ClientRecord) -> None:
        self.record = record

    def get_client_id(self) -> str:
        return self.record.id

    def get_default_redirect_uri(self) -> str | None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        allowed = list(self.record.scopes)
        if not scope:
            return " ".join(allowed)
        asked = scope.split()
        if any(s not in allowed for s in asked):
            return None  # authlib answers invalid_scope
        return " ".join(s for s in allowed if s in asked)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        if not self.record.enabled or not self.record.secret_hash:
            return False
        try:
            return bool(_hasher.verify(self.record.secret_hash, client_secret))
        except (VerificationError, InvalidHashError):
            return False

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials" and self.record.enabled


def _record(row: dict[str, Any]) -> ClientRecord:
    return ClientRecord(
        pk=row["pk"],
        id=row["id"],
        name=row["name"],
        kind=ClientKind(row["kind"]),
        secret_hash=row["secret_hash"],
        scopes=tuple(row["scopes"] or ()),
        partner=row["partner_name"],
        policy=policy_from_json(row["policy"]),
        trusted_documents_only=bool(row["trusted_documents_only"]),
        enabled=bool(row["enabled"]),
    )


@dataclass
class ClientStore:
    """Reads and writes clients; reads are cached for `ttl` seconds (disable and policy changes
    reach every replica within that time)."""

    engine: AsyncEngine
    ttl: float = 1.0
    clock: Clock = field(default_factory=SystemClock)
    _cache: dict[str, tuple[float, ClientRecord | None]] = field(default_factory=dict)
    _reads: Flights[str, ClientRecord | None] = field(default_factory=Flights, repr=False)

    def forget(self, client_id: str | None = None) -> None:
        if client_id is None:
            self._cache.clear()
        else:
            self._cache.pop(client_id, None)

    async def get(self, client_id: str) -> ClientRecord | None:
        cached = self._cache.get(client_id)
        now = self.clock.monotonic()
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        return await self._reads.run(client_id, lambda: self._read(client_id, now))

    async def _read(self, client_id: str, now: float) -> ClientRecord | None:
        row = await client_row(self.engine, client_id)
        record = _record(row) if row is not None else None
        self._cache[client_id] = (now, record)
        return record

    async def get_by_pk(self, pk: int) -> ClientRecord | None:
        client_id = await client_id_of(self.engine, pk)
        return await self.get(client_id) if client_id else None

    async def all(self) -> list[ClientRecord]:
        return [_record(row) for row in await client_rows(self.engine)]

    async def create(
        self,
        kind: ClientKind,
        name: str,
        partner: str | None = None,
        scopes: list[str] | None = None,
        client_id: str | None = None,
        with_secret: bool = True,
    ) -> NewClient:
        if kind is ClientKind.PARTNER and not partner:
            raise UserInputError("a partner client needs --partner NAME")
        if kind is not ClientKind.PARTNER and partner:
            raise UserInputError("only partner clients are bound to a partner")
        allowed = default_scopes(kind)
        chosen = scopes or allowed
        extra = [s for s in chosen if s not in allowed]
        if extra:
            raise UserInputError(f"a {kind.value} client cannot have scope {extra[0]!r}")
        secret = secrets.token_urlsafe(32)
        new_id = client_id or f"{kind.value}-{secrets.token_hex(8)}"
        await insert_client(
            self.engine,
            client_id=new_id,
            name=name,
            kind=kind.value,
            secret_hash=_hasher.hash(secret) if with_secret else None,
            scopes=chosen,
            partner=partner,
            created_at=self.clock.now(),
        )
        self.forget(new_id)
        record = await self.get(new_id)
        assert record is not None
        return NewClient(new_id, secret, record)

    async def _update(self, client_id: str, **values: Any) -> ClientRecord:
        if not await update_client(self.engine, client_id, **values):
            raise UserInputError(f"no client {client_id!r}")
        self.forget(client_id)
        record = await self.get(client_id)
        assert record is not None
        return record

    async def set_enabled(self, client_id: str, enabled: bool) -> ClientRecord:
        return await self._update(client_id, enabled=enabled)

    async def rotate_secret(self, client_id: str) -> NewClient:
        secret = secrets.token_urlsafe(32)
        record = await self._update(
            client_id, secret_hash=_hasher.hash(secret), secret_rotated_at=self.clock.now()
        )
        return NewClient(client_id, secret, record)

    async def set_policy(self, client_id: str, policy: Policy) -> ClientRecord:
        return await self._update(client_id, policy=policy_to_json(policy))

    async def set_trusted_documents_only(self, client_id: str, value: bool) -> ClientRecord:
        return await self._update(client_id, trusted_documents_only=value)
