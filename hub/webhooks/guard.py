"""Where a webhook may be sent: the guard against server-side request forgery.

A webhook URL is chosen by a client, and the hub sends to it from inside the operator's network:
without a guard, a client could make the hub call its own loopback services, the private
network, or a cloud metadata endpoint. So a target must be https (http only when the operator
allows it), and every address its name resolves to must be public (`is_global`), unless the
operator lists a network that contains it. The name is resolved once per delivery and the
connection goes to the address checked here (hub/webhooks/sender.py), so a name that changes
its answer between check and connection (DNS rebinding) gains nothing.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from hub.errors import UserInputError

__all__ = ["AddressGuard", "Resolver", "Target", "TargetRefused", "system_resolver"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# (host, port) -> the addresses the name resolves to, as text. Tests inject a fixed answer.
Resolver = Callable[[str, int], Awaitable[list[str]]]


class TargetRefused(UserInputError):
    """A webhook URL, or an address it resolves to, that the hub will not send to."""


async def system_resolver(host: str, port: int) -> list[str]:
    """The machine's resolver (getaddrinfo), off the event loop."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return sorted({str(info[4][0]) for info in infos})


@dataclass(frozen=True, slots=True)
class Target:
    """A URL checked by the guard, and the one address the hub will connect to."""

    url: str
    host: str  # as written in the URL (the Host header and the TLS server name)
    port: int
    address: str  # the checked address to connect to

    @property
    def pinned_url(self) -> str:
        """The URL with its host replaced by the checked address."""
        parts = urlsplit(self.url)
        ip = ipaddress.ip_address(self.address)
        host = f"[{ip}]" if ip.version == 6 else str(ip)
        netloc = f"{host}:{self.port}"
        return SplitResult(parts.scheme, netloc, parts.path or "/", parts.query, "").geturl()


@dataclass(frozen=True)
class AddressGuard:
    allow_http: bool = False
    allowed_networks: Sequence[Network] = ()
    resolver: Resolver = system_resolver

    def check_url(self, url: str) -> SplitResult:
        """The URL's parts, or TargetRefused saying what is wrong with it."""
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises ValueError on a malformed port
        except ValueError as exc:
            raise TargetRefused(f"url: not a valid URL ({exc})") from exc
        if parts.scheme not in ("https", "http"):
            raise TargetRefused("url: a webhook URL must start with https://")
        if parts.scheme == "http" and not self.allow_http:
            raise TargetRefused(
                "url: webhooks are sent over https only (the operator has not allowed http)"
            )
        if not parts.hostname:
            raise TargetRefused("url: the URL has no host")
        if parts.username or parts.password:
            raise TargetRefused("url: credentials in the URL are not accepted")
        if parts.fragment:
            raise TargetRefused("url: a fragment (#...) is never sent: remove it")
        if len(url) > 2000:
            raise TargetRefused("url: at most 2000 characters")
        return parts

    def check_address(self, address: str) -> None:
        """TargetRefused unless `address` is public or in a network the operator allows."""
        ip: IPAddress = ipaddress.ip_address(address)
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
        if any(ip in network for network in self.allowed_networks):
            return
        if not ip.is_global or ip.is_multicast:
            raise TargetRefused(
                f"url: {address} is a {_kind(ip)} address; webhooks go to public addresses "
                "only (an operator may allow a network with HUB_WEBHOOK_ALLOWED_NETWORKS)"
            )

    async def target(self, url: str) -> Target:
        """Check the URL, resolve its host once, check every address it resolves to; the first
        is the one to connect to. Raises TargetRefused."""
        parts = self.check_url(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = [host] if _is_address(host) else await self._resolve(host, port)
        for address in addresses:  # every answer: a mixed answer could be picked either way
            self.check_address(address)
        return Target(url=url, host=host, port=port, address=addresses[0])

    async def _resolve(self, host: str, port: int) -> list[str]:
        try:
            addresses = await self.resolver(host, port)
        except OSError as exc:
            raise TargetRefused(f"url: the name {host!r} does not resolve ({exc})") from exc
        if not addresses:
            raise TargetRefused(f"url: the name {host!r} resolves to no address")
        return addresses


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _kind(ip: IPAddress) -> str:
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local (cloud metadata)"
    if ip.is_private:
        return "private"
    if ip.is_multicast:
        return "multicast"
    return "reserved"
