"""Partner rows as the sync side keeps them: settings, connector state and health."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import RowMapping, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.storage.tables import partners
from hub.storage.writer import ensure_partner

__all__ = [
    "configure_partner",
    "find_partner",
    "last_good_snapshot_size",
    "pulled_partner_rows",
    "record_failure",
    "record_success",
    "set_last_good_snapshot_size",
    "set_priority",
]


async def find_partner(engine: AsyncEngine, name: str) -> RowMapping | None:
    """The `partners` row named `name`."""
    async with engine.connect() as conn:
        return (
            (await conn.execute(select(partners).where(partners.c.name == name))).mappings().first()
        )


async def set_priority(engine: AsyncEngine, name: str, priority: int | None) -> bool:
    """The operator's rank of a partner for merged missions (lower shows first; None: unranked,
    after every ranked partner). False when there is no such partner."""
    async with engine.begin() as conn:
        result = await conn.execute(
            update(partners).where(partners.c.name == name).values(priority=priority)
        )
        return bool(result.rowcount)


async def pulled_partner_rows(engine: AsyncEngine) -> list[RowMapping]:
    """Enabled partners with a connector, by name."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(partners)
            .where(partners.c.connector.is_not(None), partners.c.enabled.is_(True))
            .order_by(partners.c.name)
        )
        return list(rows.mappings().all())


async def configure_partner(
    engine: AsyncEngine,
    name: str,
    now: datetime,
    *,
    display_name: str | None,
    connector: str | None,
    url: str | None,
    push_only: bool,
    interval_seconds: int | None,
    config: dict[str, Any],
) -> None:
    """Create the partner if new, and set how it is reached."""
    async with engine.begin() as conn:
        record = await ensure_partner(conn, name, now, display_name=display_name)
        await conn.execute(
            update(partners)
            .where(partners.c.pk == record.pk)
            .values(
                connector=connector,
                url=url,
                push_only=push_only,
                interval_seconds=interval_seconds,
                config=config,
                display_name=display_name or record.display_name,
            )
        )


async def record_success(
    conn: AsyncConnection,
    partner_pk: int,
    state: dict[str, Any],
    finished: datetime,
    last_error: str | None,
) -> None:
    """A pull ran to the end: keep the connector's state, close the circuit."""
    await conn.execute(
        update(partners)
        .where(partners.c.pk == partner_pk)
        .values(
            state=state,
            last_success_at=finished,
            failing_since=None,
            consecutive_failures=0,
            circuit_open_until=None,
            last_error=last_error,
        )
    )


async def record_failure(
    conn: AsyncConnection,
    partner_pk: int,
    now: datetime,
    message: str,
    *,
    circuit_failures: int,
    circuit_open: timedelta,
) -> tuple[int, datetime]:
    """Count a failed pull (opening the circuit after `circuit_failures` in a row); returns the
    failures in a row and since when the partner has been failing."""
    row = (
        await conn.execute(
            select(partners.c.consecutive_failures, partners.c.failing_since).where(
                partners.c.pk == partner_pk
            )
        )
    ).one()
    failures = int(row.consecutive_failures) + 1
    failing_since: datetime = row.failing_since or now
    values: dict[str, Any] = {
        "consecutive_failures": failures,
        "failing_since": failing_since,
        "last_error": message,
    }
    if failures >= circuit_failures:
        values["circuit_open_until"] = now + circuit_open
    await conn.execute(update(partners).where(partners.c.pk == partner_pk).values(values))
    return failures, failing_since


async def last_good_snapshot_size(engine: AsyncEngine, partner_pk: int) -> int | None:
    """How many missions the last complete pull that closed anything listed."""
    async with engine.connect() as conn:
        value = (
            await conn.execute(
                select(partners.c.last_good_snapshot_size).where(partners.c.pk == partner_pk)
            )
        ).scalar_one()
    return int(value) if value is not None else None


async def set_last_good_snapshot_size(conn: AsyncConnection, partner_pk: int, size: int) -> None:
    await conn.execute(
        update(partners).where(partners.c.pk == partner_pk).values(last_good_snapshot_size=size)
    )
