"""One sync of one partner: pull, write in batches, then decide what absence means.

Each batch is one transaction with its change events and the run's counts so far, so a sync
killed half-way leaves whole batches only, its run row says what they were, and a rerun
converges (unchanged records write nothing). Missions are closed for being absent only from a
complete pull that did not shrink suspiciously; a failing partner keeps its missions until it
has failed for `close_after_failing_days`.

A run that dies (process killed, machine lost) cannot say so itself: it writes a heartbeat every
`heartbeat_seconds` while it lives, and the next run of its partner, or the scheduler's tick,
marks it FAILED with the counts it wrote once its heartbeat is older than `stale_after` (on
PostgreSQL at once when the partner's lock is free: the lock dies with its holder's session).

Counts: `seen` is every record the run processed, each in exactly one of `created`, `updated`,
`unchanged` (a repeat included), `refused` and `withdrawn` (the partner's own "deleted" or
"unpublished"); `expired` (past their end date), `closed` (withdrawn, absent from a complete
pull, or failing too long) count missions, not records.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
import time
from array import array
from collections.abc import AsyncIterator, Callable, Set
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from connectors import Close, ConnectorError, Coverage, FetchResult, get_connector
from hub.catalogue.model import MissionDraft, Prepared, Refusal
from hub.catalogue.taxonomy import LabelMap
from hub.clock import Clock, SystemClock
from hub.ingest.listed import ListedIds
from hub.ingest.pipeline import prepare
from hub.ingest.pulling import PulledBatch, PullJob, PullProcess
from hub.ingest.service import IngestReport, MissionWriter, Publish, Source
from hub.observability.metrics import HubMetrics
from hub.settings import Settings
from hub.storage import (
    WriteOutcome,
    abandoned_runs,
    beat,
    fail_abandoned,
    fewer_collections,
    finish_run,
    label_map,
    last_good_snapshot_size,
    partner_lock,
    record_counts,
    record_failure,
    record_success,
    refresh_statistics,
    start_run,
)
from hub.sync.partners import PartnerSettings, load_partner

__all__ = ["SyncReport", "SyncRunner", "partner_lock"]

logger = logging.getLogger("hub.sync")


@dataclass(slots=True)
class SyncReport:
    partner: str
    status: str  # SUCCEEDED, SUSPICIOUS, FAILED, SKIPPED
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    # The log positions the run wrote, 8 bytes each (a million-mission first load writes two
    # million events: a list of ints would hold 70 MB of them).
    event_seqs: array[int] = field(default_factory=lambda: array("q"))


COUNTS = (
    "seen", "created", "updated", "unchanged", "refused", "withdrawn", "expired", "closed",
)  # fmt: skip
# What each written draft's outcome adds to; a repeat of a record in one batch wrote nothing.
_OUTCOME_COUNT = {
    WriteOutcome.CREATED: "created",
    WriteOutcome.UPDATED: "updated",
    WriteOutcome.UNCHANGED: "unchanged",
    WriteOutcome.DUPLICATE: "unchanged",
}


# A batch as the writer takes it: drafts through `prepare` (or refused by it), the partner's
# own refusals, and its withdrawals.
_Batch = list[Prepared | Refusal | Close]
_YIELD_EVERY = 50  # drafts prepared between two turns of the event loop (the write's awaits)


def _counts() -> dict[str, int]:
    return dict.fromkeys(COUNTS, 0)


def _add(counts: dict[str, int], report: IngestReport, closes: int) -> None:
    """One written batch into the run's counts."""
    for result in report.batch.results:
        counts[_OUTCOME_COUNT.get(result.outcome, "unchanged")] += 1
    counts["refused"] += len(report.refusals)
    counts["withdrawn"] += closes
    counts["seen"] += len(report.batch.results) + len(report.refusals) + closes
    counts["expired"] += report.expired
    counts["closed"] += sum(1 for r in report.closed.results if r.outcome is WriteOutcome.CLOSED)


class SyncRunner:
    def __init__(
        self,
        engine: AsyncEngine,
        http: httpx.AsyncClient,
        settings: Settings,
        publish: Publish | None = None,
        metrics: HubMetrics | None = None,
        clock: Clock | None = None,
        writer: MissionWriter | None = None,
        *,
        heartbeat_seconds: float = 30.0,
        stale_after: timedelta = timedelta(minutes=5),
    ) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()
        self.http = http
        self.settings = settings
        # Every mission write, and its events' publication, goes through the one write service.
        self.writer = writer or MissionWriter(engine, self.clock, publish)
        self._batches: dict[int, int] = {}  # batches written, by sync run
        self._writing: set[int] = set()  # runs with a batch being written
        self.metrics = metrics
        # A run silent for `stale_after` (ten heartbeats by default) has lost its process.
        self.heartbeat_seconds = heartbeat_seconds
        self.stale_after = stale_after

    async def sync(
        self,
        name: str,
        progress: Callable[[int], None] | None = None,
        now: datetime | None = None,
    ) -> SyncReport:
        """Pull `name` once, unless another replica is syncing it (SKIPPED)."""
        started = time.perf_counter()
        with fewer_collections():  # the whole sync allocates as a batch's write does
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

    async def _write(
        self,
        partner: PartnerSettings,
        run_pk: int,
        batch: _Batch,
        counts: dict[str, int],
        events: array[int],
    ) -> None:
        drafts = [outcome for outcome in batch if not isinstance(outcome, Close)]
        closes = [outcome.external_id for outcome in batch if isinstance(outcome, Close)]

        async def progress(conn: AsyncConnection, report: IngestReport) -> None:
            # In the batch's transaction: the run's row never disagrees with what it wrote.
            _add(counts, report, len(closes))
            await record_counts(conn, run_pk, self.clock.now(), counts)

        before = dict(counts)
        self._writing.add(run_pk)
        try:
            report = await self.writer.apply(
                partner.name,
                drafts,
                source=Source.PULL,
                sync_run=run_pk,
                close=closes,
                then=progress,
            )
        except BaseException:
            counts.update(before)  # rolled back: none of it was written
            raise
        finally:
            self._writing.discard(run_pk)
        self._batches[run_pk] = batches = self._batches.get(run_pk, 0) + 1
        if batches in (1, 4, 16, 64, 256):
            # A large first load outgrows PostgreSQL's statistics within minutes: without
            # them the (partner, external id) lookup filtered rows instead of using its index
            # (bench/ingest.py: 46% of a 50k sync; 40x faster after ANALYZE).
            await refresh_statistics(self.engine)
        events.extend(report.event_seqs)

    @contextlib.asynccontextmanager
    async def _heartbeat(self, run_pk: int) -> AsyncIterator[None]:
        """Tell the sync_runs row, every `heartbeat_seconds`, that this run's process lives
        (also while the partner is slow or the HTTP client waits between retries)."""

        async def beating() -> None:
            while True:
                await asyncio.sleep(self.heartbeat_seconds)
                if run_pk in self._writing:
                    continue  # the batch being written beats with its counts (and one writer
                    # at a time is all SQLite takes)
                try:
                    await beat(self.engine, run_pk, self.clock.now())
                except Exception:  # a missed beat is no reason to stop the sync
                    logger.warning("sync run %d: heartbeat not written", run_pk, exc_info=True)

        task = asyncio.create_task(beating(), name=f"sync-heartbeat-{run_pk}")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def reap(self, now: datetime | None = None) -> list[int]:
        """Mark FAILED the runs whose process is gone (heartbeat older than `stale_after`), each
        under its partner's lock; their counts stay as they last wrote them. The scheduler
        calls this on every tick; a new run of a partner does it for its own."""
        now = now or self.clock.now()
        failed: list[int] = []
        stale = await abandoned_runs(self.engine, now - self.stale_after)
        for partner_pk, name in dict.fromkeys((run.partner_pk, run.partner) for run in stale):
            async with partner_lock(self.engine, name) as taken:
                if taken:  # else its run is alive (PostgreSQL) or this process's own
                    failed += await fail_abandoned(
                        self.engine, partner_pk, now, now - self.stale_after
                    )
        if failed:
            logger.warning("sync runs %s had lost their process: marked FAILED", failed)
        return failed

    async def _sync(
        self, partner: PartnerSettings, progress: Callable[[int], None] | None, now: datetime
    ) -> SyncReport:
        # We hold the partner's lock: its RUNNING runs whose process is gone end FAILED.
        await fail_abandoned(self.engine, partner.pk, now, now - self.stale_after)
        counts = _counts()
        run_pk = await start_run(self.engine, partner.pk, now, counts=counts)
        async with self._heartbeat(run_pk):
            return await self._pull(partner, progress, run_pk, counts)

    async def _read(
        self,
        partner: PartnerSettings,
        progress: Callable[[int], None] | None,
        listed: str,
        batches: asyncio.Queue[_Batch | BaseException | None],
    ) -> FetchResult | None:
        """Pull the partner and hand the batches over prepared, while the previous batch is
        being written (by a process of its own with `sync_pull_process`); the ids the pull lists
        go to the file `listed` (hub.ingest.listed), closed when this returns. Returns the
        run's result (ends the queue with None, or the exception that stopped it)."""
        read = self._read_apart if self.settings.sync_pull_process else self._read_here
        try:
            result = await read(partner, progress, listed, batches)
        except BaseException as exc:
            await batches.put(exc)
            raise
        await batches.put(None)
        return result

    async def _read_here(
        self,
        partner: PartnerSettings,
        progress: Callable[[int], None] | None,
        listed: str,
        batches: asyncio.Queue[_Batch | BaseException | None],
    ) -> FetchResult | None:
        """In this process: the label map read once per batch, as the write would have read it."""
        batch: list[MissionDraft | Refusal | Close] = []
        connector = get_connector(partner.connector or "")(
            partner.connector_config(self.settings.sync_max_feed_bytes)
        )
        with ListedIds(listed) as ids:
            async with connector.run(self.http, partner.state, seen=ids.delivered) as run:
                async for outcome in run:
                    if isinstance(outcome, Refusal):
                        ids.refuse(outcome.external_id)
                    batch.append(outcome)
                    if progress is not None:
                        progress(1)
                    if len(batch) >= self.settings.sync_batch_size:
                        await batches.put(await self._prepared(partner, batch))
                        batch = []
                if batch:
                    await batches.put(await self._prepared(partner, batch))
                return run.result

    async def _read_apart(
        self,
        partner: PartnerSettings,
        progress: Callable[[int], None] | None,
        listed: str,
        batches: asyncio.Queue[_Batch | BaseException | None],
    ) -> FetchResult | None:
        """The pull and `prepare` done by a process of their own (PullProcess): the label map
        goes with the job, then again whenever the one read after a batch differs; the child
        writes the listed ids and closes their file before it says it is done."""
        job = PullJob(
            connector=partner.connector or "",
            config=partner.connector_config(self.settings.sync_max_feed_bytes),
            state=dict(partner.state),
            batch_size=self.settings.sync_batch_size,
            labels=await self._labels(partner),
            listed=listed,
        )
        async with PullProcess(job) as pull:
            while isinstance(pulled := await pull.next(), PulledBatch):
                if progress is not None:
                    progress(pulled.records)
                await batches.put(pulled.items)
                pull.labels(await self._labels(partner))
        return pulled

    async def _labels(self, partner: PartnerSettings) -> LabelMap:
        async with self.engine.connect() as conn:
            return await label_map(conn, partner.pk)

    async def _prepared(
        self, partner: PartnerSettings, batch: list[MissionDraft | Refusal | Close]
    ) -> _Batch:
        labels = await self._labels(partner)
        items: _Batch = []
        for outcome in batch:
            if isinstance(outcome, MissionDraft):
                items.append(prepare(outcome, labels))
            else:
                items.append(outcome)
            if len(items) % _YIELD_EVERY == 0:
                await asyncio.sleep(0)
        return items

    async def _pull(
        self,
        partner: PartnerSettings,
        progress: Callable[[int], None] | None,
        run_pk: int,
        counts: dict[str, int],
    ) -> SyncReport:
        events: array[int] = array("q")
        started = time.perf_counter()
        # The ids the pull lists go to a file of this run's own, removed with its directory.
        with tempfile.TemporaryDirectory(prefix="hub-sync-") as scratch:
            listed = os.path.join(scratch, "listed.sqlite3")
            # One batch prepared ahead at most: memory stays that of two batches.
            batches: asyncio.Queue[_Batch | BaseException | None] = asyncio.Queue(maxsize=1)
            reader = asyncio.create_task(
                self._read(partner, progress, listed, batches), name=f"sync-read-{run_pk}"
            )
            try:
                while (batch := await batches.get()) is not None:
                    if isinstance(batch, BaseException):
                        break
                    await self._write(partner, run_pk, batch, counts, events)
                result = await reader
                assert isinstance(result, FetchResult)
            except Exception as exc:  # a partner's failure must never take the hub down
                if not isinstance(exc, ConnectorError):
                    logger.exception("sync of %s failed unexpectedly", partner.name)
                return await self._failed(partner, run_pk, counts, events, exc)
            finally:
                if not reader.done():
                    reader.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await reader
            with ListedIds(listed) as seen:
                status, closed = await self._absence(partner, result.coverage, seen, events)
        counts["closed"] += closed
        finished = self.clock.now()
        async with self.engine.begin() as conn:
            await finish_run(conn, run_pk, status, finished, counts)
            await record_success(
                conn,
                partner.pk,
                result.state,
                finished,
                None if status == "SUCCEEDED" else f"{status}: see the last run",
            )
        logger.info(
            "sync of %s: %s in %.1fs %s",
            partner.name,
            status,
            time.perf_counter() - started,
            counts,
        )
        return SyncReport(partner.name, status, counts, None, events)

    async def _absence(
        self, partner: PartnerSettings, coverage: Coverage, seen: Set[str], events: array[int]
    ) -> tuple[str, int]:
        """Close what a complete pull no longer lists, unless the pull looks wrong."""
        if coverage is Coverage.INCREMENTAL:
            return "SUCCEEDED", 0
        last_good = await last_good_snapshot_size(self.engine, partner.pk)
        size = len(seen)
        if not size or (last_good and size < last_good / 2):
            logger.warning(
                "sync of %s: %d missions where the last good pull had %s; closing nothing",
                partner.name, size, last_good,
            )  # fmt: skip
            return "SUSPICIOUS", 0
        closed = await self.writer.close_absent(
            partner.name, seen, snapshot=coverage is Coverage.SNAPSHOT
        )
        events.extend(closed.event_seqs)
        return "SUCCEEDED", sum(1 for r in closed.results if r.outcome.value == "CLOSED")

    async def _failed(
        self,
        partner: PartnerSettings,
        run_pk: int,
        counts: dict[str, int],
        events: array[int],
        exc: Exception,
    ) -> SyncReport:
        now = self.clock.now()
        message = f"{type(exc).__name__}: {exc}"[:2000]
        settings = self.settings
        async with self.engine.begin() as conn:
            failures, failing_since = await record_failure(
                conn,
                partner.pk,
                now,
                message,
                circuit_failures=settings.circuit_failures,
                circuit_open=timedelta(seconds=settings.circuit_open_seconds),
            )
        if now - failing_since >= timedelta(days=settings.close_after_failing_days):
            # Failing for too long: what we hold of it may no longer be true.
            closed = await self.writer.close_all(partner.name)
            counts["closed"] += sum(r.outcome is WriteOutcome.CLOSED for r in closed.results)
            events.extend(closed.event_seqs)
        async with self.engine.begin() as conn:
            await finish_run(conn, run_pk, "FAILED", now, counts, message)
        if failures == 1 or failures == settings.circuit_failures:
            logger.warning("sync of %s failed (%d in a row): %s", partner.name, failures, message)
        return SyncReport(partner.name, "FAILED", counts, message, events)
