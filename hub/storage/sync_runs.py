"""The sync_runs log: one row a pull, from RUNNING to SUCCEEDED, SUSPICIOUS or FAILED."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.storage.tables import partners, sync_runs

__all__ = ["finish_run", "last_runs", "start_run"]


async def start_run(engine: AsyncEngine, partner_pk: int, now: datetime, kind: str = "PULL") -> int:
    """Open a run; a RUNNING run of the partner is one that was interrupted (the caller holds the
    partner's lock), marked FAILED."""
    async with engine.begin() as conn:
        await conn.execute(
            update(sync_runs)
            .where(sync_runs.c.partner_pk == partner_pk, sync_runs.c.status == "RUNNING")
            .values(status="FAILED", finished_at=now, error="interrupted")
        )
        pk = (
            await conn.execute(
                insert(sync_runs).returning(sync_runs.c.pk),
                {
                    "partner_pk": partner_pk,
                    "kind": kind,
                    "status": "RUNNING",
                    "started_at": now,
                    "counts": {},
                },
            )
        ).scalar_one()
    return int(pk)


async def finish_run(
    conn: AsyncConnection,
    run_pk: int,
    status: str,
    finished: datetime,
    counts: dict[str, int],
    error: str | None = None,
) -> None:
    values: dict[str, Any] = {"status": status, "finished_at": finished, "counts": counts}
    if error is not None:
        values["error"] = error
    await conn.execute(update(sync_runs).where(sync_runs.c.pk == run_pk).values(values))


async def last_runs(engine: AsyncEngine) -> list[tuple[str, datetime | None, datetime | None]]:
    """Each partner's name, when its circuit reopens, and when its last run started."""
    last = (
        select(sync_runs.c.partner_pk, func.max(sync_runs.c.started_at).label("last"))
        .group_by(sync_runs.c.partner_pk)
        .subquery()
    )
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(partners.c.name, partners.c.circuit_open_until, last.c.last).outerjoin(
                    last, last.c.partner_pk == partners.c.pk
                )
            )
        ).all()
    return [(name, circuit, started) for name, circuit, started in rows]
