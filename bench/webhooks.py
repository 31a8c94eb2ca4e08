#!/usr/bin/env python
"""Webhook benchmark: N mission events delivered, in order, to one endpoint.

    python bench/webhooks.py [--events 1000] [--database-url URL]

Migrates a fresh store (a temporary SQLite file unless --database-url names one; that database
must be empty), starts the hub in-process (its lifespan: the webhook worker, on the machine's
clock), serves a receiver on loopback that verifies every delivery with the `standardwebhooks`
library, registers a webhook for every PUBLISHED/UPDATED/CLOSED event, writes N missions in one
batch through the write service, and times the first event's queueing to the last delivery.
A second figure times the sender alone (the same N POSTs, signed, no store): the difference is
the outbox's own cost (queue, read, mark delivered).
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

# The hub and the tests' receiver, from this checkout.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from starlette.testclient import TestClient

from hub.catalogue.model import MissionDraft
from hub.clock import SystemClock
from hub.ingest.service import MissionWriter
from hub.settings import Settings, load_settings
from hub.storage.db import make_engine
from hub.storage.migrate import upgrade
from hub.web.app import create_app
from hub.webhooks import AddressGuard, Sender
from tests.conftest import Clients
from tests.servers import poll_until, serve
from tests.webhook_receiver import Receiver

CREATE = "mutation($u: String!) { createWebhook(url: $u, events: [PUBLISHED]) { secret } }"


async def _migrate(settings: Settings) -> None:
    engine = make_engine(settings)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def _write(settings: Settings, count: int) -> None:
    drafts = [
        MissionDraft(
            external_id=f"w{i}",
            title=f"Mission {i}",
            causes=["environnement"],
            application_url=f"https://partner.example/missions/{i}",
        )
        for i in range(count)
    ]
    engine = make_engine(settings)
    try:
        await MissionWriter(engine, SystemClock()).apply("alpha", drafts)
    finally:
        await engine.dispose()


async def _sender_alone(url: str, secret: str, count: int) -> float:
    guard = AddressGuard(allow_http=True, allowed_networks=[ipaddress.ip_network("127.0.0.0/8")])
    sender = Sender(guard, connect_timeout=5, read_timeout=10, max_response_bytes=65536)
    body = {"cursor": "x", "type": "PUBLISHED", "mission": {"title": "x" * 800}}
    started = time.perf_counter()
    try:
        for i in range(count):
            attempt = await sender.send(url, [secret], f"bench_{i}", body, datetime.now(UTC))
            assert attempt.ok, attempt.error
    finally:
        await sender.aclose()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    url = args.database_url or f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/webhooks.db"
    settings = load_settings(
        database_url=url,
        scheduler=False,
        log_level="warning",
        rate_limit_per_minute=0,
        webhook_allow_http=True,
        webhook_allowed_networks="127.0.0.0/8",
    )
    asyncio.run(_migrate(settings))
    clock = SystemClock()
    receiver = Receiver(clock)
    with serve(receiver.app) as base, TestClient(create_app(settings, clock)) as http:
        clients = Clients(settings, http, clock)
        token = clients.token(clients.create("company", "Bench"))
        answer = http.post(
            "/graphql",
            headers={"Authorization": f"Bearer {token}"},
            json={"query": CREATE, "variables": {"u": f"{base}/hook"}},
        )
        receiver.secrets.append(answer.json()["data"]["createWebhook"]["secret"])
        asyncio.run(_write(settings, args.events))
        started = time.perf_counter()
        poll_until(lambda: len(receiver.accepted()) >= args.events, "every delivery", 3600)
        hub_seconds = time.perf_counter() - started
        twice = len(receiver.receipts) - args.events
        alone = asyncio.run(_sender_alone(f"{base}/hook", receiver.secrets[0], args.events))
    backend = "PostgreSQL" if "postgresql" in url else "SQLite"
    print(f"{backend}: {args.events} deliveries in {hub_seconds:.2f} s")
    print(f"  hub (outbox + sender): {args.events / hub_seconds:,.0f} deliveries/s")
    print(f"  sender alone:          {args.events / alone:,.0f} POSTs/s")
    print(f"  unverified: {receiver.unverified}, sent twice: {twice}")


if __name__ == "__main__":
    main()
