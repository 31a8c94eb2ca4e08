"""Real servers on loopback for tests: the hub under uvicorn, and a company identity provider."""

from __future__ import annotations

import asyncio
import inspect
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

__all__ = ["IdentityProvider", "free_port", "listeners", "poll_until", "serve", "until"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve(app: Any, port: int | None = None, **options: Any) -> Iterator[str]:
    """Run an ASGI app under uvicorn in a thread; yields its base URL (https when `options`
    name a certificate: ssl_certfile, ssl_keyfile)."""
    port = port or free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", **options
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    poll_until(lambda: server.started or not thread.is_alive(), "the server to start", 30)
    if not server.started:
        raise RuntimeError("server did not start")
    try:
        yield f"{'https' if options.get('ssl_certfile') else 'http'}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def poll_until(fact: Callable[[], object], what: str, timeout: float = 20) -> None:
    """Wait, bounded, for a fact that another thread or process makes true."""
    deadline = time.monotonic() + timeout
    while not fact():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.005)  # sleep-ok: a bounded poll of the fact


async def until(
    fact: Callable[[], object | Awaitable[object]], what: str, timeout: float = 20
) -> None:
    """`poll_until` inside an event loop (the loop runs while it waits); the fact may be async."""
    deadline = time.monotonic() + timeout
    while not await _value(fact()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.005)  # sleep-ok: a bounded poll of the fact


async def _value(fact: object | Awaitable[object]) -> object:
    return await fact if inspect.isawaitable(fact) else fact


def listeners(app: Any) -> set[Any]:
    """The live feed's subscribers of a hub run by `serve`: one per subscription execution,
    registered once it will see every later event. A snapshot, safe to take from another thread
    (copying a set holds the GIL)."""
    return set(app.state.services.live._listeners)


class IdentityProvider:
    """A company's OAuth identity provider: serves its JWKS, signs tokens, rotates keys."""

    def __init__(self) -> None:
        self.keys = [self._key()]
        self.jwks_requests = 0
        self.app = Starlette(routes=[Route("/jwks", self._jwks)])

    @staticmethod
    def _key() -> RSAKey:
        key = RSAKey.generate_key(2048, private=True)
        key.ensure_kid()
        return key

    async def _jwks(self, _request: Request) -> JSONResponse:
        self.jwks_requests += 1
        return JSONResponse({"keys": [k.as_dict(private=False) for k in self.keys]})

    def rotate(self) -> None:
        """A new key signs from now on; the old one is no longer published."""
        self.keys = [self._key()]

    def token(self, claims: dict[str, Any], key: RSAKey | None = None) -> str:
        signing = key or self.keys[0]
        return jwt.encode({"alg": "RS256", "kid": signing.kid}, claims, signing)
