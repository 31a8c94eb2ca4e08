"""Webhooks as an attack surface: where the hub refuses to send, and how it sends.

Names are resolved by a resolver the test gives a fixed answer (never real DNS)."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import trustme
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from hub.clock import ManualClock
from hub.settings import Settings
from hub.webhooks import AddressGuard, Sender, TargetRefused, new_secret
from tests.conftest import Store
from tests.servers import serve
from tests.test_webhooks import (
    ALL,
    CREATE,
    DELIVERIES,
    mission,
    running,
    until_delivered,
    with_loopback,
)
from tests.webhook_receiver import Receiver


@pytest.fixture
def loopback(settings: Settings) -> Settings:
    return with_loopback(settings)


class FixedResolver:
    """The answers of a DNS the test controls: {name: [addresses]}."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        if host not in self.answers:
            raise OSError(f"{host}: name not known")
        return self.answers[host]


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("https://127.0.0.1/hook", "127.0.0.1 is a loopback address"),
        ("https://10.0.0.1/hook", "10.0.0.1 is a private address"),
        ("https://169.254.169.254/latest/meta-data/", "link-local (cloud metadata)"),
        ("https://intranet.example/hook", "10.20.30.40 is a private address"),
        ("https://[::1]/hook", "::1 is a loopback address"),
        ("https://[::ffff:127.0.0.1]/hook", "loopback"),
        ("https://split.example/hook", "192.168.1.5 is a private address"),
        ("http://hooks.example.com/hook", "https only"),
        ("ftp://hooks.example.com/hook", "must start with https://"),
        ("https://user:pw@hooks.example.com/hook", "credentials"),
        ("https://unknown.example/hook", "does not resolve"),
    ],
)
def test_create_webhook_refuses_targets_outside_the_public_internet(
    settings: Settings, clock: ManualClock, url: str, says: str
) -> None:
    resolver = FixedResolver(
        {
            "intranet.example": ["10.20.30.40"],
            "split.example": ["93.184.216.34", "192.168.1.5"],  # one bad answer is enough
            "hooks.example.com": ["93.184.216.34"],
        }
    )
    with running(settings, clock, resolver=resolver) as hub:
        body = hub.call(CREATE, url=url, events=ALL)
        listed = hub.data("{ webhooks { id } }")["webhooks"]
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert says in error["message"]
    assert listed == []  # nothing stored


def test_a_public_https_target_is_accepted(settings: Settings, clock: ManualClock) -> None:
    resolver = FixedResolver({"hooks.example.com": ["93.184.216.34"]})
    with running(settings, clock, resolver=resolver) as hub:
        created = hub.data(CREATE, url="https://hooks.example.com/hook", events=ALL)
    assert created["createWebhook"]["webhook"]["url"] == "https://hooks.example.com/hook"
    assert resolver.asked == ["hooks.example.com"]


def test_an_operator_network_allows_exactly_what_it_lists() -> None:
    guard = AddressGuard(allowed_networks=[ipaddress.ip_network("127.0.0.0/8")])
    guard.check_address("127.0.0.1")
    with pytest.raises(TargetRefused, match="private"):
        guard.check_address("10.0.0.1")
    with pytest.raises(TargetRefused, match="link-local"):
        guard.check_address("169.254.169.254")
    guard.check_address("93.184.216.34")  # public


def test_delivery_connects_to_the_checked_address_and_refuses_a_rebound_name(
    loopback: Settings, clock: ManualClock, store: Store
) -> None:
    """The name is resolved once per delivery and the connection goes to that address (`.test`
    names never resolve in real DNS); when the name's answer turns private, the delivery is a
    recorded failure and nothing is sent."""
    receiver = Receiver(clock)
    resolver = FixedResolver({"hooks.intranet.test": ["127.0.0.1"]})
    with serve(receiver.app) as base:
        port = base.rsplit(":", 1)[1]
        url = f"http://hooks.intranet.test:{port}/hook"
        with running(loopback, clock, resolver=resolver) as hub:
            created = hub.data(CREATE, url=url, events=ALL)["createWebhook"]
            receiver.secrets.append(created["secret"])
            store.ingest("alpha", [mission("m1", "environnement")])
            until_delivered(clock, lambda: receiver.accepted(), "the first delivery")
            resolver.answers["hooks.intranet.test"] = ["10.0.0.7"]  # rebinding
            store.ingest("alpha", [mission("m2", "environnement")])

            def refused() -> bool:
                history = hub.data(DELIVERIES, id=created["webhook"]["id"], first=1)
                last = history["webhookDeliveries"]["nodes"][0]
                return bool(last["lastError"]) and "refused" in last["lastError"]

            until_delivered(clock, refused, "the refused attempt")
            last = hub.data(DELIVERIES, id=created["webhook"]["id"], first=1)
    assert receiver.accepted()[0].host == f"hooks.intranet.test:{port}"
    assert len(receiver.receipts) == 1  # nothing reached the receiver after the rebinding
    node = last["webhookDeliveries"]["nodes"][0]
    assert node["status"] == "PENDING" and node["lastStatusCode"] is None
    assert "10.0.0.7 is a private address" in node["lastError"]


async def _hang(request: Request) -> Response:
    """Never answers; ends when the client gives up and disconnects, so that the server can
    stop (a handler that outlives its client holds uvicorn's shutdown)."""
    await request.body()
    while (await request.receive())["type"] != "http.disconnect":
        pass
    return Response()


async def _endless() -> AsyncIterator[bytes]:
    while True:
        yield b"x" * 65536
        await asyncio.sleep(0)  # sleep-ok: yields to the loop between chunks, waits for nothing


def _awkward_receiver() -> Starlette:
    async def redirect(request: Request) -> Response:
        return RedirectResponse("http://127.0.0.1:1/elsewhere", status_code=307)

    async def huge(request: Request) -> Response:
        return StreamingResponse(_endless(), media_type="text/plain")

    return Starlette(
        routes=[
            Route("/redirect", redirect, methods=["POST"]),
            Route("/huge", huge, methods=["POST"]),
            Route("/hang", _hang, methods=["POST"]),
        ]
    )


async def test_the_sender_follows_no_redirect_caps_the_response_and_times_out() -> None:
    guard = AddressGuard(allow_http=True, allowed_networks=[ipaddress.ip_network("127.0.0.0/8")])
    sender = Sender(guard, connect_timeout=1.0, read_timeout=0.3, max_response_bytes=1024)
    at = datetime(2026, 11, 15, 12, tzinfo=UTC)
    secret = new_secret()
    try:
        with serve(_awkward_receiver()) as base:
            redirect = await sender.send(f"{base}/redirect", [secret], "msg_1", {}, at)
            huge = await sender.send(f"{base}/huge", [secret], "msg_2", {}, at)
            hang = await sender.send(f"{base}/hang", [secret], "msg_3", {}, at)
        refused = await sender.send("http://10.0.0.1/hook", [secret], "msg_4", {}, at)
    finally:
        await sender.aclose()
    assert (redirect.status_code, redirect.error) == (307, "redirects are not followed")
    assert huge.ok  # answered 200; the endless body was read up to the cap, then dropped
    assert hang.status_code is None and hang.error == "timeout: ReadTimeout"
    assert refused.status_code is None and "private" in (refused.error or "")


async def test_https_connects_to_the_checked_address_with_the_name_for_tls() -> None:
    """The connection goes to the address the guard checked; the TLS server name and the
    certificate check use the URL's name, as they would without the pinning."""
    at = datetime(2026, 11, 15, 12, tzinfo=UTC)
    receiver = Receiver(ManualClock(at))
    receiver.secrets.append(new_secret())
    ca = trustme.CA()
    cert = ca.issue_cert("hooks.intranet.test")
    trust = ssl.create_default_context()
    ca.configure_trust(trust)
    resolver = FixedResolver({"hooks.intranet.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
    guard = AddressGuard(allowed_networks=[ipaddress.ip_network("127.0.0.0/8")], resolver=resolver)
    sender = Sender(guard, connect_timeout=2, read_timeout=2, max_response_bytes=1024, verify=trust)
    pem = cert.private_key_and_cert_chain_pem.tempfile()
    try:
        with pem as path, serve(receiver.app, ssl_certfile=path, ssl_keyfile=path) as base:
            port = base.rsplit(":", 1)[1]
            named = f"https://hooks.intranet.test:{port}/hook"
            ok = await sender.send(named, receiver.secrets, "msg_1", {"n": 1}, at)
            # The same address under a name the certificate does not hold: refused by TLS,
            # not carried over the connection the first delivery opened.
            other = f"https://other.test:{port}/hook"
            mismatch = await sender.send(other, receiver.secrets, "msg_2", {"n": 2}, at)
    finally:
        await sender.aclose()
    assert ok.ok, ok.error
    assert [r.host for r in receiver.receipts] == [f"hooks.intranet.test:{port}"]
    assert not mismatch.ok and "certificate" in (mismatch.error or "").lower()
