"""The one write path for missions: pipeline.prepare and the writer in one transaction, then the
change events published, after commit.

Pulled and pushed batches both come through `MissionWriter.apply`: refusals are kept with their
reasons, unmapped labels are counted per partner, and the change events are written with the
rows. The push mutations and the sync runner only adapt their inputs and outputs to it; nothing
else writes missions or publishes their events.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence, Set
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.catalogue.model import MissionDraft, MissionStatus, Refusal
from hub.catalogue.records import PartnerRecord
from hub.clock import Clock, ManualClock
from hub.ingest.pipeline import Prepared, prepare
from hub.storage import (
    WriteBatch,
    WriteOutcome,
    WriteResult,
    absent_from,
    close_missions,
    count_unmapped,
    ended_open_missions,
    ensure_partner,
    expire_created,
    label_map,
    label_maps,
    mission_id,
    open_external_ids,
    partner_pks,
    record_refusals,
    relabel_missions,
    set_last_good_snapshot_size,
    stored_statuses,
    upsert_missions,
)

__all__ = [
    "InTransaction",
    "Incoming",
    "IngestReport",
    "MissionWriter",
    "Publish",
    "Source",
    "apply",
    "close",
]

Publish = Callable[[list[int]], Awaitable[None]]
# Open missions closed a transaction by `MissionWriter.close_all` (each is loaded with its match
# state to write its event: memory grows with this, not with the partner's size).
CLOSE_ALL_CHUNK = 5_000
# What a batch holds: drafts, refusals, or drafts a sync prepared ahead of the write
# (hub.sync.runner prepares the next batch while the previous one is written).
Incoming = MissionDraft | Refusal | Prepared
# Called in a batch's transaction once it is written (the sync runner keeps its run's counts
# there, so that a run killed at any moment has the counts of exactly what it wrote).
InTransaction = Callable[[AsyncConnection, "IngestReport"], Awaitable[None]]


class Source(enum.StrEnum):
    """Where a batch came from, as kept with its refusals."""

    PULL = "PULL"
    PUSH = "PUSH"


@dataclass(slots=True)
class IngestReport:
    """What one batch did: a write result per accepted draft, a refusal per rejected one, and
    the closes asked for with it."""

    batch: WriteBatch = field(default_factory=WriteBatch)
    refusals: list[Refusal] = field(default_factory=list)
    # Position of each draft of the batch: ("ok", index in batch.results) or ("refused", index)
    order: list[tuple[str, int]] = field(default_factory=list)
    closed: WriteBatch = field(default_factory=WriteBatch)
    # Missions of the batch that became EXPIRED (past their end date): created so, or closed.
    expired: int = 0
    expired_batch: WriteBatch = field(default_factory=WriteBatch)

    @property
    def event_seqs(self) -> list[int]:
        """The log positions the batch wrote, in order."""
        return self.batch.event_seqs + self.expired_batch.event_seqs + self.closed.event_seqs

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {"refused": len(self.refusals)}
        for result in self.batch.results:
            key = result.outcome.value.lower()
            out[key] = out.get(key, 0) + 1
        closed = sum(1 for r in self.closed.results if r.outcome is WriteOutcome.CLOSED)
        out["closed"] = out.get("closed", 0) + closed
        if self.expired:
            out["expired"] = self.expired
        return out


def _unmapped(prepared: Iterable[Prepared]) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    for item in prepared:
        counts.update(("cause", label[:200]) for label in item.raw.get("unmapped_causes", ()))
        counts.update(("skill", label[:200]) for label in item.raw.get("unmapped_skills", ()))
    return counts


async def _apply_in(
    conn: AsyncConnection,
    partner: PartnerRecord,
    drafts: Iterable[Incoming],
    now: datetime,
    source: Source,
    sync_run_pk: int | None,
) -> IngestReport:
    report = IngestReport()
    accepted: list[Prepared] = []
    labels = None
    for item in drafts:
        if isinstance(item, Refusal | Prepared):
            outcome: Prepared | Refusal = item
        else:
            labels = labels or await label_map(conn, partner.pk)
            outcome = prepare(item, labels)
        if isinstance(outcome, Refusal):
            report.order.append(("refused", len(report.refusals)))
            report.refusals.append(outcome)
        else:
            report.order.append(("ok", len(accepted)))
            accepted.append(outcome)
    report.batch = await _upsert_expiring(conn, partner, accepted, now, report)
    await record_refusals(conn, partner.pk, report.refusals, source.value, now, sync_run_pk)
    await count_unmapped(conn, partner.pk, _unmapped(accepted), now)
    return report


def _ended(prepared: Prepared, now: datetime) -> bool:
    end = prepared.draft.end_at
    return end is not None and end < now


async def _upsert_expiring(
    conn: AsyncConnection,
    partner: PartnerRecord,
    accepted: list[Prepared],
    now: datetime,
    report: IngestReport,
) -> WriteBatch:
    """Upsert, a mission past its end date (by the hub's clock) becoming EXPIRED.

    One the store already holds closed or expired is left as it is (UNCHANGED): rewriting it
    would reopen it for an instant. A new one is created EXPIRED; an open one is expired, with
    the CLOSED event that takes it out of subscribers' filters.
    """
    ended = [p.draft.external_id for p in accepted if _ended(p, now)]
    stored = await stored_statuses(conn, partner.pk, ended) if ended else {}
    settled = {ext for ext, status in stored.items() if status is not MissionStatus.OPEN}
    created = [ext for ext in dict.fromkeys(ended) if ext not in stored]
    written = await upsert_missions(
        conn,
        partner,
        [p for p in accepted if p.draft.external_id not in settled],
        now,
        expire=frozenset(created),
    )
    if not ended:
        return written
    results = iter(written.results)
    batch = WriteBatch(event_seqs=written.event_seqs)
    for prepared in accepted:
        ext = prepared.draft.external_id
        if ext in settled:
            result = WriteResult(ext, WriteOutcome.UNCHANGED, mission_id(partner.name, ext))
            batch.results.append(result)
        else:
            batch.results.append(next(results))
    born_expired = set(written.expired)  # written EXPIRED already (alone in their clusters)
    report.expired = len(born_expired) + await expire_created(
        conn,
        partner.pk,
        [ext for ext in created if ext not in born_expired],
        written.event_seqs,
        now,
    )
    still_open = [ext for ext in dict.fromkeys(ended) if stored.get(ext) is MissionStatus.OPEN]
    if still_open:
        report.expired_batch = await close_missions(
            conn, partner, still_open, now, status=MissionStatus.EXPIRED
        )
        report.expired += sum(
            1 for r in report.expired_batch.results if r.outcome is WriteOutcome.CLOSED
        )
    return batch


class MissionWriter:
    """Writes missions, each call one transaction, and publishes the events after commit.

    Built once by the app factory (or a command) with the engine, the hub's clock and the
    callback that tells subscribers (`LiveEvents.published`); None publishes nothing.
    """

    def __init__(self, engine: AsyncEngine, clock: Clock, publish: Publish | None = None) -> None:
        self.engine = engine
        self.clock = clock
        self.publish = publish

    async def _published(self, seqs: list[int]) -> None:
        if seqs and self.publish is not None:
            await self.publish(seqs)

    async def apply(
        self,
        partner: str,
        drafts: Iterable[Incoming],
        *,
        source: Source = Source.PULL,
        sync_run: int | None = None,
        close: Sequence[str] = (),
        then: InTransaction | None = None,
    ) -> IngestReport:
        """Validate, enrich and write one batch of a partner's drafts (refusals given as such are
        kept with the others, drafts already through `prepare` are written as they are), close
        `close`, and call `then`, all in one transaction."""
        now = self.clock.now()
        async with self.engine.begin() as conn:
            record = await ensure_partner(conn, partner, now)
            report = await _apply_in(conn, record, drafts, now, Source(source), sync_run)
            if close:
                report.closed = await close_missions(conn, record, close, now)
            if then is not None:
                await then(conn, report)
        await self._published(report.event_seqs)
        return report

    async def expire(self) -> WriteBatch:
        """EXPIRE every open mission whose end date has passed (by the hub's clock), with the
        CLOSED events that take them out of subscribers' filters; the scheduler calls it."""
        now = self.clock.now()
        out = WriteBatch()
        async with self.engine.begin() as conn:
            for name, external_ids in (await ended_open_missions(conn, now)).items():
                record = await ensure_partner(conn, name, now)
                batch = await close_missions(
                    conn, record, external_ids, now, status=MissionStatus.EXPIRED
                )
                out.results += batch.results
                out.event_seqs += batch.event_seqs
        await self._published(out.event_seqs)
        return out

    async def relabel(self, partner: str | None = None) -> WriteBatch:
        """Map the stored missions' raw labels again, after a label mapping changed: the
        partner's missions, or every partner's (None); those whose causes or skills change are
        written, with an UPDATED event each. No fetch."""
        now = self.clock.now()
        async with self.engine.begin() as conn:
            pks = await partner_pks(conn, partner)
            batch = await relabel_missions(conn, await label_maps(conn, pks), now)
        await self._published(batch.event_seqs)
        return batch

    async def close(self, partner: str, external_ids: Sequence[str]) -> WriteBatch:
        """Close the partner's missions with these ids (never deleted); unknown ids NOT_FOUND."""
        now = self.clock.now()
        async with self.engine.begin() as conn:
            record = await ensure_partner(conn, partner, now)
            batch = await close_missions(conn, record, external_ids, now)
        await self._published(batch.event_seqs)
        return batch

    async def close_absent(self, partner: str, seen: Set[str], *, snapshot: bool) -> WriteBatch:
        """Close what a complete pull did not list (a snapshot at once, a full pass of pages
        after two misses), and remember the pull's size for the shrink guard."""
        now = self.clock.now()
        async with self.engine.begin() as conn:
            record = await ensure_partner(conn, partner, now)
            to_close = await absent_from(conn, record.pk, seen, snapshot=snapshot)
            batch = await close_missions(conn, record, to_close, now)
            await set_last_good_snapshot_size(conn, record.pk, len(seen))
        await self._published(batch.event_seqs)
        return batch

    async def close_all(self, partner: str, *, chunk: int = CLOSE_ALL_CHUNK) -> WriteBatch:
        """Close every open mission of the partner (one that failed for too long), `chunk` at a
        time, each chunk in a transaction of its own and published when it commits: a partner
        of a million missions is never read into memory at once (closing loads each mission's
        match state for its event). A chunk that closed nothing ends it (nothing is left open,
        or something reopens missions as fast: the next call goes on)."""
        now = self.clock.now()
        out = WriteBatch()
        while True:
            async with self.engine.begin() as conn:
                record = await ensure_partner(conn, partner, now)
                stale = await open_external_ids(conn, record.pk, limit=chunk)
                batch = await close_missions(conn, record, stale, now)
            await self._published(batch.event_seqs)
            out.results += batch.results
            out.event_seqs += batch.event_seqs
            if not any(r.outcome is WriteOutcome.CLOSED for r in batch.results):
                return out


async def apply(
    engine: AsyncEngine,
    partner_name: str,
    drafts: Iterable[MissionDraft | Refusal],
    now: datetime,
    source: str = "PULL",
) -> IngestReport:
    """`MissionWriter.apply` at the moment `now`, publishing nothing (scripts, seeding)."""
    return await MissionWriter(engine, ManualClock(now)).apply(
        partner_name, drafts, source=Source(source)
    )


async def close(
    engine: AsyncEngine, partner_name: str, external_ids: Sequence[str], now: datetime
) -> WriteBatch:
    """`MissionWriter.close` at the moment `now`, publishing nothing."""
    return await MissionWriter(engine, ManualClock(now)).close(partner_name, external_ids)
