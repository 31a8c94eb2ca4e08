"""Live missions over real sockets: gql over graphql-transport-ws, legacy graphql-ws, SSE;
resume with no gap and no duplicate; token end closes with 4403; a slow subscriber is told to
resume; the query side of the event log."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from contextlib import aclosing
from typing import Any

import httpx
import pytest
import websockets
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport
from starlette.routing import WebSocketRoute

from hub.live.fanout import Fanout
from hub.settings import Settings
from hub.web.app import create_app
from tests.conftest import Clients, require
from tests.servers import listeners, poll_until, serve, until

SUBSCRIBE = """
subscription Feed($filter: MissionFilterInput, $after: String) {
  missionEvents(filter: $filter, after: $after) { cursor type mission { externalId title } }
}
"""
UPSERT = """
mutation($missions: [MissionInput!]!) { upsertMissions(missions: $missions) { counts { created } } }
"""


def item(ext: str, **changes: Any) -> dict[str, Any]:
    return {
        "externalId": ext,
        "title": f"Mission {ext}",
        "applicationUrl": f"https://partner.example/{ext}",
        "remote": "FULL",
        "causes": ["numerique"],
        **changes,
    }


class Live:
    """A hub under uvicorn, with a partner token to push and a company token to listen."""

    def __init__(self, app: Any, base: str, company: str, partner: str) -> None:
        self.app = app
        self.base = base
        self.ws = base.replace("http://", "ws://") + "/graphql"
        self.company = company
        self.partner = partner

    async def push(self, *items: dict[str, Any]) -> None:
        async with httpx.AsyncClient() as http:
            response = await http.post(
                f"{self.base}/graphql",
                json={"query": UPSERT, "variables": {"missions": list(items)}},
                headers={"Authorization": f"Bearer {self.partner}"},
            )
        assert "errors" not in response.json(), response.text

    async def close(self, *ids: str) -> None:
        async with httpx.AsyncClient() as http:
            await http.post(
                f"{self.base}/graphql",
                json={
                    "query": "mutation($ids: [String!]!) { closeMissions(externalIds: $ids) "
                    "{ counts { closed } } }",
                    "variables": {"ids": list(ids)},
                },
                headers={"Authorization": f"Bearer {self.partner}"},
            )

    def transport(self, token: str | None = None) -> WebsocketsTransport:
        return WebsocketsTransport(
            url=self.ws,
            init_payload={"Authorization": f"Bearer {token or self.company}"},
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        )

    def listeners(self) -> set[Any]:
        return listeners(self.app)

    async def listening(self, before: set[Any], *, unless: Any = None) -> None:
        """Wait until a subscription started after `before` was taken listens to the live feed
        (from then on it sees every event), or until `unless()` (say, it already ended)."""
        await until(
            lambda: self.listeners() - before or (unless is not None and unless()),
            "the subscription to listen",
        )

    @property
    def fanout(self) -> Fanout:
        """The groups of identical graphql-transport-ws subscriptions (hub/live/fanout.py)."""
        view = next(r.endpoint for r in self.app.routes if isinstance(r, WebSocketRoute))
        fanout: Fanout = view.fanout  # type: ignore[attr-defined]
        return fanout

    async def collect(
        self, count: int, variables: dict[str, Any] | None = None, during: Any = None
    ) -> list[dict[str, Any]]:
        """Subscribe with gql, run `during` once subscribed, return `count` events."""
        events: list[dict[str, Any]] = []
        before = self.listeners()
        async with Client(transport=self.transport()) as session:

            async def read() -> None:
                # Closed on leaving: the client then leaves at once (an open generator would
                # hold the close for its 10 s close_timeout).
                async with aclosing(
                    session.subscribe(gql(SUBSCRIBE), variable_values=variables or {})
                ) as subscription:
                    async for result in subscription:
                        events.append(result["missionEvents"])
                        if len(events) >= count:
                            return

            reader = asyncio.create_task(read())
            if during is not None:
                await self.listening(before, unless=reader.done)
                await during()
            await asyncio.wait_for(reader, timeout=20)
        return events


@pytest.fixture
def live(settings: Settings, clients: Clients) -> Iterator[Live]:
    app = create_app(settings.model_copy(update={"live_poll_seconds": 30.0}))
    with serve(app) as base:
        http = httpx.Client(base_url=base)
        company = Clients(settings, http).token(clients.create("company", "ACME"))  # type: ignore[arg-type]
        partner = Clients(settings, http).token(  # type: ignore[arg-type]
            clients.create("partner", "Alpha", partner="alpha")
        )
        yield Live(app, base, company, partner)
        http.close()


def test_gql_client_receives_pushed_missions(live: Live) -> None:
    async def scenario() -> list[dict[str, Any]]:
        return await live.collect(2, during=lambda: live.push(item("1"), item("2")))

    events = asyncio.run(scenario())
    assert [(e["type"], e["mission"]["externalId"]) for e in events] == [
        ("PUBLISHED", "1"),
        ("PUBLISHED", "2"),
    ]
    assert events[0]["cursor"] != events[1]["cursor"]


def test_each_subscriber_sees_entering_staying_and_leaving_its_filter(live: Live) -> None:
    remote_only = {"filter": {"remote": ["FULL"]}}

    async def changes() -> None:
        await live.push(item("1"))  # enters: PUBLISHED
        await live.push(item("1", title="Renamed"))  # stays: UPDATED
        await live.push(item("1", title="Renamed", remote="NONE"))  # leaves: CLOSED
        await live.push(item("2", remote="NONE"))  # never matches: nothing
        await live.push(item("3"))
        await live.close("3")  # closed: CLOSED

    events = asyncio.run(live.collect(4, remote_only, during=changes))
    assert [(e["type"], e["mission"]["externalId"]) for e in events] == [
        ("PUBLISHED", "1"),
        ("UPDATED", "1"),
        ("CLOSED", "1"),
        ("PUBLISHED", "3"),
    ]
    more = asyncio.run(live.collect(1, {**remote_only, "after": events[-1]["cursor"]}))
    assert [(e["type"], e["mission"]["externalId"]) for e in more] == [("CLOSED", "3")]


def test_resume_replays_then_goes_live_with_no_gap_and_no_duplicate(live: Live) -> None:
    async def scenario() -> list[str]:
        first = await live.collect(2, during=lambda: live.push(item("1"), item("2")))
        cursor = first[-1]["cursor"]
        # Gone: the client is offline while these happen.
        await live.push(item("3"), item("4"))
        resumed = await live.collect(3, {"after": cursor}, during=lambda: live.push(item("5")))
        return [e["mission"]["externalId"] for e in first + resumed]

    assert asyncio.run(scenario()) == ["1", "2", "3", "4", "5"]


def test_a_search_event_cursor_is_a_starting_point(live: Live) -> None:
    async def scenario() -> list[str]:
        await live.push(item("old"))
        async with httpx.AsyncClient() as http:
            cursor = (
                await http.post(
                    f"{live.base}/graphql",
                    json={"query": "{ missions { eventCursor } }"},
                    headers={"Authorization": f"Bearer {live.company}"},
                )
            ).json()["data"]["missions"]["eventCursor"]
        await live.push(item("new"))
        events = await live.collect(1, {"after": cursor})
        return [e["mission"]["externalId"] for e in events]

    assert asyncio.run(scenario()) == ["new"]


def test_legacy_graphql_ws_protocol(live: Live) -> None:
    async def scenario() -> dict[str, Any]:
        async with websockets.connect(live.ws, subprotocols=["graphql-ws"]) as socket:  # type: ignore[list-item]
            await socket.send(
                json.dumps(
                    {
                        "type": "connection_init",
                        "payload": {"Authorization": f"Bearer {live.company}"},
                    }
                )
            )
            assert json.loads(await socket.recv())["type"] == "connection_ack"
            before = live.listeners()
            await socket.send(
                json.dumps({"type": "start", "id": "1", "payload": {"query": SUBSCRIBE}})
            )
            await live.listening(before)
            await live.push(item("legacy"))
            while True:
                message = json.loads(await asyncio.wait_for(socket.recv(), 20))
                if message["type"] == "data":
                    return message["payload"]["data"]["missionEvents"]  # type: ignore[no-any-return]

    event = asyncio.run(scenario())
    assert (event["type"], event["mission"]["externalId"]) == ("PUBLISHED", "legacy")


def test_sse_client_receives_events(live: Live) -> None:
    async def scenario() -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {live.company}", "Accept": "text/event-stream"}
        before = live.listeners()
        async with (
            httpx.AsyncClient(timeout=20) as http,
            http.stream(
                "POST", f"{live.base}/graphql", json={"query": SUBSCRIBE}, headers=headers
            ) as response,
        ):
            assert response.headers["content-type"].startswith("text/event-stream")
            await live.listening(before)
            await live.push(item("sse"))
            event = None
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event == "next":
                    found: dict[str, Any] = json.loads(line[5:])["data"]["missionEvents"]
                    return found
        raise AssertionError("no event")

    event = asyncio.run(scenario())
    assert (event["type"], event["mission"]["externalId"]) == ("PUBLISHED", "sse")


def test_no_token_or_a_bad_one_is_refused_at_connection(live: Live) -> None:
    async def close_code(payload: dict[str, Any]) -> int:
        async with websockets.connect(live.ws, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
            await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(socket.recv(), 10)
            assert closed.value.rcvd is not None
            return closed.value.rcvd.code

    assert asyncio.run(close_code({})) == 4403
    assert asyncio.run(close_code({"Authorization": "Bearer junk"})) == 4403


def test_revoking_the_token_closes_its_sockets_with_4403(live: Live, clients: Clients) -> None:
    acme = clients.create("company", "Revoked Co")
    with httpx.Client(base_url=live.base) as http:
        token = Clients(clients.settings, http).token(acme)  # type: ignore[arg-type]

    async def scenario() -> int:
        async with websockets.connect(live.ws, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
            await socket.send(
                json.dumps(
                    {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
                )
            )
            assert json.loads(await socket.recv())["type"] == "connection_ack"
            started = time.monotonic()
            async with httpx.AsyncClient() as http:
                await http.post(
                    f"{live.base}/oauth/revoke",
                    data={"token": token},
                    auth=(acme.client_id, acme.client_secret),
                )
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(socket.recv(), 10)
            assert time.monotonic() - started < 10
            assert closed.value.rcvd is not None
            return closed.value.rcvd.code

    assert asyncio.run(scenario()) == 4403


def test_event_log_query_pages_through_changes(live: Live) -> None:
    async def scenario() -> list[Any]:
        await live.push(item("1"), item("2"), item("3"))
        await live.close("2")
        query = """query($after: String) { missionEvents(first: 2, after: $after) {
            edges { cursor node { type mission { externalId } } }
            pageInfo { hasNextPage endCursor } } }"""
        seen = []
        after = None
        async with httpx.AsyncClient() as http:
            while True:
                body = (
                    await http.post(
                        f"{live.base}/graphql",
                        json={"query": query, "variables": {"after": after}},
                        headers={"Authorization": f"Bearer {live.company}"},
                    )
                ).json()
                page = body["data"]["missionEvents"]
                seen += [
                    (e["node"]["type"], e["node"]["mission"]["externalId"]) for e in page["edges"]
                ]
                if not page["pageInfo"]["hasNextPage"]:
                    return seen
                after = page["pageInfo"]["endCursor"]

    assert asyncio.run(scenario()) == [
        ("PUBLISHED", "1"),
        ("PUBLISHED", "2"),
        ("PUBLISHED", "3"),
        ("CLOSED", "2"),
    ]


def test_the_npm_graphql_ws_client_receives_pushed_missions(live: Live) -> None:
    import shutil
    import subprocess
    from pathlib import Path

    folder = Path(__file__).parent / "node"
    node = shutil.which("node")
    require(
        node is not None and (folder / "node_modules" / "graphql-ws").exists(),
        "needs node and `npm ci` in tests/node",
    )
    assert node is not None
    before = live.listeners()
    process = subprocess.Popen(
        [node, str(folder / "live-client.mjs"), live.ws, live.company, "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert json.loads(process.stdout.readline()) == {"ready": True}
        poll_until(
            lambda: live.listeners() - before or process.poll() is not None,
            "the node client's subscription",
        )
        asyncio.run(live.push(item("js-1"), item("on-site", remote="NONE"), item("js-2")))
        output, errors = process.communicate(timeout=40)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, errors
    events = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert [(e["type"], e["mission"]["externalId"]) for e in events] == [
        ("PUBLISHED", "js-1"),
        ("PUBLISHED", "js-2"),
    ]


def test_identical_subscriptions_share_an_execution_but_count_as_sockets(live: Live) -> None:
    before = live.listeners()

    def ready() -> int:
        """Subscriptions that will see the next event, however they run: each execution that
        listens to the feed, plus each member that joined another's group."""
        fanout = live.fanout
        members = sum(len(group.members) for group in fanout.groups.values())
        return len(live.listeners() - before) + members - fanout.executions

    async def scenario() -> tuple[list[str], str, int, int]:
        got: list[str] = []
        both = asyncio.Event()
        async with (
            Client(transport=live.transport()) as one,
            Client(transport=live.transport()) as two,
        ):

            async def read(session: Any) -> None:
                async with aclosing(session.subscribe(gql(SUBSCRIBE))) as subscription:
                    async for result in subscription:
                        got.append(result["missionEvents"]["mission"]["externalId"])
                        if len(got) == 2:
                            both.set()

            readers = [asyncio.create_task(read(one)), asyncio.create_task(read(two))]
            await until(lambda: ready() == 2, "both subscriptions")
            await live.push(item("shared"))
            await asyncio.wait_for(both.wait(), 20)
            # Both still subscribed: one execution (one listener on the feed) serves the two.
            executions, listening = live.fanout.executions, len(live.listeners() - before)
            async with httpx.AsyncClient() as http:
                metrics = (await http.get(f"{live.base}/metrics")).text
            for reader in readers:
                reader.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
        return got, metrics, executions, listening

    got, metrics, executions, listening = asyncio.run(scenario())
    assert got == ["shared", "shared"]
    assert (executions, listening) == (1, 1), "identical subscriptions ran apart"
    gauge = next(
        line for line in metrics.splitlines() if line.startswith("hub_graphql_subscriptions_active")
    )
    delivered = next(
        line
        for line in metrics.splitlines()
        if line.startswith("hub_graphql_subscription_events_total")
    )
    assert float(gauge.split()[-1]) == 2.0
    assert float(delivered.split()[-1]) == 2.0
