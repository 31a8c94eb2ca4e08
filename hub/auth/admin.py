"""Operator actions on clients, keys and trusted issuers (`clients`, `keys`, `issuers`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from hub.auth.caller import ClientKind
from hub.auth.clients import ClientRecord, ClientStore, NewClient, OAuthClient, policy_to_json
from hub.auth.keys import KeyStore
from hub.auth.token_endpoint import issue_token
from hub.catalogue.filters import Policy
from hub.errors import UserInputError
from hub.settings import Settings
from hub.storage import add_trusted_issuer

__all__ = ["DemoCredentials", "add_issuer", "describe", "ensure_demo_clients"]

_CLAIMS = ("client_id", "azp", "sub")


def describe(record: ClientRecord) -> dict[str, Any]:
    return {
        "client_id": record.id,
        "name": record.name,
        "kind": record.kind.value,
        "scopes": list(record.scopes),
        "partner": record.partner,
        "enabled": record.enabled,
        "trusted_documents_only": record.trusted_documents_only,
        "policy": policy_to_json(record.policy),
    }


async def add_issuer(
    engine: AsyncEngine,
    clients: ClientStore,
    issuer: str,
    jwks_url: str,
    audience: str,
    claim: str,
    value: str,
    client_id: str,
) -> None:
    """Trust a company's identity provider: its tokens naming `value` act as `client_id`."""
    if claim not in _CLAIMS:
        raise UserInputError(f"--claim must be one of {', '.join(_CLAIMS)}")
    record = await clients.get(client_id)
    if record is None:
        raise UserInputError(f"no client {client_id!r}")
    if record.kind is not ClientKind.COMPANY:
        raise UserInputError("only company clients can be reached through an issuer")
    await add_trusted_issuer(
        engine,
        issuer=issuer.rstrip("/"),
        jwks_url=jwks_url,
        audience=audience,
        client_claim=claim,
        client_value=value,
        client_pk=record.pk,
    )


@dataclass(frozen=True, slots=True)
class DemoCredentials:
    company: NewClient
    company_token: str
    partner: NewClient


async def ensure_demo_clients(
    settings: Settings, engine: AsyncEngine, partner: str
) -> DemoCredentials:
    """A company and a partner client for the demo, with fresh secrets and a ready token."""
    clients = ClientStore(engine, ttl=0)
    keys = KeyStore(engine, timedelta(seconds=settings.token_ttl_seconds))
    await keys.ensure()

    async def ensure(kind: ClientKind, client_id: str, name: str, bound: str | None) -> NewClient:
        if await clients.get(client_id) is None:
            return await clients.create(kind, name, partner=bound, client_id=client_id)
        await clients.set_enabled(client_id, True)
        return await clients.rotate_secret(client_id)

    company = await ensure(ClientKind.COMPANY, "demo-company", "Demo company intranet", None)
    partner_client = await ensure(ClientKind.PARTNER, "demo-partner", "Demo partner", partner)
    await clients.set_policy("demo-company", Policy())
    token = issue_token(settings, keys, OAuthClient(company.record))
    return DemoCredentials(company, token, partner_client)
