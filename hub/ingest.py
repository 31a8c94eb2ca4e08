"""pipeline.prepare + writer in one transaction: the path every mission takes into the store."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from hub.model import MissionDraft
from hub.pipeline import Prepared, Refusal, prepare
from hub.storage.writer import WriteBatch, close_missions, ensure_partner, upsert_missions

__all__ = ["IngestReport", "apply", "close"]


@dataclass(slots=True)
class IngestReport:
    """What one batch did: a write result per accepted draft, a refusal per rejected one."""

    batch: WriteBatch = field(default_factory=WriteBatch)
    refusals: list[Refusal] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {"refused": len(self.refusals)}
        for result in self.batch.results:
            key = result.outcome.value.lower()
            out[key] = out.get(key, 0) + 1
        return out


async def apply(
    engine: AsyncEngine,
    partner_name: str,
    drafts: Iterable[MissionDraft],
    now: datetime | None = None,
) -> IngestReport:
    """Validate, enrich and write one batch of a partner's drafts, all in one transaction."""
    now = now or datetime.now(UTC)
    report = IngestReport()
    accepted: list[Prepared] = []
    for draft in drafts:
        outcome = prepare(draft)
        if isinstance(outcome, Refusal):
            report.refusals.append(outcome)
        else:
            accepted.append(outcome)
    async with engine.begin() as conn:
        partner = await ensure_partner(conn, partner_name, now)
        report.batch = await upsert_missions(conn, partner, accepted, now)
    return report


async def close(
    engine: AsyncEngine, partner_name: str, external_ids: Sequence[str], now: datetime | None = None
) -> WriteBatch:
    """Close the partner's missions with these ids, in one transaction."""
    now = now or datetime.now(UTC)
    async with engine.begin() as conn:
        partner = await ensure_partner(conn, partner_name, now)
        return await close_missions(conn, partner, external_ids, now)
