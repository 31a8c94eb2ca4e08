"""The live machinery's limits: token expiry, slow subscribers, retention, connection caps."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import strawberry
import websockets

from hub.clock import ManualClock
from hub.ingest.service import apply
from hub.live import CLOSE_FELL_BEHIND, CLOSE_TOKEN_ENDED, Fanout, FellBehind, LiveEvents
from hub.live.fanout import End
from hub.pubsub import MemoryBroker
from hub.settings import Settings
from hub.storage.db import make_engine
from hub.storage.repository import MissionRepository
from hub.web.app import create_app
from tests.catalogue import catalogue
from tests.conftest import TEST_NOW, Clients, Store, run
from tests.servers import listeners, serve, until
from tests.test_auth import forge


async def _close_code_after_expiry(ws_url: str, token: str, clock: ManualClock) -> int:
    """Connect, check the socket stays open while the token is valid, then move the clock past
    its expiry and return the close code."""
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        await socket.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        assert json.loads(await socket.recv())["type"] == "connection_ack"
        # The ack is sent once the hub has admitted the socket and armed its expiry on the clock.
        await _until(lambda: clock.sleepers == 1)
        clock.advance(59)  # not yet expired: the socket stays open
        await socket.ping()
        assert socket.close_code is None
        clock.advance(2)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(socket.recv(), 10)
        assert closed.value.rcvd is not None
        return closed.value.rcvd.code


async def _until(fact: Callable[[], bool]) -> None:
    """Wait (bounded) for a fact another thread makes true."""
    for _ in range(1000):
        if fact():
            return
        await asyncio.sleep(0.01)  # sleep-ok: polls a fact set by the server's thread
    raise AssertionError("timed out waiting")


@pytest.fixture
def hub(settings: Settings, clock: ManualClock) -> Iterator[tuple[str, Settings]]:
    tuned = settings.model_copy(update={"max_connections_per_client": 1})
    with serve(create_app(tuned, clock)) as base:
        yield base, tuned


def test_a_socket_closes_with_4403_when_its_token_expires(
    hub: tuple[str, Settings], clients: Clients, clock: ManualClock
) -> None:
    base, settings = hub
    acme = clients.create("company", "Short-lived")
    token = forge(settings, client_id=acme.client_id, exp=clock.timestamp() + 60)
    url = base.replace("http", "ws") + "/graphql"
    assert run(_close_code_after_expiry(url, token, clock)) == CLOSE_TOKEN_ENDED


def test_connections_per_client_are_capped(
    hub: tuple[str, Settings], clients: Clients, clock: ManualClock
) -> None:
    base, settings = hub
    acme = clients.create("company", "Capped")
    with httpx.Client(base_url=base) as http:
        token = Clients(settings, http, clock).token(acme)  # type: ignore[arg-type]
    url = base.replace("http", "ws") + "/graphql"

    async def scenario() -> int:
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as first:  # type: ignore[list-item]
            await first.send(
                json.dumps(
                    {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
                )
            )
            assert json.loads(await first.recv())["type"] == "connection_ack"
            async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as second:  # type: ignore[list-item]
                await second.send(
                    json.dumps(
                        {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
                    )
                )
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await asyncio.wait_for(second.recv(), 10)
                assert closed.value.rcvd is not None
                return closed.value.rcvd.code

    assert run(scenario()) == 4403


def test_a_subscriber_that_falls_behind_is_told_to_resume(settings: Settings, store: Store) -> None:
    """Its bounded inbox overflows: it is told at once (what was pending is dropped, it resumes
    from its cursor), and the others are not held back."""

    async def scenario() -> tuple[list[int], list[Any], bool, int]:
        engine = make_engine(settings)
        try:
            live = LiveEvents(MissionRepository(engine), MemoryBroker(), queue_size=2)
            await live.start()
            kept_up: list[int] = []
            late: list[Any] = []
            async with live.listen() as slow, live.listen() as fast:
                for partner, drafts in catalogue().items():
                    await apply(engine, partner, drafts, TEST_NOW)  # three commits, three batches
                    await live.catch_up()
                    kept_up.append(len(await asyncio.wait_for(fast.get(), 10)))
                with pytest.raises(FellBehind):
                    while True:
                        late.append(await asyncio.wait_for(slow.get(), 10))
                delivered = live.high_water_mark
            await live.stop()
            return kept_up, late, fast.fell_behind, delivered
        finally:
            await engine.dispose()

    kept_up, late, fast_fell_behind, delivered = asyncio.run(scenario())
    assert kept_up == [4, 4, 3] and not fast_fell_behind
    assert late == []  # the third batch overflowed the slow one's two: told before anything else
    assert delivered == 11


class _CountingRepository(MissionRepository):
    """The real repository, counting the log reads that load missions; `arriving` is entered
    (a listener registered) while the log's end is being read, as a subscriber arriving then."""

    loads = 0
    arriving: Any = None

    async def events_after(self, seq: int, limit: int) -> Any:
        self.loads += 1
        return await super().events_after(seq, limit)

    async def event_cursor(self) -> int:
        end = await super().event_cursor()
        if self.arriving is not None:
            await self.arriving.__aenter__()
        return end


def test_with_no_listener_the_stream_moves_its_mark_without_loading_missions(
    settings: Settings,
) -> None:
    async def scenario() -> tuple[int, int, int, bool, list[int]]:
        engine = make_engine(settings)
        try:
            repository = _CountingRepository(engine)
            live = LiveEvents(repository, MemoryBroker())
            await live.start()
            drafts = catalogue()
            async with live.wakeups() as moved:
                first = next(iter(drafts))
                await apply(engine, first, drafts[first], TEST_NOW)
                await live.catch_up()
                woken = moved.is_set()
            skipped_to, loads = live.high_water_mark, repository.loads
            # A subscriber arrives while the end is read: it is handed the rows the usual way.
            listening = live.listen()
            repository.arriving = listening
            second = list(drafts)[1]
            await apply(engine, second, drafts[second], TEST_NOW)
            await live.catch_up()
            batch = await asyncio.wait_for(live._listeners.copy().pop().get(), 10)
            await listening.__aexit__(None, None, None)
            await live.stop()
            return skipped_to, loads, repository.loads, woken, [row.seq for row in batch]
        finally:
            await engine.dispose()

    skipped_to, loads_alone, loads_after, woken, delivered = asyncio.run(scenario())
    assert skipped_to == 4 and loads_alone == 0 and woken  # four events, no mission loaded
    assert loads_after >= 1 and delivered == [5, 6, 7, 8]


def test_a_cursor_older_than_the_retention_must_resynchronise(
    settings: Settings, store: Store, gql: Any, clock: ManualClock
) -> None:
    store.ingest("alpha", catalogue()["alpha"])
    old = gql("{ missionEvents(first: 1) { pageInfo { endCursor } } }")["data"]["missionEvents"][
        "pageInfo"
    ]["endCursor"]

    async def prune() -> int:
        engine = make_engine(settings)
        try:
            return await MissionRepository(engine).prune_events(
                clock.now() + timedelta(seconds=1)  # every event so far is older
            )
        finally:
            await engine.dispose()

    assert run(prune()) == 4
    store.ingest("beta", catalogue()["beta"])
    body = gql("query($after: String) { missionEvents(after: $after) { edges { cursor } } }",
               {"after": old})  # fmt: skip
    assert "older than the event log keeps" in body["errors"][0]["message"]
    # From a recent position, it pages normally.
    fresh = gql("{ missionEvents { edges { node { mission { externalId } } } } }")
    assert len(fresh["data"]["missionEvents"]["edges"]) == 4  # beta's four


FEED = """subscription($filter: MissionFilterInput, $after: String) {
  missionEvents(filter: $filter, after: $after) { cursor mission { externalId } } }"""
UPSERT = """mutation($missions: [MissionInput!]!) {
  upsertMissions(missions: $missions) { counts { created } } }"""


async def _subscribe(url: str, token: str, variables: dict[str, Any]) -> Any:
    """A graphql-transport-ws socket with one missionEvents subscription."""
    socket = await websockets.connect(url, subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
    await socket.send(
        json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
    )
    assert json.loads(await socket.recv())["type"] == "connection_ack"
    await socket.send(
        json.dumps(
            {"type": "subscribe", "id": "1", "payload": {"query": FEED, "variables": variables}}
        )
    )
    return socket


async def _next_event(socket: Any) -> dict[str, Any]:
    while True:
        message = json.loads(await asyncio.wait_for(socket.recv(), 20))
        if message["type"] == "next":
            assert message["payload"].get("data"), message
            event: dict[str, Any] = message["payload"]["data"]["missionEvents"]
            return event
        assert message["type"] == "ping", message  # keep-alives aside, only events


def test_a_socket_that_falls_behind_is_closed_with_4290_alone_and_resumes(
    settings: Settings, clients: Clients, clock: ManualClock
) -> None:
    """The stream overflows one subscription's inbox: FellBehind travels up through its
    execution, its socket is closed with 4290, another subscription carries on, and the
    closed one resumes from its last cursor with nothing lost."""
    tuned = settings.model_copy(update={"subscriber_queue_size": 3, "live_poll_seconds": 30.0})
    app = create_app(tuned, clock)
    with serve(app) as base, httpx.Client(base_url=base) as http:
        issuer = Clients(tuned, http, clock)  # type: ignore[arg-type]
        company = issuer.token(clients.create("company", "Behind Co"))
        partner = issuer.token(clients.create("partner", "Alpha", partner="alpha"))
        url = base.replace("http", "ws") + "/graphql"
        live = app.state.services.live

        async def push(external_id: str) -> None:
            mission = {"externalId": external_id, "title": f"Mission {external_id}",
                       "applicationUrl": f"https://alpha.example/{external_id}",
                       "remote": "FULL", "causes": ["numerique"]}  # fmt: skip
            async with httpx.AsyncClient() as client:
                response = await client.post(
                    f"{base}/graphql",
                    json={"query": UPSERT, "variables": {"missions": [mission]}},
                    headers={"Authorization": f"Bearer {partner}"},
                )
            assert "errors" not in response.json(), response.text

        async def subscribed(variables: dict[str, Any]) -> tuple[Any, Any]:
            """A socket and the inbox its (own) execution reads the stream from."""
            before = listeners(app)
            socket = await _subscribe(url, company, variables)
            await until(lambda: listeners(app) - before, "the subscription to listen")
            (inbox,) = listeners(app) - before
            return socket, inbox

        async def scenario() -> tuple[int, list[str], list[str]]:
            # Two filters, so two executions, each with its own inbox.
            behind, behind_inbox = await subscribed({"filter": {"remote": ["FULL"]}})
            other, _ = await subscribed({})
            await push("1")
            cursor = (await _next_event(behind))["cursor"]
            assert (await _next_event(other))["mission"]["externalId"] == "1"

            # Four batches reach `behind` before its execution reads one (queue size 3).
            def burst() -> None:
                for _ in range(4):
                    behind_inbox.offer([])

            live._tasks[0].get_loop().call_soon_threadsafe(burst)
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await _next_event(behind)
            assert closed.value.rcvd is not None
            await push("2")  # the other subscription is not held back
            seen = [(await _next_event(other))["mission"]["externalId"]]
            await other.close()
            resumed = await _subscribe(
                url, company, {"filter": {"remote": ["FULL"]}, "after": cursor}
            )
            got = [(await _next_event(resumed))["mission"]["externalId"]]
            await resumed.close()
            return closed.value.rcvd.code, seen, got

        code, seen, got = run(scenario())
    assert code == CLOSE_FELL_BEHIND
    assert seen == ["2"]
    assert got == ["2"]  # nothing lost: the resumed subscription replays what it missed


def _ticking_schema(ticks: asyncio.Queue[int | BaseException | None]) -> strawberry.Schema:
    """A real strawberry execution that yields what the test feeds it (None ends it, an
    exception is raised from the subscription, as the hub's raises FellBehind)."""

    @strawberry.type
    class Query:
        ok: bool = True

    @strawberry.type
    class Subscription:
        @strawberry.subscription
        async def ticks(self) -> AsyncGenerator[int, None]:
            while (tick := await ticks.get()) is not None:
                if isinstance(tick, BaseException):
                    raise tick
                yield tick

    return strawberry.Schema(query=Query, subscription=Subscription)


def _tick(message: str) -> int | str:
    """A `next` message's tick, or the error it carries."""
    payload = json.loads(message)["payload"]
    return payload["data"]["ticks"] if payload["data"] else payload["errors"][0]["message"]


class _Group:
    """Two members of one fan-out group, one of whose sockets stops reading."""

    def __init__(self, queue_size: int) -> None:
        self.ticks: asyncio.Queue[int | BaseException | None] = asyncio.Queue()
        self.schema = _ticking_schema(self.ticks)
        self.fanout = Fanout(queue_size)
        self.executions = 0
        self.fast: list[int | str] = []
        self.slow: list[int | str] = []
        self.stuck = asyncio.Event()  # the slow socket's client reads again when set

    async def _start(self, group: Any) -> None:
        self.executions += 1
        await self.fanout.run(group, await self.schema.stream("subscription { ticks }"))

    async def _fast_send(self, message: str) -> None:
        self.fast.append(_tick(message))

    async def _slow_send(self, message: str) -> None:
        self.slow.append(_tick(message))
        await self.stuck.wait()

    def join(self) -> tuple[asyncio.Task[End], asyncio.Task[End]]:
        slow = self.fanout.join("same subscription", "slow", self._start)
        fast = self.fanout.join("same subscription", "fast", self._start)
        return (
            asyncio.create_task(slow.pump(self._slow_send)),
            asyncio.create_task(fast.pump(self._fast_send)),
        )


def test_a_slow_socket_of_a_group_is_told_to_resume_alone_and_the_group_goes_on() -> None:
    async def scenario() -> tuple[_Group, End]:
        group = _Group(queue_size=3)
        slow, fast = group.join()
        for tick in range(10):
            await group.ticks.put(tick)
            await until(lambda: len(group.fast) == tick + 1, "the fast member")  # noqa: B023
        group.stuck.set()  # the slow socket's send returns: its writer finds it fell behind
        with pytest.raises(FellBehind):
            await asyncio.wait_for(slow, 10)
        await group.ticks.put(None)
        return group, await asyncio.wait_for(fast, 10)

    group, end = asyncio.run(scenario())
    assert group.fast == list(range(10))  # never held back by the stuck one
    assert group.slow == [0]  # its send stuck on the first; three more filled its inbox
    assert end == End() and group.executions == 1
    assert not group.fanout.groups  # the ended execution left no group behind


def test_an_execution_that_falls_behind_tells_every_member_and_an_error_ends_them() -> None:
    async def scenario(ending: BaseException) -> tuple[_Group, list[BaseException | End]]:
        group = _Group(queue_size=3)
        group.stuck.set()
        tasks = group.join()
        await group.ticks.put(1)
        await until(lambda: group.fast and group.slow, "both members")
        await group.ticks.put(ending)
        return group, await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 10)

    group, behind = asyncio.run(scenario(FellBehind()))
    assert [type(outcome) for outcome in behind] == [FellBehind, FellBehind]
    assert group.fast == group.slow == [1]
    # Any other failure is not a 4290: the members get it as an error, then complete.
    group, broken = asyncio.run(scenario(RuntimeError("boom")))
    assert broken == [End(), End()]
    assert group.fast == group.slow == [1, "boom"]
