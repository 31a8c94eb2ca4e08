"""Trusted identity providers: whose tokens act as which company client."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.errors import UserInputError
from hub.storage.tables import trusted_issuers

__all__ = ["add_trusted_issuer", "trusted_issuer_rows"]


async def trusted_issuer_rows(engine: AsyncEngine, issuer: str) -> list[dict[str, Any]]:
    """The mappings of one issuer (jwks_url, audience, client_claim, client_value, client_pk)."""
    async with engine.connect() as conn:
        rows = await conn.execute(select(trusted_issuers).where(trusted_issuers.c.issuer == issuer))
        return [dict(row) for row in rows.mappings()]


async def add_trusted_issuer(
    engine: AsyncEngine,
    *,
    issuer: str,
    jwks_url: str,
    audience: str,
    client_claim: str,
    client_value: str,
    client_pk: int,
) -> None:
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(trusted_issuers).values(
                    issuer=issuer,
                    jwks_url=jwks_url,
                    audience=audience,
                    client_claim=client_claim,
                    client_value=client_value,
                    client_pk=client_pk,
                )
            )
    except IntegrityError as exc:
        raise UserInputError(
            f"{issuer} already maps {client_claim}={client_value!r} to a client"
        ) from exc
