"""A real HTTP server on loopback for a simulated partner, with faults switched on per test.

uvicorn runs the partner's Starlette app in a background thread, on a socket bound to a free
port of 127.0.0.1. `FaultMiddleware` sits in front of every partner: it logs each request
(arrival time, status, when the response was sent) so that tests can measure on the server
side that a Retry-After was honoured, and injects the transport-level faults every protocol
shares: slow responses, 500s, 429s with Retry-After.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import uvicorn

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

__all__ = ["FaultMiddleware", "Faults", "Hit", "LiveServer"]


@dataclass
class Faults:
    """What the partner does wrong; everything off by default. Counters count down per request."""

    slow: int = 0  # the next N responses start only after `delay` seconds
    delay: float = 1.0
    errors: int = 0  # the next N requests get HTTP 500
    rate_limit: int = 0  # the next N requests get HTTP 429 with `retry_after`
    retry_after: str = "1"
    truncate: bool = False  # XML: the document stops in the middle of a mission
    malformed: bool = False  # unreadable records mixed in among the good ones
    renamed: bool = False  # a field travels under a drifted name
    duplicates: bool = False  # one record is delivered twice
    loop: bool = False  # pagination never advances
    bomb: str | None = None  # XML: "billion-laughs" or "external-entity"


@dataclass
class Hit:
    """One request as the server saw it (time.monotonic(), shared with the test's process)."""

    method: str
    path: str
    query: str
    arrived: float
    status: int = 0
    sent: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


class FaultMiddleware:
    """Logs every request and answers some of them with the switched-on faults."""

    def __init__(self, app: ASGIApp, faults: Callable[[], Faults], hits: list[Hit]) -> None:
        self.app = app
        self._faults = faults
        self.hits = hits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        hit = Hit(
            method=scope["method"],
            path=scope["path"],
            query=scope.get("query_string", b"").decode(),
            arrived=time.monotonic(),
            headers={k.decode().lower(): v.decode() for k, v in scope["headers"]},
        )
        self.hits.append(hit)
        faults = self._faults()
        if faults.errors > 0:
            faults.errors -= 1
            await _answer(send, hit, 500, {"ok": False, "code": "SERVER_ERROR"})
            return
        if faults.rate_limit > 0:
            faults.rate_limit -= 1
            body = {"ok": False, "code": "TOO_MANY_REQUESTS", "message": "Rate limit exceeded"}
            await _answer(send, hit, 429, body, [(b"retry-after", faults.retry_after.encode())])
            return
        if faults.slow > 0:
            faults.slow -= 1
            await asyncio.sleep(faults.delay)  # sleep-ok: the fault itself, a partner that is slow

        async def logging_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                hit.status = message["status"]
                hit.sent = time.monotonic()
            await send(message)

        await self.app(scope, receive, logging_send)


async def _answer(
    send: Send,
    hit: Hit,
    status: int,
    body: dict[str, Any],
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    payload = json.dumps(body).encode()
    hit.status = status
    hit.sent = time.monotonic()  # before sending: the client cannot have it any earlier
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), *(headers or [])],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class LiveServer:
    """uvicorn serving `app` on 127.0.0.1 and a free port, in a daemon thread."""

    def __init__(self, app: ASGIApp) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            loop="asyncio",
            http="h11",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the simulated partner server did not start")
            time.sleep(0.01)  # sleep-ok: a bounded poll for the server's start
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
        self._socket.close()
