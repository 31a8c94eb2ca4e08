"""Syncs against simulated partners on loopback: what is written, closed, kept, and reported."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from connectors import ConnectorConfig
from hub.settings import Settings
from hub.storage.db import make_engine
from hub.storage.tables import mission_events, missions, partners, refused_records
from hub.sync import SyncReport, SyncRunner, add_partner
from hub.sync.scheduler import Scheduler
from tests.conftest import TEST_NOW, GraphQL, run
from tests.partners import PARTNERS, SimulatedPartner
from tests.servers import poll_until


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
                    return await SyncRunner(engine, http, settings).sync(name)
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
    assert again.event_seqs == []  # nothing changed, nothing to tell subscribers
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
    report = hub.sync("feed")
    assert report.status == "FAILED" and "FeedError" in (report.error or "")
    assert hub.open_count("feed") == feed.count
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
                runner = SyncRunner(engine, http, settings)
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
                scheduler = Scheduler(engine, SyncRunner(engine, http, settings), settings)
                first = [r.partner for r in await scheduler.tick()]
                second = [r.partner for r in await scheduler.tick()]
                return first, second
        finally:
            await engine.dispose()

    assert run(ticks()) == (["feed"], [])


def test_killing_a_sync_leaves_whole_batches_and_a_rerun_converges(
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
        [sys.executable, "-m", "hub", "sync", "feed"],
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
    report = hub.sync("feed")
    assert report.status == "SUCCEEDED"
    assert (report.counts["created"], report.counts["unchanged"]) == (400 - written, written)
    assert hub.open_count("feed") == 400


def test_serve_runs_the_scheduler(
    hub: Hub, simulated: dict[str, SimulatedPartner], settings: Settings
) -> None:
    from starlette.testclient import TestClient

    from hub.web.app import create_app

    feed = simulated["api-engagement-xml"]
    hub.add("feed", feed, every="1h")
    scheduled = settings.model_copy(update={"scheduler": True, "scheduler_tick_seconds": 0.2})
    with TestClient(create_app(scheduled)):
        poll_until(lambda: hub.open_count("feed") >= feed.count, "the scheduler's sync", 30)
    assert hub.open_count("feed") == feed.count
