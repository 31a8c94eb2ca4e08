"""The fan-out's shortcut: pre-encoded text frames written straight to uvicorn's transport, and
batches of results coalesced per socket, beside sockets that still go through ASGI."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

from hub.live import CLOSE_FELL_BEHIND
from hub.live.fanout import Fanout
from hub.live.frames import Direct, text_frame
from hub.settings import Settings
from hub.web.app import create_app
from tests.conftest import Clients
from tests.servers import listeners, serve, until

SUBSCRIBE = (
    "subscription { missionEvents(filter: {remote: [FULL]}) "
    "{ cursor type mission { externalId } } }"
)
UPSERT = (
    "mutation($missions: [MissionInput!]!) "
    "{ upsertMissions(missions: $missions) { counts { created } } }"
)


def _parse(data: bytes) -> Frame:
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        frame: Frame = done.value
        return frame
    raise AssertionError("an incomplete frame")


async def external_ids(ws: ClientConnection, count: int) -> list[str]:
    """The missions' external ids of the next `count` events a socket receives."""
    got: list[str] = []
    while len(got) < count:
        message = json.loads(await asyncio.wait_for(ws.recv(), 20))
        if message["type"] == "next":
            got.append(message["payload"]["data"]["missionEvents"]["mission"]["externalId"])
    return got


@pytest.mark.parametrize("text", ["{}", "é" * 100, "x" * 70_000])
def test_a_text_frame_is_what_websockets_reads_back(text: str) -> None:
    frame = _parse(text_frame(text))  # lengths: 7-bit, 16-bit (200 bytes), 64-bit
    assert (frame.opcode, frame.fin, frame.rsv1) == (Opcode.TEXT, True, False)
    assert bytes(frame.data).decode() == text


def test_a_socket_not_served_by_uvicorn_websockets_sansio_gets_no_shortcut() -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: Any) -> None:
        pass

    scope = {"type": "websocket", "path": "/graphql", "headers": []}
    assert Direct.of(WebSocket(scope, receive, send)) is None  # another server's receive
    assert Direct.of(object()) is None


class Hub:
    def __init__(self, app: Any, base: str, company: str, partner: str) -> None:
        self.app, self.base, self.company, self.partner = app, base, company, partner

    @property
    def fanout(self) -> Fanout:
        view = next(r.endpoint for r in self.app.routes if isinstance(r, WebSocketRoute))
        fanout: Fanout = view.fanout  # type: ignore[attr-defined]
        return fanout

    async def push(self, *ids: str) -> None:
        missions = [
            {
                "externalId": ext,
                "title": f"Mission {ext}",
                "applicationUrl": f"https://partner.example/{ext}",
                "remote": "FULL",
                "causes": ["numerique"],
            }
            for ext in ids
        ]
        async with httpx.AsyncClient() as http:
            response = await http.post(
                f"{self.base}/graphql",
                json={"query": UPSERT, "variables": {"missions": missions}},
                headers={"Authorization": f"Bearer {self.partner}"},
            )
        assert "errors" not in response.json(), response.text

    def members(self) -> list[Any]:
        return [m for g in self.fanout.groups.values() for m in g.members]

    async def grouped_directly(self, before: set[Any], count: int) -> None:
        """Until `count` subscriptions share one new execution, each writing directly."""
        await until(
            lambda: (
                len(listeners(self.app) - before) == 1
                and len(self.members()) == count
                and all(m.send is not None and m.direct for m in self.members())
            ),
            f"{count} subscriptions in one group, writing directly",
        )

    async def subscribe(self, ws: ClientConnection, operation_id: str) -> None:
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {self.company}"}}
        await ws.send(json.dumps(init))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        subscribe = {"id": operation_id, "type": "subscribe", "payload": {"query": SUBSCRIBE}}
        await ws.send(json.dumps(subscribe))


@pytest.fixture
def hub(settings: Settings, clients: Clients) -> Iterator[Hub]:
    tuned = {"live_poll_seconds": 30.0, "subscriber_queue_size": 3}  # 4 frames overflow
    app = create_app(settings.model_copy(update=tuned))
    with serve(app) as base:  # permessage-deflate offered, as uvicorn does by default
        http = httpx.Client(base_url=base)
        company = Clients(settings, http).token(clients.create("company", "ACME"))  # type: ignore[arg-type]
        partner = Clients(settings, http).token(  # type: ignore[arg-type]
            clients.create("partner", "Alpha", partner="alpha")
        )
        yield Hub(app, base, company, partner)
        http.close()


def test_direct_and_asgi_sockets_of_one_group_get_every_event_in_order(hub: Hub) -> None:
    """Two sockets without compression take frames straight from the group's writer (one with
    another operation id); one that negotiated permessage-deflate goes through ASGI. Batches
    of ten events reach all three complete, in order, as text frames, counted once each."""
    ids = [f"m{i}" for i in range(30)]
    url = hub.base.replace("http://", "ws://") + "/graphql"
    protocol = ["graphql-transport-ws"]  # type: ignore[list-item]

    async def read(ws: ClientConnection, operation_id: str) -> list[tuple[str, str, str]]:
        got: list[tuple[str, str, str]] = []
        while len(got) < len(ids):
            raw = await asyncio.wait_for(ws.recv(), 20)
            assert isinstance(raw, str)  # a text frame
            message = json.loads(raw)
            if message["type"] != "next":
                continue
            assert message["id"] == operation_id
            event = message["payload"]["data"]["missionEvents"]
            got.append((event["mission"]["externalId"], event["type"], event["cursor"]))
        return got

    async def scenario() -> tuple[list[list[tuple[str, str, str]]], list[bool], str]:
        before = listeners(hub.app)
        async with (
            connect(url, subprotocols=protocol, compression=None) as one,  # type: ignore[arg-type]
            connect(url, subprotocols=protocol, compression=None) as two,  # type: ignore[arg-type]
            connect(url, subprotocols=protocol) as deflated,  # type: ignore[arg-type]
        ):
            assert deflated.protocol.extensions and not one.protocol.extensions
            for ws, operation_id in ((one, "1"), (two, "other"), (deflated, "1")):
                await hub.subscribe(ws, operation_id)

            def members() -> list[Any]:
                return [m for g in hub.fanout.groups.values() for m in g.members]

            await until(
                lambda: (
                    len(listeners(hub.app) - before) == 1
                    and len(members()) == 3
                    and all(m.send is not None for m in members())
                ),
                "the three subscriptions in one group",
            )
            direct = sorted(m.direct is not None for m in members())
            readers = [
                asyncio.create_task(read(ws, op))
                for ws, op in ((one, "1"), (two, "other"), (deflated, "1"))
            ]
            for start in range(0, len(ids), 10):
                await hub.push(*ids[start : start + 10])
            got = await asyncio.gather(*readers)
            async with httpx.AsyncClient() as http:
                metrics = (await http.get(f"{hub.base}/metrics")).text
        return got, direct, metrics

    got, direct, metrics = asyncio.run(scenario())
    assert direct == [False, True, True]
    assert [ext for ext, _, _ in got[0]] == ids
    assert all(kind == "PUBLISHED" for _, kind, _ in got[0])
    assert got[1] == got[0] and got[2] == got[0]  # same events, same cursors, same order
    delivered = next(
        line
        for line in metrics.splitlines()
        if line.startswith("hub_graphql_subscription_events_total")
    )
    assert float(delivered.split()[-1]) == 3 * len(ids)


def test_a_direct_socket_whose_buffer_is_full_falls_behind_alone(hub: Hub) -> None:
    """When a socket's transport says its buffer is full (uvicorn's protocol is told
    pause_writing, as the event loop does), the group's writer stops writing to it directly:
    its frames wait in its inbox, which overflows (queue size 3) into a 4290 close, while the
    other socket of the group gets every frame at once."""
    ids = [f"p{i}" for i in range(6)]
    url = hub.base.replace("http://", "ws://") + "/graphql"
    protocol = ["graphql-transport-ws"]  # type: ignore[list-item]

    async def scenario() -> tuple[list[str], int | None, list[str]]:
        before = listeners(hub.app)
        async with (
            connect(url, subprotocols=protocol, compression=None) as stuck,  # type: ignore[arg-type]
            connect(url, subprotocols=protocol, compression=None) as fine,  # type: ignore[arg-type]
        ):
            await hub.subscribe(stuck, "stuck")
            await hub.subscribe(fine, "fine")

            def members() -> dict[str, Any]:
                return {m.id: m for g in hub.fanout.groups.values() for m in g.members}

            await until(
                lambda: (
                    len(listeners(hub.app) - before) == 1
                    and len(members()) == 2
                    and all(m.send is not None and m.direct for m in members().values())
                ),
                "both subscriptions in one group, writing directly",
            )
            transport_of_stuck = members()["stuck"].direct._protocol
            transport_of_stuck.pause_writing()
            await hub.push(*ids)  # one batch of six
            got_fine = await external_ids(fine, len(ids))  # while the other one is still paused
            stuck_member = members()["stuck"]
            await until(lambda: stuck_member.inbox.fell_behind, "the stuck member to overflow")
            transport_of_stuck.resume_writing()  # its close frame can go out now
            got_stuck: list[str] = []
            with pytest.raises(ConnectionClosed):
                while True:
                    message = json.loads(await asyncio.wait_for(stuck.recv(), 20))
                    if message["type"] == "next":
                        got_stuck.append(
                            message["payload"]["data"]["missionEvents"]["mission"]["externalId"]
                        )
            code = stuck.close_code
        return got_fine, code, got_stuck

    got_fine, code, got_stuck = asyncio.run(scenario())
    assert got_fine == ids
    assert code == CLOSE_FELL_BEHIND
    assert got_stuck == []  # nothing half-sent: it resumes from its last cursor


def test_the_writer_gives_way_to_a_request_in_flight_and_still_delivers_all_in_order(
    hub: Hub,
) -> None:
    """While an HTTP request is being served (here one whose body has only partly arrived), the
    group's writer rests after each slice of members (a slice of one here) instead of taking
    every other turn of the loop: both sockets still get every event, in order, and the request
    counts as in flight until its response starts."""
    hub.fanout.slice_size = 1
    ids = [f"g{i}" for i in range(20)]
    url = hub.base.replace("http://", "ws://") + "/graphql"
    protocol = ["graphql-transport-ws"]  # type: ignore[list-item]
    host, port = hub.base.removeprefix("http://").split(":")
    body = json.dumps({"query": "{ __typename }"}).encode()
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()

    async def scenario() -> tuple[list[list[str]], int, bytes]:
        before = listeners(hub.app)
        async with (
            connect(url, subprotocols=protocol, compression=None) as one,  # type: ignore[arg-type]
            connect(url, subprotocols=protocol, compression=None) as two,  # type: ignore[arg-type]
        ):
            await hub.subscribe(one, "1")
            await hub.subscribe(two, "1")

            def members() -> list[Any]:
                return [m for g in hub.fanout.groups.values() for m in g.members]

            await until(
                lambda: (
                    len(listeners(hub.app) - before) == 1
                    and len(members()) == 2
                    and all(m.send is not None and m.direct for m in members())
                ),
                "both subscriptions in one group, writing directly",
            )
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(head + body[:5])  # the rest of the body later: the request waits
            await writer.drain()
            await until(lambda: hub.app.requests.count == 1, "the request to be in flight")
            readers = [asyncio.create_task(external_ids(ws, len(ids))) for ws in (one, two)]
            for start in range(0, len(ids), 10):
                await hub.push(*ids[start : start + 10])
            got = await asyncio.gather(*readers)
            held = hub.app.requests.count  # the pushes' own requests have been answered
            writer.write(body[5:])
            await writer.drain()
            status = await asyncio.wait_for(reader.readline(), 20)
            await until(lambda: hub.app.requests.count == 0, "the answered request to end")
            writer.close()
            await writer.wait_closed()
        return got, held, status

    got, held, status = asyncio.run(scenario())
    assert got == [ids, ids]
    assert held == 1
    assert status.startswith(b"HTTP/1.1 200")


def test_direct_sockets_with_interleaved_operation_ids_each_get_their_own_frames(
    hub: Hub,
) -> None:
    """Four direct sockets of one group, two operation ids between them, written one member per
    slice: whichever order the group's members come in, each socket gets every event, in
    order, under its own id (the writer switches frames whenever the id changes)."""
    hub.fanout.slice_size = 1
    ids = [f"i{i}" for i in range(12)]
    url = hub.base.replace("http://", "ws://") + "/graphql"
    protocol = ["graphql-transport-ws"]  # type: ignore[list-item]
    operations = ["a", "b", "a", "b"]

    async def read(ws: ClientConnection, operation_id: str) -> list[str]:
        got: list[str] = []
        while len(got) < len(ids):
            message = json.loads(await asyncio.wait_for(ws.recv(), 20))
            if message["type"] == "next":
                assert message["id"] == operation_id
                got.append(message["payload"]["data"]["missionEvents"]["mission"]["externalId"])
        return got

    async def scenario() -> tuple[list[list[str]], int]:
        before = listeners(hub.app)
        sockets = [
            await connect(url, subprotocols=protocol, compression=None)  # type: ignore[arg-type]
            for _ in operations
        ]
        try:
            for ws, operation_id in zip(sockets, operations, strict=True):
                await hub.subscribe(ws, operation_id)
            await hub.grouped_directly(before, len(operations))
            prefixes = len({id(m.prefix) for m in hub.members()})
            readers = [
                asyncio.create_task(read(ws, op))
                for ws, op in zip(sockets, operations, strict=True)
            ]
            for start in range(0, len(ids), 4):
                await hub.push(*ids[start : start + 4])
            return list(await asyncio.gather(*readers)), prefixes
        finally:
            for ws in sockets:
                await ws.close()

    got, prefixes = asyncio.run(scenario())
    assert got == [ids] * len(operations)
    assert prefixes == 2  # one prefix object per operation id
