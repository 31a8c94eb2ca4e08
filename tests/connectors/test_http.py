"""The HTTP plumbing: Retry-After in both forms, and when a wait is too long to make here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from connectors import FeedError, RetriableError, RetryPolicy
from connectors._http import Http, parse_retry_after
from tests.connectors.conftest import Partners
from tests.connectors.pulling import pull, pull_until_error

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("3", 3.0),
        (" 0 ", 0.0),
        ("Mon, 05 Jan 2026 09:00:30 GMT", 30.0),
        ("Mon, 05 Jan 2026 08:00:00 GMT", 0.0),  # in the past: now
        ("soon", None),
        (None, None),
    ],
)
def test_retry_after_is_seconds_or_an_http_date(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, NOW) == seconds


async def test_waits_until_an_http_date_retry_after(
    partners: Partners, client: httpx.AsyncClient
) -> None:
    partner = partners.get("api-engagement-api")
    partner.faults.rate_limit = 1
    # Whole seconds only in an HTTP date: two ahead is at least one second of waiting.
    partner.faults.retry_after = format_datetime(datetime.now(UTC) + timedelta(seconds=2), True)

    pulled = await pull(partner.connector(), client)

    assert len(pulled.drafts) == partner.count
    limited, after = partner.hits[0], partner.hits[1]
    assert limited.status == 429 and after.arrived - limited.sent >= 1.0


async def test_a_retry_after_longer_than_the_budget_is_left_to_the_scheduler(
    partners: Partners, client: httpx.AsyncClient
) -> None:
    partner = partners.get("api-engagement-api")
    partner.faults.rate_limit = 1
    partner.faults.retry_after = "3600"

    pulled = await pull_until_error(partner.connector(), client)

    assert isinstance(pulled.error, RetriableError)
    assert pulled.error.retry_after == 3600.0
    assert len(partner.hits) == 1  # no hour-long sleep inside a pull


async def test_backoff_has_full_jitter_and_a_cap() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    def failing(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503)

    policy = RetryPolicy(attempts=6, backoff_base=1.0, backoff_cap=4.0, max_wait=100.0)
    async with httpx.AsyncClient(transport=httpx.MockTransport(failing)) as client:
        http = Http(client, partner="p", retry=policy, sleep=sleep, jitter=lambda: 1.0)
        with pytest.raises(RetriableError, match="gave up after 6"):
            await http.get_json("https://partner.example/x")

    assert waits == [1.0, 2.0, 4.0, 4.0, 4.0]  # base * 2**n, capped; jitter scales it down


async def test_a_body_that_cannot_be_decoded_is_a_feed_error() -> None:
    def corrupt(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=b"not gzip")

    async with httpx.AsyncClient(transport=httpx.MockTransport(corrupt)) as client:
        http = Http(client, partner="p")
        with pytest.raises(FeedError, match="cannot be decoded"):
            await http.get_json("https://partner.example/x")
        with pytest.raises(FeedError, match="cannot be decoded"):
            async with http.stream("https://partner.example/feed.xml") as body:
                [chunk async for chunk in body]
