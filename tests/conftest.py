"""Shared fixtures: a real database (SQLite by default, PostgreSQL when HUB_TEST_DATABASE_URL says
so), the real ASGI app through Starlette's TestClient (lifespan included), GraphQL helpers."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from hub.auth import ClientKind, ClientStore, NewClient
from hub.catalogue.model import MissionDraft
from hub.clock import Clock, ManualClock, SystemClock
from hub.ingest.service import IngestReport, MissionWriter
from hub.settings import Settings, load_settings
from hub.storage.db import make_engine
from hub.storage.migrate import upgrade
from hub.storage.tables import metadata
from hub.storage.writer import WriteBatch, ensure_partner
from hub.web.app import create_app

pytest_plugins = ["tests.hang_watch"]  # a test that hangs prints its event loops' tasks

TEST_DATABASE_URL = os.environ.get("HUB_TEST_DATABASE_URL", "")
# Tests that talk through HUB_TEST_REDIS_URL run on one pytest-xdist worker, one after the
# other (`--dist loadgroup`): Redis pub/sub channels are global to the server, so two workers'
# replicas would otherwise hear each other's change notifications.
SHARES_REDIS = pytest.mark.xdist_group("redis")
# Children first, so that deleting never trips a foreign key.
TABLES = tuple(table.name for table in reversed(metadata.sorted_tables))


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def _worker_database(url: str) -> str:
    """The PostgreSQL database of this pytest-xdist worker: `test` for a serial run, `test_gw0`,
    `test_gw1`... beside it when `make test` runs the suite on several workers, so that one
    worker's truncations never empty another's tables. Created on first use."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker:
        return url
    base = make_url(url)
    name = f"{base.database}_{worker}"
    run(_create_database(base.render_as_string(hide_password=False), name))
    return base.set(database=name).render_as_string(hide_password=False)


async def _create_database(url: str, name: str) -> None:
    engine = make_engine(load_settings(database_url=url))
    try:
        async with engine.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
            exists = await conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if not exists:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()


async def _reset_postgres(url: str) -> None:
    settings = load_settings(database_url=url)
    engine = make_engine(settings)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await upgrade(engine)
    finally:
        await engine.dispose()


async def _migrate(url: str) -> None:
    engine = make_engine(load_settings(database_url=url))
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def _truncate(settings: Settings) -> None:
    engine = make_engine(settings)
    try:
        async with engine.begin() as conn:
            if settings.is_sqlite:
                for table in TABLES:
                    await conn.execute(text(f"DELETE FROM {table}"))
                await conn.execute(text("DELETE FROM sqlite_sequence"))
            else:
                await conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


def _empty_sqlite(url: str) -> None:
    """What _truncate does, through the sqlite3 module: no engine, pool or event loop to set up
    and tear down for every test (2 ms instead of 10)."""
    db = sqlite3.connect(make_url(url).database or "")
    try:
        db.execute("PRAGMA busy_timeout=10000")
        deletes = "".join(f"DELETE FROM {table};" for table in TABLES)
        db.executescript(f"BEGIN;{deletes}DELETE FROM sqlite_sequence;COMMIT;")
    finally:
        db.close()


@pytest.fixture(scope="session", autouse=True)
def cheap_secret_hashing() -> Iterator[None]:
    """Client secrets hashed by argon2id at its lowest cost: the hub's own code hashes and checks
    them, in microseconds instead of 0.1 s each (two a token, one token or more a test)."""
    from argon2 import PasswordHasher

    with pytest.MonkeyPatch.context() as patch:
        cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        patch.setattr("hub.auth.clients._hasher", cheap)
        yield


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The test database, migrated once per session. PostgreSQL that cannot be reached fails."""
    if TEST_DATABASE_URL:
        url = _worker_database(TEST_DATABASE_URL)
        run(_reset_postgres(url))
        return url
    path = tmp_path_factory.mktemp("db") / "hub.db"
    url = f"sqlite+aiosqlite:///{path}"
    run(_migrate(url))
    return url


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings on an empty, migrated database."""
    # No scheduler in tests: a sync runs when a test says so (test_sync covers the scheduler).
    # A sync pulls in the sync's own process: starting a pull process (the default, 2-5 s on a
    # loaded machine) for each of the suite's hundreds of syncs would make it five times slower;
    # tests/test_pull_process.py runs syncs both ways and compares them, and the CLI's syncs
    # use the default.
    settings = load_settings(database_url=database_url, scheduler=False, sync_pull_process=False)
    if settings.is_sqlite:
        _empty_sqlite(database_url)
    else:
        run(_truncate(settings))
    return settings


# The date every test runs at, whatever the machine's date: the handcrafted catalogues of
# tests/catalogue.py are dated around it. A test that needs time to pass moves `clock`.
TEST_NOW = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["walked", "from-labels"])
def label_reading(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Both ways a collapsed search reads a cause or skill criterion (hub.storage.
    label_rarity): walking the listings in the page's order (a common label), or starting
    from the label's rows (a rare one). The threshold moves so that every label is one or the
    other, whatever the catalogue's size."""
    from hub.storage import label_rarity

    monkeypatch.setattr(label_rarity, "RARE_AT_MOST", -1 if request.param == "walked" else 10**9)
    label_rarity._counts.clear()
    yield request.param
    label_rarity._counts.clear()


@pytest.fixture
def clock() -> ManualClock:
    """The hub's clock in this test: set to TEST_NOW, moved only by the test."""
    return ManualClock(TEST_NOW)


@pytest.fixture
def client(settings: Settings, clock: ManualClock) -> Iterator[TestClient]:
    with TestClient(create_app(settings, clock)) as test_client:
        yield test_client


class Clients:
    """Creates OAuth clients through the same store the CLI uses, and gets their tokens from
    the running app's token endpoint (client_credentials, client_secret_basic)."""

    def __init__(self, settings: Settings, http: TestClient, clock: Clock | None = None) -> None:
        self.settings = settings
        self.http = http
        self.clock = clock or SystemClock()

    def create(self, kind: str, name: str = "test", **kwargs: Any) -> NewClient:
        async def go() -> NewClient:
            engine = make_engine(self.settings)
            try:
                if kwargs.get("partner"):
                    async with engine.begin() as conn:
                        await ensure_partner(conn, kwargs["partner"], self.clock.now())
                return await ClientStore(engine, ttl=0, clock=self.clock).create(
                    ClientKind(kind), name, **kwargs
                )
            finally:
                await engine.dispose()

        return run(go())  # type: ignore[no-any-return]

    def store(self, action: Callable[[ClientStore], Any]) -> Any:
        async def go() -> Any:
            engine = make_engine(self.settings)
            try:
                return await action(ClientStore(engine, ttl=0))
            finally:
                await engine.dispose()

        return run(go())

    def token(self, created: NewClient, scope: str | None = None) -> str:
        form = {"grant_type": "client_credentials"}
        if scope is not None:
            form["scope"] = scope
        response = self.http.post(
            "/oauth/token", data=form, auth=(created.client_id, created.client_secret)
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token


@pytest.fixture
def clients(settings: Settings, client: TestClient, clock: ManualClock) -> Clients:
    return Clients(settings, client, clock)


@pytest.fixture
def company_token(clients: Clients) -> str:
    return clients.token(clients.create("company", "ACME"))


class Store:
    """Writes through the hub's one write service (MissionWriter), from the test's side; the
    app's subscribers hear of it through the event log (nothing is published in this process)."""

    def __init__(self, settings: Settings, clock: ManualClock) -> None:
        self.settings = settings
        self.clock = clock

    def ingest(
        self, partner: str, drafts: Sequence[MissionDraft], now: datetime | None = None
    ) -> IngestReport:
        async def go() -> IngestReport:
            engine = make_engine(self.settings)
            try:
                clock = ManualClock(now) if now is not None else self.clock
                return await MissionWriter(engine, clock).apply(partner, drafts)
            finally:
                await engine.dispose()

        return run(go())  # type: ignore[no-any-return]

    def close(self, partner: str, external_ids: Sequence[str]) -> WriteBatch:
        async def go() -> WriteBatch:
            engine = make_engine(self.settings)
            try:
                return await MissionWriter(engine, self.clock).close(partner, external_ids)
            finally:
                await engine.dispose()

        return run(go())  # type: ignore[no-any-return]


@pytest.fixture
def store(settings: Settings, clock: ManualClock) -> Store:
    return Store(settings, clock)


GraphQL = Callable[..., dict[str, Any]]


@pytest.fixture
def gql(client: TestClient, company_token: str) -> GraphQL:
    """POST a GraphQL operation as a company; returns the whole JSON response."""

    def call(
        query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        response = client.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token or company_token}"},
        )
        assert response.status_code in (200, 400), response.text
        body: dict[str, Any] = response.json()
        return body

    return call


@pytest.fixture
def data(gql: GraphQL) -> GraphQL:
    """Like gql, but fails the test on any GraphQL error and returns `data`."""

    def call(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = gql(query, variables)
        assert "errors" not in body, body["errors"]
        result: dict[str, Any] = body["data"]
        return result

    return call


ROOT = Path(__file__).resolve().parent.parent


def require(ok: bool, reason: str) -> None:
    """A missing tool or service skips the test on a developer's machine with the reason, and
    fails it in CI (CI=true), where .ci/run installs or starts it."""
    if not ok:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI=true: .ci/run provides it)")
        pytest.skip(reason)
