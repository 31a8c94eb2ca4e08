"""Two hub replicas (separate uvicorn processes) on one database and one Redis: a push through A
reaches a subscriber on B; B dies; the subscriber resumes on A from its last cursor and gets
every event published meanwhile, none twice. Then A stops gracefully on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import aclosing, contextmanager
from typing import Any

import httpx
import pytest
import websockets
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport
from starlette.testclient import TestClient

from hub.clock import SystemClock
from hub.settings import Settings
from hub.web.app import create_app
from tests.conftest import SHARES_REDIS, Clients
from tests.servers import free_port, poll_until, until

REDIS_URL = os.environ.get("HUB_TEST_REDIS_URL", "")
if not REDIS_URL:
    if os.environ.get("CI") == "true":
        raise RuntimeError("HUB_TEST_REDIS_URL must be set in CI: the replica test needs Redis")
    pytest.skip(
        "set HUB_TEST_REDIS_URL=redis://127.0.0.1:6379/0 to run the two-replica test",
        allow_module_level=True,
    )

pytestmark = SHARES_REDIS

SUBSCRIBE = """subscription($after: String) {
  missionEvents(after: $after) { cursor type mission { externalId } } }"""
UPSERT = (
    """mutation($m: [MissionInput!]!) { upsertMissions(missions: $m) { counts { created } } }"""
)


class Replica:
    def __init__(self, settings: Settings) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "HUB_DATABASE_URL": settings.database_url,
            "HUB_BROKER_URL": REDIS_URL,
            "HUB_PUBLIC_URL": "https://hub.test",  # one issuer for both replicas
            "HUB_SCHEDULER": "false",
            "HUB_RATE_LIMIT_PER_MINUTE": "0",
            "HUB_LIVE_POLL_SECONDS": "60",  # so that delivery proves the broker, not the poll
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "hub", "serve", "--port", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def ready(self) -> None:
        poll_until(self._healthy, "the replica to start", 60)

    def _healthy(self) -> bool:
        assert self.process.poll() is None, "the replica exited at start"
        try:
            return httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    async def subscriptions(self) -> float:
        """The subscriptions this replica runs, from its own metrics. The hub counts one as it
        starts executing, and with no organization to look up it listens to the feed before it
        next waits on anything: once counted, it sees every later event."""
        async with httpx.AsyncClient() as http:
            metrics = (await http.get(f"{self.base}/metrics")).text
        gauge = next(
            line
            for line in metrics.splitlines()
            if line.startswith("hub_graphql_subscriptions_active ")
        )
        return float(gauge.split()[-1])

    @property
    def ws(self) -> str:
        return self.base.replace("http", "ws") + "/graphql"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@contextmanager
def running(settings: Settings, count: int) -> Iterator[list[Replica]]:
    """`count` replicas, started side by side."""
    shared = settings.model_copy(update={"public_url": "https://hub.test"})
    started = [Replica(shared) for _ in range(count)]
    try:
        for replica in started:
            replica.ready()
        yield started
    finally:
        for replica in started:
            replica.stop()


@pytest.fixture
def started(settings: Settings) -> None:
    """The hub's start-up ran once and stopped: the signing key exists, and replicas starting
    side by side load it instead of each making one of their own. Replicas are separate
    processes on the machine's clock, so nothing on the test clock may run beside them: an app
    left running at the test's date would prune their events as older than its retention
    whenever the machine's date is months before it (CI runs the suite at other dates)."""
    with TestClient(create_app(settings, SystemClock())):
        pass


@pytest.fixture
def clients(settings: Settings, started: None) -> Clients:
    """OAuth clients made on the machine's clock, the replicas' clock (tokens come from a
    replica, see `tokens`)."""
    return Clients(settings, None, SystemClock())  # type: ignore[arg-type]


@pytest.fixture
def replicas(settings: Settings, started: None) -> Iterator[tuple[Replica, Replica]]:
    with running(settings, 2) as (a, b):
        yield a, b


@pytest.fixture
def replica(settings: Settings, started: None) -> Iterator[Replica]:
    with running(settings, 1) as (one,):
        yield one


def tokens(settings: Settings, clients: Clients, base: str) -> tuple[str, str]:
    with httpx.Client(base_url=base) as http:
        issuer = Clients(settings, http)  # type: ignore[arg-type]
        company = issuer.token(clients.create("company", "ACME"))
        partner = issuer.token(clients.create("partner", "Alpha", partner="alpha"))
    return company, partner


async def push(base: str, token: str, *ids: str) -> None:
    missions = [
        {"externalId": i, "title": f"Mission {i}", "applicationUrl": f"https://p.example/{i}"}
        for i in ids
    ]
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{base}/graphql",
            json={"query": UPSERT, "variables": {"m": missions}},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.json()["data"]["upsertMissions"]["counts"]["created"] == len(ids)


def test_a_subscriber_moves_replicas_and_loses_nothing(
    settings: Settings, clients: Clients, replicas: tuple[Replica, Replica]
) -> None:
    a, b = replicas
    company, partner = tokens(settings, clients, a.base)
    received: list[dict[str, Any]] = []

    async def subscribe(replica: Replica, after: str | None, count: int, during: Any) -> None:
        transport = WebsocketsTransport(
            url=replica.ws,
            init_payload={"Authorization": f"Bearer {company}"},
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        )
        async with Client(transport=transport) as session:

            async def read() -> None:
                async with aclosing(
                    session.subscribe(gql(SUBSCRIBE), variable_values={"after": after})
                ) as subscription:
                    async for result in subscription:
                        received.append(result["missionEvents"])
                        if len(received) >= count:
                            return

            reader = asyncio.create_task(read())

            async def started() -> bool:
                return reader.done() or await replica.subscriptions() >= 1

            await until(started, "the subscription to start")
            await during()
            try:
                await asyncio.wait_for(reader, 20)
            except Exception:
                reader.cancel()
                raise

    async def scenario() -> None:
        # On B, live: three pushed through A arrive through Redis.
        await subscribe(b, None, 3, lambda: push(a.base, partner, "1", "2", "3"))
        b.stop()  # B dies; meanwhile more is published through A
        await push(a.base, partner, "4", "5", "6")
        last = received[-1]["cursor"]
        # Back on A from the last cursor: the three missed, then live.
        await subscribe(a, last, 7, lambda: push(a.base, partner, "7"))

    asyncio.run(scenario())
    ids = [event["mission"]["externalId"] for event in received]
    assert ids == ["1", "2", "3", "4", "5", "6", "7"], "lost, repeated or reordered"
    assert len({event["cursor"] for event in received}) == 7


def test_sigterm_closes_subscriptions_with_going_away_and_exits(
    settings: Settings, clients: Clients, replica: Replica
) -> None:
    a = replica
    company, _ = tokens(settings, clients, a.base)

    async def scenario() -> int:
        async with websockets.connect(a.ws, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
            await socket.send(
                '{"type":"connection_init","payload":{"Authorization":"Bearer %s"}}' % company
            )
            assert json.loads(await socket.recv())["type"] == "connection_ack"
            await socket.send(
                '{"type":"subscribe","id":"1","payload":{"query":"subscription '
                '{ missionEvents { cursor } }"}}'
            )

            async def subscribed() -> bool:
                return await a.subscriptions() >= 1

            await until(subscribed, "the subscription to start")
            a.process.send_signal(signal.SIGTERM)
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(socket.recv(), 15)
            assert closed.value.rcvd is not None
            return closed.value.rcvd.code

    code = asyncio.run(scenario())
    assert code in (1001, 1012), code  # going away / service restart: reconnect and resume
    a.process.wait(timeout=20)  # raises if the replica does not exit
