"""The sync_runs log: one row a pull, from RUNNING to SUCCEEDED, SUSPICIOUS or FAILED.

A running run writes its counts after every batch and a heartbeat (`heartbeat_at`, by the hub's
clock) while it lives, so that a run whose process died is found (`abandoned_runs`) and marked
FAILED with the counts it had written (`fail_abandoned`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.storage.tables import partners, sync_runs

__all__ = [
    "AbandonedRun",
    "abandoned_runs",
    "beat",
    "fail_abandoned",
    "finish_run",
    "last_runs",
    "record_counts",
    "run_row",
    "start_run",
]


async def start_run(
    engine: AsyncEngine,
    partner_pk: int,
    now: datetime,
    kind: str = "PULL",
    counts: dict[str, int] | None = None,
) -> int:
    """Open a RUNNING run, its heartbeat now."""
    async with engine.begin() as conn:
        pk = (
            await conn.execute(
                insert(sync_runs).returning(sync_runs.c.pk),
                {
                    "partner_pk": partner_pk,
                    "kind": kind,
                    "status": "RUNNING",
                    "started_at": now,
                    "heartbeat_at": now,
                    "counts": counts or {},
                },
            )
        ).scalar_one()
    return int(pk)


async def beat(
    engine: AsyncEngine, run_pk: int, now: datetime, counts: dict[str, int] | None = None
) -> None:
    """A running run is alive at `now`; with `counts`, what it has written so far."""
    values: dict[str, Any] = {"heartbeat_at": now}
    if counts is not None:
        values["counts"] = dict(counts)
    async with engine.begin() as conn:
        await conn.execute(
            update(sync_runs)
            .where(sync_runs.c.pk == run_pk, sync_runs.c.status == "RUNNING")
            .values(values)
        )


async def record_counts(
    conn: AsyncConnection, run_pk: int, now: datetime, counts: dict[str, int]
) -> None:
    """A running run's counts so far, and its heartbeat, in the caller's transaction (the one
    that wrote the batch they count)."""
    await conn.execute(
        update(sync_runs)
        .where(sync_runs.c.pk == run_pk)
        .values(counts=dict(counts), heartbeat_at=now)
    )


@dataclass(frozen=True, slots=True)
class AbandonedRun:
    pk: int
    partner_pk: int
    partner: str
    heartbeat_at: datetime


def _silent_since(stale_before: datetime) -> Any:
    """RUNNING, and not heard from since `stale_before` (a run from before heartbeats were kept
    counts from its start)."""
    return and_(
        sync_runs.c.status == "RUNNING",
        or_(
            sync_runs.c.heartbeat_at < stale_before,
            and_(sync_runs.c.heartbeat_at.is_(None), sync_runs.c.started_at < stale_before),
        ),
    )


async def abandoned_runs(engine: AsyncEngine, stale_before: datetime) -> list[AbandonedRun]:
    """RUNNING runs, of any partner, that may have lost their process: on SQLite those whose
    heartbeat stopped before `stale_before`; on PostgreSQL all of them, as the partner's lock
    tells (see `fail_abandoned`)."""
    silent = (
        sync_runs.c.status == "RUNNING"
        if engine.dialect.name == "postgresql"
        else _silent_since(stale_before)
    )
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(
                    sync_runs.c.pk,
                    sync_runs.c.partner_pk,
                    partners.c.name,
                    func.coalesce(sync_runs.c.heartbeat_at, sync_runs.c.started_at),
                )
                .join(partners, partners.c.pk == sync_runs.c.partner_pk)
                .where(silent)
                .order_by(sync_runs.c.pk)
            )
        ).all()
    return [AbandonedRun(pk, partner_pk, name, at) for pk, partner_pk, name, at in rows]


async def fail_abandoned(
    engine: AsyncEngine, partner_pk: int, now: datetime, stale_before: datetime
) -> list[int]:
    """Mark FAILED, with the counts they wrote, the partner's RUNNING runs whose owner is gone.

    The caller holds the partner's lock (hub.storage.locks). On PostgreSQL that advisory lock is
    held by a run's session from its start to its end and dies with it, so holding it proves
    that every RUNNING run of the partner is dead. On SQLite the lock is this process's only
    (`entraide-hub sync` may run beside `serve`), so a run is dead when its heartbeat stopped
    before `stale_before`.
    """
    where = [sync_runs.c.partner_pk == partner_pk, sync_runs.c.status == "RUNNING"]
    if engine.dialect.name != "postgresql":
        where.append(_silent_since(stale_before))
    async with engine.begin() as conn:
        rows = (
            await conn.execute(select(sync_runs.c.pk, sync_runs.c.heartbeat_at).where(*where))
        ).all()
        for pk, heartbeat in rows:
            last = f"last heard of at {heartbeat.isoformat()}" if heartbeat else "no heartbeat"
            await conn.execute(
                update(sync_runs)
                .where(sync_runs.c.pk == pk, sync_runs.c.status == "RUNNING")
                .values(
                    status="FAILED",
                    finished_at=now,
                    error=f"interrupted: its process stopped ({last}); counts as last written",
                )
            )
    return [pk for pk, _ in rows]


async def run_row(engine: AsyncEngine, run_pk: int) -> dict[str, Any] | None:
    """One run as stored (status, counts, times, error)."""
    async with engine.connect() as conn:
        row = (
            (await conn.execute(select(sync_runs).where(sync_runs.c.pk == run_pk)))
            .mappings()
            .first()
        )
    return dict(row) if row is not None else None


async def finish_run(
    conn: AsyncConnection,
    run_pk: int,
    status: str,
    finished: datetime,
    counts: dict[str, int],
    error: str | None = None,
) -> None:
    values: dict[str, Any] = {
        "status": status,
        "finished_at": finished,
        "heartbeat_at": finished,
        "counts": counts,
    }
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
