"""Syncs against simulated partners on loopback: what is written, closed, kept, and reported."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from connectors import ConnectorConfig
from hub.catalogue.model import Prepared, Refusal
from hub.clock import ManualClock
from hub.ingest.service import MissionWriter
from hub.settings import Settings
from hub.storage import start_run
from hub.storage.db import make_engine
from hub.storage.tables import mission_events, missions, partners, refused_records, sync_runs
from hub.sync import SyncReport, SyncRunner, add_partner
from hub.sync.runner import COUNTS
from hub.sync.scheduler import Scheduler
from tests.conftest import TEST_NOW, GraphQL, run
from tests.partners import PARTNERS, SimulatedPartner
from tests.servers import poll_until

# The hub's clock in these syncs: before any mission of the simulated catalogue ends (they end
# from 2026-01-15 on), so that none expires unless a test moves the clock.
BEFORE_ANY_END = datetime(2026, 1, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def simulated() -> Iterator[dict[str, SimulatedPartner]]:
    started: dict[str, SimulatedPartner] = {}

    def get(name: str) -> SimulatedPartner:
        if name not in started:
            started[name] = PARTNERS[name]().start()
        return started[name]

    yield _Lazy(get)  # type: ignore[misc]
    for partner in started.values():
        partner.stop()


class _Lazy(dict[str, SimulatedPartner]):
    def __init__(self, get: Any) -> None:
        super().__init__()
        self._get = get

    def __missing__(self, name: str) -> SimulatedPartner:
        partner: SimulatedPartner = self._get(name)
        partner.reset()
        return partner


def config_of(config: ConnectorConfig) -> dict[str, Any]:
    return {
        "api_key": config.api_key,
        "username": config.username,
        "password": config.password,
        "page_size": config.page_size,
        "timeout": config.timeout,
        "retry": dataclasses.asdict(config.retry),
    }


class Hub:
    """The hub's sync side, on the test database."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.clock = ManualClock(BEFORE_ANY_END)

    def add(self, name: str, partner: SimulatedPartner, every: str = "15m") -> None:
        config = partner.config()

        async def go() -> None:
            engine = make_engine(self.settings)
            try:
                await add_partner(
                    engine,
                    name,
                    connector=partner.connector_name,
                    url=config.url,
                    every=every,
                    push_only=False,
                    config=config_of(config),
                    now=TEST_NOW,
                )
            finally:
                await engine.dispose()

        run(go())

    def sync(self, name: str, **overrides: Any) -> SyncReport:
        settings = self.settings.model_copy(update=overrides)

        async def go() -> SyncReport:
            engine = make_engine(settings)
            try:
                async with httpx.AsyncClient() as http:
                    return await SyncRunner(engine, http, settings, clock=self.clock).sync(name)
            finally:
                await engine.dispose()

        return run(go())  # type: ignore[no-any-return]

    def scalar(self, stmt: Any) -> Any:
        async def go() -> Any:
            engine = make_engine(self.settings)
            try:
                async with engine.connect() as conn:
                    return (await conn.execute(stmt)).scalar()
            finally:
                await engine.dispose()

        return run(go())

    def open_count(self, name: str) -> int:
        return int(
            self.scalar(
                select(func.count())
                .select_from(missions.join(partners, partners.c.pk == missions.c.partner_pk))
                .where(partners.c.name == name, missions.c.status == "OPEN")
            )
        )


@pytest.fixture
def hub(settings: Settings) -> Hub:
    return Hub(settings)


def test_xml_feed_sync_writes_then_writes_nothing(
    hub: Hub, simulated: dict[str, SimulatedPartner], data: GraphQL
) -> None:
    feed = simulated["api-engagement-xml"]
    hub.add("feed", feed)
    first = hub.sync("feed")
    assert first.status == "SUCCEEDED", first.error
    assert first.counts["created"] == feed.count == first.counts["seen"]
    again = hub.sync("feed")
    assert again.counts["unchanged"] == feed.count and again.counts["created"] == 0
    assert len(again.event_seqs) == 0  # nothing changed, nothing to tell subscribers
    [partner] = data(
        "{ partners { name health lastSuccessAt lastSync { status counts { seen unchanged } } } }"
    )["partners"]
    assert partner["health"] == "OK" and partner["lastSuccessAt"]
    assert partner["lastSync"] == {
        "status": "SUCCEEDED",
        "counts": {"seen": feed.count, "unchanged": feed.count},
    }


def test_missing_from_a_snapshot_is_closed_but_a_shrunk_or_empty_feed_closes_nothing(
    hub: Hub, simulated: dict[str, SimulatedPartner]
) -> None:
    feed = simulated["api-engagement-xml"]
    feed.resize(30)
    hub.add("feed", feed)
    hub.sync("feed")
    feed.resize(20)  # a third gone: normal churn
    report = hub.sync("feed")
    assert (report.status, report.counts["closed"]) == ("SUCCEEDED", 10)
    assert hub.open_count("feed") == 20
    feed.resize(8)  # less than half of the last good pull: suspicious
    report = hub.sync("feed")
    assert (report.status, report.counts["closed"]) == ("SUSPICIOUS", 0)
    assert hub.open_count("feed") == 20
    feed.resize(0)  # empty feed
    assert hub.sync("feed").status == "SUSPICIOUS"
    assert hub.open_count("feed") == 20


def test_malformed_records_are_refused_with_reasons_and_the_rest_goes_on(
    hub: Hub, simulated: dict[str, SimulatedPartner]
) -> None:
    feed = simulated["api-engagement-xml"]
    feed.faults.malformed = True
    hub.add("feed", feed)
    report = hub.sync("feed")
    assert report.status == "SUCCEEDED"
    assert report.counts["refused"] == feed.malformed_count > 0
    assert report.counts["created"] == feed.count
    reasons = hub.scalar(select(func.count()).select_from(refused_records))
    assert reasons == feed.malformed_count


def test_an_outage_keeps_missions_then_opens_the_circuit_then_closes_stale_ones(
    hub: Hub, simulated: dict[str, SimulatedPartner], data: GraphQL
) -> None:
    feed = simulated["api-engagement-xml"]
    hub.add("feed", feed)
    hub.sync("feed")
    feed.faults.errors = 10_000
    for attempt in range(1, 4):
        report = hub.sync("feed")
        assert report.status == "FAILED" and "500" in (report.error or "")
        assert hub.open_count("feed") == feed.count  # a partner's bad day loses nothing
        health = data("{ partners { health lastError } }")["partners"][0]
        assert health["health"] == ("FAILING" if attempt == 3 else "DEGRADED")
        assert "500" in health["lastError"]
    # Failing longer than the configured time: its missions are closed as stale.
    hub.clock.advance(seconds=1)
    report = hub.sync("feed", close_after_failing_days=1e-9)
    assert report.counts["closed"] == feed.count
    assert hub.open_count("feed") == 0


def test_a_truncated_feed_fails_and_closes_nothing_then_a_rerun_converges(
    hub: Hub, simulated: dict[str, SimulatedPartner]
) -> None:
    feed = simulated["api-engagement-xml"]
    hub.add("feed", feed)
    hub.sync("feed")
    feed.faults.truncate = True
    report = hub.sync("feed", sync_batch_size=4)
    assert report.status == "FAILED" and "FeedError" in (report.error or "")
    assert hub.open_count("feed") == feed.count
    # The batches written before the feed broke are counted, consistently, on the FAILED run.
    assert report.counts["seen"] == report.counts["unchanged"] > 0
    assert consistent(report.counts)
    assert last_run(hub)["counts"] == report.counts
    feed.faults.truncate = False
    assert hub.sync("feed").counts["unchanged"] == feed.count


def test_an_xml_bomb_is_refused(hub: Hub, simulated: dict[str, SimulatedPartner]) -> None:
    feed = simulated["api-engagement-xml"]
    feed.faults.bomb = "billion-laughs"
    hub.add("feed", feed)
    report = hub.sync("feed")
    assert report.status == "FAILED" and "FeedError" in (report.error or "")
    assert hub.open_count("feed") == 0


def test_offset_paging_closes_after_two_misses(
    hub: Hub, simulated: dict[str, SimulatedPartner]
) -> None:
    api = simulated["api-engagement-api"]
    api.resize(20)
    hub.add("aggregator", api)
    assert hub.sync("aggregator").counts["created"] == 20
    api.resize(15)
    assert hub.sync("aggregator").counts["closed"] == 0  # missed once: kept
    assert hub.open_count("aggregator") == 20
    assert hub.sync("aggregator").counts["closed"] == 5  # missed twice: closed
    assert hub.open_count("aggregator") == 15


def test_since_cursor_survives_between_runs_and_unpublished_listings_close(
    hub: Hub, simulated: dict[str, SimulatedPartner], settings: Settings
) -> None:
    idealist = simulated["idealist-json"]
    hub.add("idealist", idealist)
    first = hub.sync("idealist")
    assert first.status == "SUCCEEDED" and first.counts["created"] > 0
    state = hub.scalar(select(partners.c.state).where(partners.c.name == "idealist"))
    assert state, "the connector's cursor is stored"
    hits = len(idealist.hits)
    second = hub.sync("idealist")  # a new process would start from the stored cursor too
    assert second.counts["created"] == 0
    assert len(idealist.hits) - hits < hits, "the second pull asked only for what changed"


def test_two_syncs_of_one_partner_never_overlap(
    hub: Hub, simulated: dict[str, SimulatedPartner], settings: Settings
) -> None:
    feed = simulated["api-engagement-xml"]
    feed.faults.slow = 1
    feed.faults.delay = 1.0
    hub.add("feed", feed)

    async def both() -> list[SyncReport]:
        engine = make_engine(settings)
        try:
            async with httpx.AsyncClient() as http:
                runner = SyncRunner(engine, http, settings, clock=hub.clock)
                return list(await asyncio.gather(runner.sync("feed"), runner.sync("feed")))
        finally:
            await engine.dispose()

    statuses = sorted(report.status for report in run(both()))
    assert statuses == ["SKIPPED", "SUCCEEDED"]


def test_scheduler_runs_due_partners_only(
    hub: Hub, simulated: dict[str, SimulatedPartner], settings: Settings
) -> None:
    feed = simulated["api-engagement-xml"]
    hub.add("feed", feed, every="1h")

    async def ticks() -> tuple[list[str], list[str]]:
        engine = make_engine(settings)
        try:
            async with httpx.AsyncClient() as http:
                runner = SyncRunner(engine, http, settings, clock=hub.clock)
                scheduler = Scheduler(engine, runner, settings)
                first = [r.partner for r in await scheduler.tick()]
                second = [r.partner for r in await scheduler.tick()]
                return first, second
        finally:
            await engine.dispose()

    assert run(ticks()) == (["feed"], [])


# The sync command's work, in a process of its own that the test kills, on the test's clock.
KILLED_SYNC = """
import asyncio, sys
from datetime import datetime
import httpx
from hub.clock import ManualClock
from hub.settings import load_settings
from hub.storage.db import make_engine
from hub.sync import SyncRunner

async def main():
    settings = load_settings()
    clock = ManualClock(datetime.fromisoformat(sys.argv[1]))
    async with httpx.AsyncClient() as http:
        await SyncRunner(make_engine(settings), http, settings, clock=clock).sync("feed")

asyncio.run(main())
"""


def last_run(hub: Hub) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        engine = make_engine(hub.settings)
        try:
            async with engine.connect() as conn:
                query = select(sync_runs).order_by(sync_runs.c.pk.desc()).limit(1)
                return dict((await conn.execute(query)).mappings().one())
        finally:
            await engine.dispose()

    return run(go())  # type: ignore[no-any-return]


def consistent(counts: dict[str, int]) -> bool:
    """Every record processed is counted once, in one of the outcomes."""
    outcomes = ("created", "updated", "unchanged", "refused", "withdrawn")
    return counts["seen"] == sum(counts[key] for key in outcomes)


def test_killing_a_sync_leaves_whole_batches_its_counts_and_a_failed_run(
    hub: Hub, simulated: dict[str, SimulatedPartner], settings: Settings
) -> None:
    feed = simulated["api-engagement-xml"]
    feed.resize(400)
    hub.add("feed", feed)
    env = {
        **os.environ,
        "HUB_DATABASE_URL": settings.database_url,
        "HUB_SYNC_BATCH_SIZE": "7",
        "HUB_DB_ECHO": "false",
    }
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_SYNC, hub.clock.now().isoformat()],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def writing() -> bool:
        assert process.poll() is None, "the sync ended before it was killed"
        return hub.scalar(select(func.count()).select_from(missions)) >= 30

    try:
        poll_until(writing, "the sync to write", 60)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    written = hub.scalar(select(func.count()).select_from(missions))
    events = hub.scalar(select(func.count()).select_from(mission_events))
    assert written % 7 == 0, "a batch was half written"
    assert events == written, "every written mission has its event, and only those"
    assert written < 400
    # The run's row was written with each batch: it says what the dead process wrote.
    killed = last_run(hub)
    assert killed["status"] == "RUNNING"
    assert killed["counts"]["created"] == killed["counts"]["seen"] == written
    assert killed["heartbeat_at"] == BEFORE_ANY_END
    hub.clock.advance(minutes=6)  # past the 5 minutes a live run's heartbeat is renewed within
    report = hub.sync("feed")
    assert report.status == "SUCCEEDED" and consistent(report.counts)
    assert (report.counts["created"], report.counts["unchanged"]) == (400 - written, written)
    assert hub.open_count("feed") == 400
    failed = hub.scalar(select(sync_runs.c.status).where(sync_runs.c.pk == killed["pk"]))
    assert failed == "FAILED"
    counts = hub.scalar(select(sync_runs.c.counts).where(sync_runs.c.pk == killed["pk"]))
    assert counts == killed["counts"] and consistent(counts)  # what it wrote, not zeros
    error = hub.scalar(select(sync_runs.c.error).where(sync_runs.c.pk == killed["pk"]))
    assert "interrupted" in error


def test_the_scheduler_fails_a_run_whose_heartbeat_stopped(
    hub: Hub, simulated: dict[str, SimulatedPartner], settings: Settings
) -> None:
    feed = simulated["api-engagement-xml"]
    hub.add("feed", feed, every="1h")
    written = {**dict.fromkeys(COUNTS, 0), "seen": 14, "created": 12, "refused": 2}

    async def dead_run() -> int:
        # A run whose process died after two batches: a RUNNING row, its counts, no process.
        engine = make_engine(settings)
        try:
            async with engine.connect() as conn:
                query = select(partners.c.pk).where(partners.c.name == "feed")
                partner_pk = (await conn.execute(query)).scalar_one()
            return await start_run(engine, partner_pk, hub.clock.now(), counts=written)
        finally:
            await engine.dispose()

    async def tick() -> list[SyncReport]:
        engine = make_engine(settings)
        try:
            async with httpx.AsyncClient() as http:
                runner = SyncRunner(engine, http, settings, clock=hub.clock)
                return await Scheduler(engine, runner, settings).tick()
        finally:
            await engine.dispose()

    def status() -> str:
        return str(hub.scalar(select(sync_runs.c.status).where(sync_runs.c.pk == pk)))

    pk = run(dead_run())
    hub.clock.advance(minutes=1)
    assert run(tick()) == []  # not due: its last run started a minute ago
    if not settings.database_url.startswith("postgresql"):
        # On SQLite one process's lock says nothing of another's run: the heartbeat must age.
        assert status() == "RUNNING"
        hub.clock.advance(minutes=5)
        assert run(tick()) == []
    # (On PostgreSQL the partner's advisory lock was free: its holder's session, and so the
    # run's process, is gone.)
    assert status() == "FAILED"
    assert hub.scalar(select(sync_runs.c.counts).where(sync_runs.c.pk == pk)) == written
    error = hub.scalar(select(sync_runs.c.error).where(sync_runs.c.pk == pk))
    assert error.startswith("interrupted: its process stopped")


def test_serve_runs_the_scheduler(
    hub: Hub, simulated: dict[str, SimulatedPartner], settings: Settings
) -> None:
    from starlette.testclient import TestClient

    from hub.web.app import create_app

    feed = simulated["api-engagement-xml"]
    hub.add("feed", feed, every="1h")
    scheduled = settings.model_copy(update={"scheduler": True, "scheduler_tick_seconds": 0.2})
    with TestClient(create_app(scheduled, ManualClock(BEFORE_ANY_END))):
        poll_until(lambda: hub.open_count("feed") >= feed.count, "the scheduler's sync", 30)
    assert hub.open_count("feed") == feed.count


def test_the_sync_command_exits_1_unless_every_run_succeeded(
    hub: Hub,
    simulated: dict[str, SimulatedPartner],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from hub.cli import main

    feed = simulated["api-engagement-xml"]
    feed.resize(30)
    hub.add("feed", feed)
    monkeypatch.setenv("HUB_DATABASE_URL", settings.database_url)
    assert main(["sync", "feed"]) == 0
    assert "feed: SUCCEEDED" in capsys.readouterr().out
    feed.resize(8)  # less than half the last good pull: SUSPICIOUS, which is not success
    assert main(["sync", "feed"]) == 1
    assert "feed: SUSPICIOUS" in capsys.readouterr().out
    feed.faults.errors = 10_000
    assert main(["sync", "feed"]) == 1
    assert "feed: FAILED" in capsys.readouterr().out


def test_a_sync_expires_what_has_ended_and_the_scheduler_what_ends_later(
    hub: Hub, simulated: dict[str, SimulatedPartner], settings: Settings
) -> None:
    feed = simulated["api-engagement-xml"]
    hub.add("feed", feed, every="1d")
    hub.clock = ManualClock(datetime(2026, 6, 1, 12, 0, tzinfo=UTC))
    ended = sum(1 for m in feed.missions() if m.end <= hub.clock.now().date())
    assert 0 < ended < feed.count, "the catalogue has missions on both sides of the date"
    report = hub.sync("feed")
    assert report.status == "SUCCEEDED" and consistent(report.counts)
    assert (report.counts["created"], report.counts["expired"]) == (feed.count, ended)
    assert hub.open_count("feed") == feed.count - ended
    published = hub.scalar(select(func.count()).select_from(mission_events))
    again = hub.sync("feed")  # re-seen: the expired stay expired, nothing is written
    assert again.counts["unchanged"] == feed.count and again.counts["expired"] == 0
    assert hub.scalar(select(func.count()).select_from(mission_events)) == published
    # Two months on, the scheduler's tick expires what has ended since, then syncs the partner.
    hub.clock.advance(days=60)
    later = sum(1 for m in feed.missions() if m.end <= hub.clock.now().date())
    assert later > ended

    async def tick() -> list[SyncReport]:
        engine = make_engine(settings)
        try:
            async with httpx.AsyncClient() as http:
                runner = SyncRunner(engine, http, settings, clock=hub.clock)
                return await Scheduler(engine, runner, settings).tick(hub.clock.now())
        finally:
            await engine.dispose()

    [synced] = run(tick())
    assert synced.status == "SUCCEEDED" and synced.counts["expired"] == 0  # the tick did it
    assert hub.open_count("feed") == feed.count - later


def test_a_run_beats_while_its_partner_is_slow(
    hub: Hub, simulated: dict[str, SimulatedPartner], settings: Settings
) -> None:
    feed = simulated["api-engagement-xml"]
    feed.faults.slow = 1
    feed.faults.delay = 3.0  # a slow partner: no batch is written while it answers
    hub.add("feed", feed)

    async def go() -> tuple[SyncReport, Any]:
        engine = make_engine(settings)
        try:
            async with httpx.AsyncClient() as http:
                runner = SyncRunner(engine, http, settings, clock=hub.clock, heartbeat_seconds=0.05)
                syncing = asyncio.create_task(runner.sync("feed"))
                started = hub.clock.now()

                async def beaten_at(moment: Any) -> Any:
                    for _ in range(100):  # a bounded poll (1 s or so): beats come every 0.05 s
                        async with engine.connect() as conn:
                            query = select(sync_runs.c.heartbeat_at, sync_runs.c.status)
                            row = (await conn.execute(query)).first()
                        if row is not None and row.heartbeat_at == moment:
                            return row
                        await asyncio.sleep(0.01)  # sleep-ok: polling the row
                    return row

                assert (await beaten_at(started)).status == "RUNNING"  # the run has begun
                moved = hub.clock.advance(minutes=1)
                seen = await beaten_at(moved)
                return await syncing, seen
        finally:
            await engine.dispose()

    report, seen = run(go())
    assert (seen.heartbeat_at, seen.status) == (hub.clock.now(), "RUNNING")
    assert report.status == "SUCCEEDED"


def test_the_next_batch_is_pulled_and_prepared_while_one_is_written(
    hub: Hub, simulated: dict[str, SimulatedPartner]
) -> None:
    # The write of the first batch waits until the records of the second have been read and
    # prepared: a sync that pulled only between writes would never get there (and time out).
    feed = simulated["api-engagement-xml"]
    hub.add("feed", feed)
    settings = hub.settings.model_copy(update={"sync_batch_size": 4})
    assert feed.count > 8
    seen_when_written: list[int] = []

    class Waiting(MissionWriter):
        async def apply(self, partner: str, drafts: Any, **kwargs: Any) -> Any:
            items = list(drafts)
            if not seen_when_written:
                await asyncio.wait_for(next_batch_ready.wait(), timeout=30)
            seen_when_written.append(read[0])
            # Drafts arrive prepared (or refused), the write only writes.
            assert all(isinstance(item, Prepared | Refusal) for item in items)
            return await super().apply(partner, items, **kwargs)

    read = [0]
    next_batch_ready = asyncio.Event()

    def progress(count: int) -> None:
        read[0] += count
        if read[0] >= 8:
            next_batch_ready.set()

    async def go() -> SyncReport:
        engine = make_engine(settings)
        try:
            async with httpx.AsyncClient() as http:
                writer = Waiting(engine, hub.clock)
                runner = SyncRunner(engine, http, settings, clock=hub.clock, writer=writer)
                return await runner.sync("feed", progress=progress)
        finally:
            await engine.dispose()

    report = run(go())
    assert report.status == "SUCCEEDED", report.error
    assert report.counts["created"] == feed.count
    assert seen_when_written[0] >= 8  # the second batch was read before the first was written
    # and never more than one batch ahead of the writes: memory stays that of two batches.
    assert all(seen - 4 * i <= 8 for i, seen in enumerate(seen_when_written, start=1))
