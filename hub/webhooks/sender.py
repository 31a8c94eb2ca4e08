"""One delivery attempt: check the target, sign per Standard Webhooks, POST to the checked address.

The connection goes to the address the guard checked (the URL's host is replaced by it), while
the Host header and the TLS server name (SNI, and the certificate check) stay the URL's host.
Timeouts bound connecting and reading; the response is read up to a cap; redirects are never
followed (a 3xx is a failed attempt: a redirect could point anywhere).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from datetime import datetime

import httpx
import orjson
from standardwebhooks import Webhook

from hub.webhooks.guard import AddressGuard, TargetRefused

__all__ = ["Attempt", "Sender"]


@dataclass(frozen=True, slots=True)
class Attempt:
    """What an attempt gave: a 2xx is a delivery; anything else is retried."""

    status_code: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status_code is not None and 200 <= self.status_code < 300


def signatures(secrets: list[str], message_id: str, at: datetime, body: bytes) -> str:
    """The webhook-signature header: one signature per secret, space-separated (a rotation's
    overlap signs with both, and a receiver that knows either accepts it)."""
    return " ".join(Webhook(secret).sign(message_id, at, body) for secret in secrets)


class Sender:
    def __init__(
        self,
        guard: AddressGuard,
        *,
        connect_timeout: float,
        read_timeout: float,
        max_response_bytes: int,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.guard = guard
        self.max_response_bytes = max_response_bytes
        # No kept-alive connections: they are pooled by address, and a connection opened (and
        # its certificate checked) for one name must not carry another name's delivery to the
        # same address. No environment proxies: a proxy would connect to the name, not the
        # checked address.
        transport = httpx.AsyncHTTPTransport(
            verify=verify, limits=httpx.Limits(max_keepalive_connections=0)
        )
        self.http = httpx.AsyncClient(
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            follow_redirects=False,
            trust_env=False,
            transport=transport,
        )

    async def aclose(self) -> None:
        await self.http.aclose()

    async def send(
        self, url: str, secrets: list[str], message_id: str, payload: object, at: datetime
    ) -> Attempt:
        try:
            target = await self.guard.target(url)
        except TargetRefused as exc:
            return Attempt(None, f"refused: {exc}")
        body = orjson.dumps(payload)
        headers = {
            "host": _host_header(url, target.host, target.port),
            "content-type": "application/json",
            "user-agent": "entraide-hub-webhooks",
            "webhook-id": message_id,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": signatures(secrets, message_id, at, body),
        }
        request = self.http.build_request(
            "POST",
            target.pinned_url,
            content=body,
            headers=headers,
            extensions={"sni_hostname": target.host},
        )
        try:
            response = await self.http.send(request, stream=True)
            try:
                await self._read_capped(response)
            finally:
                await response.aclose()
        except httpx.TimeoutException as exc:
            return Attempt(None, f"timeout: {type(exc).__name__}")
        except httpx.HTTPError as exc:
            return Attempt(None, f"{type(exc).__name__}: {exc}"[:500])
        if response.is_redirect:
            return Attempt(response.status_code, "redirects are not followed")
        if not 200 <= response.status_code < 300:
            return Attempt(response.status_code, f"HTTP {response.status_code}")
        return Attempt(response.status_code, None)

    async def _read_capped(self, response: httpx.Response) -> None:
        """Read at most the cap: a receiver's answer is not needed beyond its status."""
        read = 0
        async for chunk in response.aiter_raw():
            read += len(chunk)
            if read >= self.max_response_bytes:
                break


def _host_header(url: str, host: str, port: int) -> str:
    """The URL's host as written (an IPv6 address in brackets), with its port when given."""
    name = f"[{host}]" if ":" in host else host
    return f"{name}:{port}" if httpx.URL(url).port is not None else name
