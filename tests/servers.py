"""Real servers on loopback for tests: the hub under uvicorn, and a company identity provider."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

__all__ = ["IdentityProvider", "free_port", "serve"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve(app: Any, port: int | None = None) -> Iterator[str]:
    """Run an ASGI app under uvicorn in a thread; yields its base URL."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


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
