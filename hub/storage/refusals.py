"""What the hub refused from partners, with reasons, and the labels it could not map."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.catalogue.model import Refusal
from hub.storage.tables import refused_records, unmapped_labels

__all__ = ["count_unmapped", "record_refusals"]


async def record_refusals(
    conn: AsyncConnection,
    partner_pk: int,
    refusals: Sequence[Refusal],
    source: str,
    now: datetime,
    sync_run_pk: int | None = None,
) -> None:
    """Keep what was refused and why, for the partner to read back."""
    if refusals:
        await conn.execute(
            insert(refused_records),
            [
                {
                    "partner_pk": partner_pk,
                    "external_id": refusal.external_id,
                    "reason": refusal.reason[:2000],
                    "source": source,
                    "sync_run_pk": sync_run_pk,
                    "at": now,
                }
                for refusal in refusals
            ],
        )


async def count_unmapped(
    conn: AsyncConnection, partner_pk: int, counts: Counter[tuple[str, str]], now: datetime
) -> None:
    """Add `counts` of (kind, label) to the partner's unmapped labels."""
    if not counts:
        return
    table = unmapped_labels
    existing = {
        (row.kind, row.label)
        for row in await conn.execute(
            select(table.c.kind, table.c.label).where(table.c.partner_pk == partner_pk)
        )
    }
    for (kind, label), n in counts.items():
        key = (table.c.partner_pk == partner_pk, table.c.kind == kind, table.c.label == label)
        if (kind, label) in existing:
            await conn.execute(
                update(table).where(*key).values(count=table.c.count + n, last_seen_at=now)
            )
        else:
            await conn.execute(
                insert(table).values(
                    partner_pk=partner_pk, kind=kind, label=label, count=n, last_seen_at=now
                )
            )
