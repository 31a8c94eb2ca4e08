"""pipeline.prepare + writer in one transaction: the path every mission takes into the store.

Pulled and pushed batches both come through `apply`: refusals are kept with their reasons,
unmapped labels are counted per partner, and the change events are written with the rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.catalogue.model import MissionDraft
from hub.catalogue.records import PartnerRecord
from hub.ingest.pipeline import Prepared, Refusal, prepare
from hub.storage.tables import refused_records, unmapped_labels
from hub.storage.writer import WriteBatch, close_missions, ensure_partner, upsert_missions

__all__ = ["IngestReport", "apply", "close", "record_refusals"]


@dataclass(slots=True)
class IngestReport:
    """What one batch did: a write result per accepted draft, a refusal per rejected one."""

    batch: WriteBatch = field(default_factory=WriteBatch)
    refusals: list[Refusal] = field(default_factory=list)
    # Position of each draft of the batch: ("ok", index in batch.results) or ("refused", index)
    order: list[tuple[str, int]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {"refused": len(self.refusals)}
        for result in self.batch.results:
            key = result.outcome.value.lower()
            out[key] = out.get(key, 0) + 1
        return out


async def record_refusals(
    conn: AsyncConnection,
    partner: PartnerRecord,
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
                    "partner_pk": partner.pk,
                    "external_id": refusal.external_id,
                    "reason": refusal.reason[:2000],
                    "source": source,
                    "sync_run_pk": sync_run_pk,
                    "at": now,
                }
                for refusal in refusals
            ],
        )


async def _count_unmapped(
    conn: AsyncConnection, partner: PartnerRecord, prepared: Iterable[Prepared], now: datetime
) -> None:
    counts: Counter[tuple[str, str]] = Counter()
    for item in prepared:
        counts.update(("cause", label[:200]) for label in item.raw.get("unmapped_causes", ()))
        counts.update(("skill", label[:200]) for label in item.raw.get("unmapped_skills", ()))
    if not counts:
        return
    table = unmapped_labels
    existing = {
        (row.kind, row.label)
        for row in await conn.execute(
            select(table.c.kind, table.c.label).where(table.c.partner_pk == partner.pk)
        )
    }
    for (kind, label), n in counts.items():
        key = (table.c.partner_pk == partner.pk, table.c.kind == kind, table.c.label == label)
        if (kind, label) in existing:
            await conn.execute(
                update(table).where(*key).values(count=table.c.count + n, last_seen_at=now)
            )
        else:
            await conn.execute(
                insert(table).values(
                    partner_pk=partner.pk, kind=kind, label=label, count=n, last_seen_at=now
                )
            )


async def apply_in(
    conn: AsyncConnection,
    partner: PartnerRecord,
    drafts: Iterable[MissionDraft | Refusal],
    now: datetime,
    source: str = "PULL",
    sync_run_pk: int | None = None,
) -> IngestReport:
    """Validate, enrich and write one batch inside the caller's transaction."""
    report = IngestReport()
    accepted: list[Prepared] = []
    for item in drafts:
        outcome = item if isinstance(item, Refusal) else prepare(item)
        if isinstance(outcome, Refusal):
            report.order.append(("refused", len(report.refusals)))
            report.refusals.append(outcome)
        else:
            report.order.append(("ok", len(accepted)))
            accepted.append(outcome)
    report.batch = await upsert_missions(conn, partner, accepted, now)
    await record_refusals(conn, partner, report.refusals, source, now, sync_run_pk)
    await _count_unmapped(conn, partner, accepted, now)
    return report


async def apply(
    engine: AsyncEngine,
    partner_name: str,
    drafts: Iterable[MissionDraft | Refusal],
    now: datetime,
    source: str = "PULL",
) -> IngestReport:
    """Validate, enrich and write one batch of a partner's drafts, all in one transaction."""
    async with engine.begin() as conn:
        partner = await ensure_partner(conn, partner_name, now)
        return await apply_in(conn, partner, drafts, now, source)


async def close(
    engine: AsyncEngine, partner_name: str, external_ids: Sequence[str], now: datetime
) -> WriteBatch:
    """Close the partner's missions with these ids, in one transaction."""
    async with engine.begin() as conn:
        partner = await ensure_partner(conn, partner_name, now)
        return await close_missions(conn, partner, external_ids, now)
