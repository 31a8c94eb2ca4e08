"""One sync of one partner: pull, write in batches, then decide what absence means.

Each batch is one transaction with its change events, so a sync killed half-way leaves whole
batches only, and a rerun converges (unchanged records write nothing). Missions are closed for
being absent only from a complete pull that did not shrink suspiciously; a failing partner keeps
its missions until it has failed for `close_after_failing_days`.
"""

from __future__ import annotations

import contextlib
import logging
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from connectors import Close, ConnectorError, Coverage, Refused, get_connector
from hub.catalogue.model import MissionDraft, MissionStatus
from hub.clock import Clock, SystemClock
from hub.ingest.pipeline import Refusal
from hub.ingest.service import apply_in
from hub.observability.metrics import HubMetrics
from hub.settings import Settings
from hub.storage.tables import missions, partners, sync_runs
from hub.storage.writer import close_missions, ensure_partner
from hub.sync.partners import PartnerSettings, load_partner

__all__ = ["SyncReport", "SyncRunner", "partner_lock"]

logger = logging.getLogger("hub.sync")

Publish = Callable[[list[int]], Awaitable[None]]
_local_locks: dict[str, bool] = {}


@contextlib.asynccontextmanager
async def partner_lock(engine: AsyncEngine, name: str) -> AsyncIterator[bool]:
    """One sync of a partner at a time: a PostgreSQL advisory lock across replicas, a flag in
    this process on SQLite (one process is all SQLite serves). Yields whether it was taken."""
    if engine.dialect.name == "postgresql":
        key = zlib.crc32(f"entraide-hub:sync:{name}".encode())
        async with engine.connect() as conn:
            got = bool(
                (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})).scalar()
            )
            await conn.commit()
            try:
                yield got
            finally:
                if got:
                    await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    await conn.commit()
        return
    if _local_locks.get(name):
        yield False
        return
    _local_locks[name] = True
    try:
        yield True
    finally:
        _local_locks.pop(name, None)


@dataclass(slots=True)
class SyncReport:
    partner: str
    status: str  # SUCCEEDED, SUSPICIOUS, FAILED, SKIPPED
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    event_seqs: list[int] = field(default_factory=list)


def _counts() -> dict[str, int]:
    return dict.fromkeys(("seen", "created", "updated", "unchanged", "closed", "refused"), 0)


class SyncRunner:
    def __init__(
        self,
        engine: AsyncEngine,
        http: httpx.AsyncClient,
        settings: Settings,
        publish: Publish | None = None,
        metrics: HubMetrics | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()
        self.http = http
        self.settings = settings
        self.publish = publish
        self._batches: dict[int, int] = {}  # batches written, by sync run
        self.metrics = metrics

    async def sync(
        self,
        name: str,
        progress: Callable[[int], None] | None = None,
        now: datetime | None = None,
    ) -> SyncReport:
        """Pull `name` once, unless another replica is syncing it (SKIPPED)."""
        started = time.perf_counter()
        report = await self._sync_once(name, progress, now)
        if self.metrics is not None:
            seconds = time.perf_counter() - started
            self.metrics.sync_run(report.partner, report.status, seconds, report.counts)
        return report

    async def _sync_once(
        self, name: str, progress: Callable[[int], None] | None, now: datetime | None
    ) -> SyncReport:
        partner = await load_partner(self.engine, name)
        if partner is None or not partner.connector:
            return SyncReport(name, "SKIPPED", error="no such pulled partner")
        async with partner_lock(self.engine, name) as taken:
            if not taken:
                return SyncReport(name, "SKIPPED", error="another sync of this partner is running")
            return await self._sync(partner, progress, now or self.clock.now())

    async def _start(self, partner: PartnerSettings, now: datetime) -> int:
        async with self.engine.begin() as conn:
            # We hold the partner's lock: a RUNNING run of it was interrupted (process killed).
            await conn.execute(
                update(sync_runs)
                .where(sync_runs.c.partner_pk == partner.pk, sync_runs.c.status == "RUNNING")
                .values(status="FAILED", finished_at=now, error="interrupted")
            )
            pk = (
                await conn.execute(
                    insert(sync_runs).returning(sync_runs.c.pk),
                    {
                        "partner_pk": partner.pk,
                        "kind": "PULL",
                        "status": "RUNNING",
                        "started_at": now,
                        "counts": {},
                    },
                )
            ).scalar_one()
        return int(pk)

    async def _write(
        self,
        partner: PartnerSettings,
        run_pk: int,
        batch: list[MissionDraft | Refused | Close],
        counts: dict[str, int],
        events: list[int],
    ) -> None:
        drafts: list[MissionDraft | Refusal] = []
        closes: list[str] = []
        for outcome in batch:
            if isinstance(outcome, Refused):
                drafts.append(Refusal(outcome.external_id, outcome.reason))
            elif isinstance(outcome, Close):
                closes.append(outcome.external_id)
            else:
                drafts.append(outcome)
        now = self.clock.now()
        async with self.engine.begin() as conn:
            record = await ensure_partner(conn, partner.name, now)
            report = await apply_in(conn, record, drafts, now, "PULL", run_pk)
            closed = await close_missions(conn, record, closes, now)
        for key, value in report.counts().items():
            if key in counts:
                counts[key] += value
        counts["closed"] += sum(1 for r in closed.results if r.outcome.value == "CLOSED")
        self._batches[run_pk] = batches = self._batches.get(run_pk, 0) + 1
        if self.engine.dialect.name == "postgresql" and batches in (1, 4, 16, 64, 256):
            # A large first load outgrows the planner's statistics within minutes: without
            # them the (partner, external id) lookup filtered rows instead of using its index
            # (bench/ingest.py: 46% of a 50k sync; 40x faster after ANALYZE).
            async with self.engine.begin() as conn:
                await conn.execute(text("ANALYZE missions, mission_locations"))
        seqs = report.batch.event_seqs + closed.event_seqs
        events += seqs
        if seqs and self.publish is not None:
            await self.publish(seqs)

    async def _sync(
        self, partner: PartnerSettings, progress: Callable[[int], None] | None, now: datetime
    ) -> SyncReport:
        run_pk = await self._start(partner, now)
        counts = _counts()
        events: list[int] = []
        seen: set[str] = set()
        batch: list[MissionDraft | Refused | Close] = []
        started = time.perf_counter()
        try:
            connector = get_connector(partner.connector or "")(partner.connector_config())
            async with connector.run(self.http, partner.state) as run:
                async for outcome in run:
                    if outcome.external_id is not None:
                        seen.add(outcome.external_id)
                    batch.append(outcome)
                    if progress is not None:
                        progress(1)
                    if len(batch) >= self.settings.sync_batch_size:
                        await self._write(partner, run_pk, batch, counts, events)
                        batch = []
                if batch:
                    await self._write(partner, run_pk, batch, counts, events)
                result = run.result
            assert result is not None
        except Exception as exc:  # a partner's failure must never take the hub down
            if not isinstance(exc, ConnectorError):
                logger.exception("sync of %s failed unexpectedly", partner.name)
            return await self._failed(partner, run_pk, counts, events, exc)
        counts["seen"] = len(seen)
        status, closed = await self._absence(partner, result.coverage, seen, events)
        counts["closed"] += closed
        finished = self.clock.now()
        async with self.engine.begin() as conn:
            await conn.execute(
                update(sync_runs)
                .where(sync_runs.c.pk == run_pk)
                .values(status=status, finished_at=finished, counts=counts)
            )
            await conn.execute(
                update(partners)
                .where(partners.c.pk == partner.pk)
                .values(
                    state=result.state,
                    last_success_at=finished,
                    failing_since=None,
                    consecutive_failures=0,
                    circuit_open_until=None,
                    last_error=None if status == "SUCCEEDED" else f"{status}: see the last run",
                )
            )
        logger.info(
            "sync of %s: %s in %.1fs %s",
            partner.name,
            status,
            time.perf_counter() - started,
            counts,
        )
        return SyncReport(partner.name, status, counts, None, events)

    async def _open_missions(self, conn: AsyncConnection, partner_pk: int) -> dict[str, Any]:
        rows = await conn.execute(
            select(missions.c.external_id, missions.c.pk, missions.c.missed_syncs).where(
                missions.c.partner_pk == partner_pk,
                missions.c.status == MissionStatus.OPEN.value,
            )
        )
        return {row.external_id: row for row in rows}

    async def _absence(
        self, partner: PartnerSettings, coverage: Coverage, seen: set[str], events: list[int]
    ) -> tuple[str, int]:
        """Close what a complete pull no longer lists, unless the pull looks wrong."""
        if coverage is Coverage.INCREMENTAL:
            return "SUCCEEDED", 0
        async with self.engine.connect() as conn:
            last_good = (
                await conn.execute(
                    select(partners.c.last_good_snapshot_size).where(partners.c.pk == partner.pk)
                )
            ).scalar_one()
        if not seen or (last_good and len(seen) < last_good / 2):
            logger.warning(
                "sync of %s: %d missions where the last good pull had %s; closing nothing",
                partner.name, len(seen), last_good,
            )  # fmt: skip
            return "SUSPICIOUS", 0
        now = self.clock.now()
        async with self.engine.begin() as conn:
            open_now = await self._open_missions(conn, partner.pk)
            missing = [row for ext, row in open_now.items() if ext not in seen]
            if coverage is Coverage.SNAPSHOT:
                to_close = [row.external_id for row in missing]
            else:  # FULL_PASS: pages can shift while read; two misses in a row close
                to_close = [row.external_id for row in missing if row.missed_syncs + 1 >= 2]
                await conn.execute(
                    update(missions)
                    .where(missions.c.partner_pk == partner.pk, missions.c.missed_syncs > 0)
                    .values(missed_syncs=0)
                )
                keep = [row for row in missing if row.external_id not in to_close]
                if keep:
                    await conn.execute(
                        update(missions)
                        .where(missions.c.pk == bindparam("b_pk"))
                        .values(missed_syncs=bindparam("b_missed")),
                        [{"b_pk": row.pk, "b_missed": row.missed_syncs + 1} for row in keep],
                    )
            record = await ensure_partner(conn, partner.name, now)
            closed = await close_missions(conn, record, to_close, now)
            await conn.execute(
                update(partners)
                .where(partners.c.pk == partner.pk)
                .values(last_good_snapshot_size=len(seen))
            )
        events += closed.event_seqs
        if closed.event_seqs and self.publish is not None:
            await self.publish(closed.event_seqs)
        return "SUCCEEDED", len(to_close)

    async def _failed(
        self,
        partner: PartnerSettings,
        run_pk: int,
        counts: dict[str, int],
        events: list[int],
        exc: Exception,
    ) -> SyncReport:
        now = self.clock.now()
        message = f"{type(exc).__name__}: {exc}"[:2000]
        settings = self.settings
        async with self.engine.begin() as conn:
            row = (
                await conn.execute(
                    select(partners.c.consecutive_failures, partners.c.failing_since).where(
                        partners.c.pk == partner.pk
                    )
                )
            ).one()
            failures = row.consecutive_failures + 1
            failing_since = row.failing_since or now
            values: dict[str, Any] = {
                "consecutive_failures": failures,
                "failing_since": failing_since,
                "last_error": message,
            }
            if failures >= settings.circuit_failures:
                values["circuit_open_until"] = now + timedelta(
                    seconds=settings.circuit_open_seconds
                )
            await conn.execute(update(partners).where(partners.c.pk == partner.pk).values(values))
            closed_count = 0
            closed_seqs: list[int] = []
            if now - failing_since >= timedelta(days=settings.close_after_failing_days):
                # Failing for too long: what we hold of it may no longer be true.
                stale = await self._open_missions(conn, partner.pk)
                record = await ensure_partner(conn, partner.name, now)
                closed = await close_missions(conn, record, list(stale), now)
                closed_count = len(closed.event_seqs)
                closed_seqs = closed.event_seqs
                events += closed_seqs
            counts["closed"] += closed_count
            await conn.execute(
                update(sync_runs)
                .where(sync_runs.c.pk == run_pk)
                .values(status="FAILED", finished_at=now, counts=counts, error=message)
            )
        if failures == 1 or failures == settings.circuit_failures:
            logger.warning("sync of %s failed (%d in a row): %s", partner.name, failures, message)
        if closed_seqs and self.publish is not None:
            await self.publish(closed_seqs)  # the batches before the failure were published
        return SyncReport(partner.name, "FAILED", counts, message, events)
