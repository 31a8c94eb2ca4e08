"""OAuth clients' rows: what hub.auth's ClientStore reads and writes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.errors import UserInputError
from hub.storage.tables import clients, partners

__all__ = ["client_id_of", "client_row", "client_rows", "insert_client", "update_client"]


def _with_partner() -> Any:
    return select(clients, partners.c.name.label("partner_name")).outerjoin(
        partners, partners.c.pk == clients.c.partner_pk
    )


async def client_row(engine: AsyncEngine, client_id: str) -> dict[str, Any] | None:
    """A client's row with its partner's name (`partner_name`), or None."""
    async with engine.connect() as conn:
        row = (await conn.execute(_with_partner().where(clients.c.id == client_id))).mappings()
        found = row.first()
    return dict(found) if found is not None else None


async def client_rows(engine: AsyncEngine) -> list[dict[str, Any]]:
    """Every client's row with its partner's name, oldest first."""
    async with engine.connect() as conn:
        rows = (await conn.execute(_with_partner().order_by(clients.c.pk))).mappings().all()
    return [dict(row) for row in rows]


async def client_id_of(engine: AsyncEngine, pk: int) -> str | None:
    async with engine.connect() as conn:
        found = await conn.execute(select(clients.c.id).where(clients.c.pk == pk))
        return found.scalar_one_or_none()


async def insert_client(
    engine: AsyncEngine,
    *,
    client_id: str,
    name: str,
    kind: str,
    secret_hash: str | None,
    scopes: list[str],
    partner: str | None,
    created_at: datetime,
) -> None:
    """Add a client, bound to the partner named `partner` when given (which must exist)."""
    try:
        async with engine.begin() as conn:
            partner_pk = None
            if partner:
                found = await conn.execute(select(partners.c.pk).where(partners.c.name == partner))
                partner_pk = found.scalar_one_or_none()
                if partner_pk is None:
                    raise UserInputError(
                        f"no partner named {partner!r}; add it first (`partners add`)"
                    )
            await conn.execute(
                insert(clients).values(
                    id=client_id,
                    name=name,
                    kind=kind,
                    secret_hash=secret_hash,
                    scopes=scopes,
                    partner_pk=partner_pk,
                    policy={},
                    trusted_documents_only=False,
                    enabled=True,
                    created_at=created_at,
                )
            )
    except IntegrityError as exc:
        raise UserInputError(f"a client {client_id!r} exists already") from exc


async def update_client(engine: AsyncEngine, client_id: str, **values: Any) -> bool:
    """Change columns of a client; False when there is no such client."""
    async with engine.begin() as conn:
        result = await conn.execute(
            update(clients).where(clients.c.id == client_id).values(**values)
        )
    return bool(result.rowcount)
