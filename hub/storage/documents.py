"""persisted_documents: automatic persisted queries and clients' trusted documents, by hash."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.storage.tables import clients, persisted_documents

__all__ = ["add_document", "all_documents", "find_document"]


async def find_document(
    engine: AsyncEngine, sha: str, client_pk: int | None, shared: bool
) -> tuple[int | None, str] | None:
    """(owner, text) of the document `sha` registered for `client_pk`, the client's own first,
    or (`shared`) an automatic persisted query anyone may run."""
    owners = [persisted_documents.c.client_pk == client_pk] if client_pk is not None else []
    if shared:
        owners.append(persisted_documents.c.client_pk.is_(None))
    if not owners:
        return None
    stmt = (
        select(persisted_documents.c.client_pk, persisted_documents.c.document)
        .where(persisted_documents.c.sha256 == sha, or_(*owners))
        .order_by(persisted_documents.c.client_pk.is_(None))  # the client's own first
        .limit(1)
    )
    async with engine.connect() as conn:
        row = (await conn.execute(stmt)).first()
    return None if row is None else (row.client_pk, str(row.document))


async def add_document(
    engine: AsyncEngine,
    sha: str,
    client_pk: int | None,
    name: str | None,
    document: str,
    now: datetime,
) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            insert(persisted_documents).values(
                sha256=sha, client_pk=client_pk, name=name, document=document, created_at=now
            )
        )


async def all_documents(engine: AsyncEngine) -> list[dict[str, Any]]:
    """Every document with its owner's client id, oldest first."""
    stmt = (
        select(
            persisted_documents.c.sha256,
            clients.c.id.label("client_id"),
            persisted_documents.c.name,
            persisted_documents.c.created_at,
        )
        .outerjoin(clients, clients.c.pk == persisted_documents.c.client_pk)
        .order_by(persisted_documents.c.pk)
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(stmt)).mappings().all()
    return [dict(row) for row in rows]
