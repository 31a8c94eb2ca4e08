"""HTTP to partners, written once: timeouts, retries with backoff and jitter, Retry-After, errors.

Every request goes through `Http`, so every connector gets the same behaviour: a 429, a 5xx, a
408, a timeout or a broken connection is retried with exponential backoff and full jitter
(AWS's "full jitter": a random wait between 0 and base * 2**attempt, capped), never sooner than
the partner's Retry-After; attempts and the total wait are capped, after which the pull fails
with `RetriableError` (carrying `retry_after`) so that the scheduler, not this request, waits
longer. 401/403 raise `AuthError` at once; any other 4xx raises `FatalError`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx

from connectors._errors import AuthError, ConfigError, FatalError, FeedError, RetriableError

__all__ = ["Http", "RetryPolicy", "Sleep", "parse_retry_after"]

log = logging.getLogger("connectors.http")
T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
USER_AGENT = "entraide-hub-connector/0.1"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard one request tries; small values in tests, the defaults in production."""

    attempts: int = 5  # tries per request, the first included
    backoff_base: float = 0.5  # seconds: the first retry waits up to this
    backoff_cap: float = 30.0  # no single backoff wait is longer
    max_wait: float = 120.0  # total sleeping per request; past it, the scheduler takes over


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date (RFC 9110)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class Http:
    """One partner's HTTP: its credentials, timeout and retry policy over a shared client."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        partner: str,
        auth: httpx.Auth | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        max_body_bytes: int = 2**30,
        sleep: Sleep = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._client = client
        self.partner = partner
        self._auth = auth
        self._headers = {"User-Agent": USER_AGENT, **(headers or {})}
        self._timeout = httpx.Timeout(timeout)
        self.retry = retry or RetryPolicy()
        self._max_body_bytes = max_body_bytes
        self._sleep = sleep
        self._jitter = jitter

    async def get_json(self, url: str, params: Mapping[str, Any] | None = None) -> Any:
        return await self.request("GET", url, params=params, read=self._json)

    async def request(
        self,
        method: str,
        url: str,
        *,
        read: Callable[[httpx.Response], T],
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        pass_statuses: frozenset[int] = frozenset(),
    ) -> T:
        """Send with retries; `read` turns the response into a value, inside the retry loop
        (so a RetriableError it raises, such as a GraphQL rate limit in a 200, is retried).
        Statuses in `pass_statuses` reach `read` instead of being classified here."""

        async def once() -> T:
            response = await self._send(
                method, url, params, json, headers, stream=False, pass_statuses=pass_statuses
            )
            return read(response)

        return await self._retrying(once)

    @asynccontextmanager
    async def stream(
        self, url: str, params: Mapping[str, Any] | None = None
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        """The body of a GET as it arrives; retries cover getting the status line, not the body
        (chunks already handed on cannot be taken back)."""

        async def once() -> httpx.Response:
            return await self._send("GET", url, params, None, None, stream=True)

        response = await self._retrying(once)
        try:
            yield self._chunks(response)
        finally:
            await response.aclose()

    async def _retrying(self, attempt: Callable[[], Awaitable[T]]) -> T:
        waited = 0.0
        for number in itertools.count(1):
            try:
                return await attempt()
            except RetriableError as error:
                delay = self._delay(number, error.retry_after)
                if number >= self.retry.attempts or waited + delay > self.retry.max_wait:
                    raise RetriableError(
                        f"{error} (gave up after {number} attempt(s), {waited:.1f}s of waiting)",
                        retry_after=error.retry_after,
                    ) from error
                log.info("%s; retrying in %.2fs (attempt %d)", error, delay, number + 1)
                await self._sleep(delay)
                waited += delay
        raise AssertionError("unreachable")  # pragma: no cover

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        policy = self.retry
        if retry_after is not None:
            # At least what the partner asked; a little jitter so clients do not stampede.
            return retry_after + self._jitter() * policy.backoff_base
        return self._jitter() * min(policy.backoff_cap, policy.backoff_base * 2.0 ** (attempt - 1))

    async def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        json: Any,
        headers: Mapping[str, str] | None,
        *,
        stream: bool,
        pass_statuses: frozenset[int] = frozenset(),
    ) -> httpx.Response:
        try:
            request = self._client.build_request(
                method,
                url,
                params=params,
                json=json,
                headers={**self._headers, **(headers or {})},
                timeout=self._timeout,
            )
        except httpx.InvalidURL as exc:
            raise ConfigError(f"{self.partner}: invalid URL {url!r}: {exc}") from exc
        where = f"{self.partner}: {method} {_safe_url(request.url)}"
        try:
            if self._auth is None:
                response = await self._client.send(request, stream=stream, follow_redirects=True)
            else:
                response = await self._client.send(
                    request, auth=self._auth, stream=stream, follow_redirects=True
                )
        except httpx.TimeoutException as exc:
            raise RetriableError(f"{where} timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise RetriableError(f"{where} failed: {type(exc).__name__}: {exc}") from exc
        except httpx.DecodingError as exc:
            raise FeedError(f"{where}: the body cannot be decoded: {exc}") from exc
        except httpx.TooManyRedirects as exc:
            raise FatalError(f"{where}: too many redirects") from exc
        if response.is_success or response.status_code in pass_statuses:
            return response
        if stream:
            await response.aclose()
        raise self._status_error(response, where, read=not stream)

    @staticmethod
    def _status_error(response: httpx.Response, where: str, *, read: bool) -> Exception:
        status = response.status_code
        detail = ""
        if read and response.content:
            detail = ": " + " ".join(response.text[:200].split())
        message = f"{where} answered HTTP {status}{detail}"
        if status in (401, 403):
            return AuthError(
                f"{message}; the partner refused our credentials: check the connector's "
                "api key, or its username and password",
                status=status,
            )
        if status in (408, 429) or status >= 500:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return RetriableError(message, retry_after=retry_after)
        return FatalError(message, status=status)

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            raise FeedError(
                f"{self.partner}: {response.request.method} {_safe_url(response.request.url)} "
                f"answered HTTP {response.status_code} with a body that is not JSON"
            ) from exc

    async def _chunks(self, response: httpx.Response) -> AsyncIterator[bytes]:
        where = f"{self.partner}: GET {_safe_url(response.request.url)}"
        received = 0
        try:
            async for chunk in response.aiter_bytes():
                received += len(chunk)
                if received > self._max_body_bytes:
                    raise FeedError(f"{where}: body larger than {self._max_body_bytes} bytes")
                yield chunk
        except httpx.DecodingError as exc:
            raise FeedError(f"{where}: the body cannot be decoded: {exc}") from exc
        except httpx.TransportError as exc:
            # Mid-body: what was handed on stays handed on, so the pull is retried as a whole.
            raise RetriableError(
                f"{where}: connection lost after {received} bytes ({type(exc).__name__})"
            ) from exc


def _safe_url(url: httpx.URL) -> str:
    """The URL for messages, without userinfo (a password in a feed URL must not be logged)."""
    return str(url.copy_with(username=None, password=None)) if url.userinfo else str(url)
