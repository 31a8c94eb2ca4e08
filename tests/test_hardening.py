"""Every limit of the GraphQL endpoint, through the real ASGI app: each bad input gets a clear,
GraphQL-shaped refusal, and the hub answers the next request at once."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from graphql import parse
from starlette.testclient import TestClient

from hub.clock import Clock
from hub.settings import Settings, load_settings
from hub.storage.repository import MissionRepository
from hub.web.app import create_app
from hub.web.ratelimit import MemoryRateLimiter
from schema import build_schema
from schema.cost import operation_cost
from tests.conftest import SHARES_REDIS, Clients, require

NORMAL = "{ missions(first: 1) { totalCount } }"
REDIS_URL = os.environ.get("HUB_TEST_REDIS_URL", "")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def post(http: TestClient, query: str, token: str | None = None, **body: Any) -> httpx.Response:
    return http.post(
        "/graphql", json={"query": query, **body}, headers=bearer(token) if token else {}
    )


def refusal(response: httpx.Response, status: int, code: str) -> str:
    """The response is a GraphQL-shaped refusal; returns its message."""
    assert response.status_code == status, response.text
    errors = response.json()["errors"]
    assert [e["extensions"]["code"] for e in errors] == [code], errors
    message: str = errors[0]["message"]
    return message


def answers_normally(http: TestClient, token: str) -> None:
    response = post(http, NORMAL, token)
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"missions": {"totalCount": 0}}}


@contextmanager
def hub(settings: Settings, clock: Clock, **overrides: Any) -> Iterator[TestClient]:
    """Another app on the same database and clock, with some settings changed."""
    changed = load_settings(database_url=settings.database_url, **overrides)
    with TestClient(create_app(changed, clock)) as http:
        yield http


# --- the bad inputs of the issue ------------------------------------------------------------


def ten_thousand_aliases(http: TestClient, token: str) -> httpx.Response:
    query = "{" + " ".join(f"a{i}: __typename" for i in range(10_000)) + "}"
    return post(http, query, token)


def depth_fifty(http: TestClient, token: str) -> httpx.Response:
    return post(http, "{" + "missions {" * 50 + "id" + "}" * 50 + "}", token)


def two_megabyte_query(http: TestClient, token: str) -> httpx.Response:
    return post(http, "{" + "a" * 2_000_000 + "}", token)


def batch_of_a_hundred(http: TestClient, token: str) -> httpx.Response:
    return http.post("/graphql", json=[{"query": NORMAL}] * 100, headers=bearer(token))


def get_mutation(http: TestClient, token: str) -> httpx.Response:
    params = {"query": 'mutation { closeMissions(externalIds: ["A1"]) { externalId } }'}
    return http.get("/graphql", params=params, headers=bearer(token))


def text_plain_post(http: TestClient, token: str) -> httpx.Response:
    return http.post(
        "/graphql",
        content=json.dumps({"query": NORMAL}),
        headers={**bearer(token), "Content-Type": "text/plain"},
    )


@pytest.mark.parametrize(
    ("send", "status", "code", "says"),
    [
        (ten_thousand_aliases, 400, "TOKEN_LIMIT_EXCEEDED", "more than 5000 tokens"),
        (depth_fifty, 400, "DEPTH_LIMIT_EXCEEDED", "more than 12 levels"),
        (two_megabyte_query, 413, "REQUEST_TOO_LARGE", "over 262144 bytes"),
        (batch_of_a_hundred, 400, "BATCHING_DISABLED", "batching is off"),
        (get_mutation, 405, "METHOD_NOT_ALLOWED", "mutations are not allowed when using GET"),
        (text_plain_post, 415, "UNSUPPORTED_MEDIA_TYPE", "must be JSON"),
    ],
    ids=["10k-aliases", "depth-50", "2MB-query", "batch-100", "GET-mutation", "text-plain"],
)
def test_bad_input_is_refused_clearly_and_the_next_request_is_answered(
    client: TestClient, company_token: str, send: Any, status: int, code: str, says: str
) -> None:
    response = send(client, company_token)
    assert says in refusal(response, status, code)
    if code == "METHOD_NOT_ALLOWED":
        assert response.headers["allow"] == "POST"
    answers_normally(client, company_token)


# --- document limits ------------------------------------------------------------------------


def test_aliases_up_to_the_limit_pass(client: TestClient, company_token: str) -> None:
    aliases = lambda n: "{" + " ".join(f"a{i}: __typename" for i in range(n)) + "}"  # noqa: E731
    assert "errors" not in post(client, aliases(30), company_token).json()
    message = refusal(post(client, aliases(31), company_token), 400, "ALIAS_LIMIT_EXCEEDED")
    assert message == "the document has 31 aliases; at most 30 are allowed"


def test_aliases_in_fragments_count(client: TestClient, company_token: str) -> None:
    fragment = "fragment F on Query { " + " ".join(f"f{i}: __typename" for i in range(20)) + " }"
    query = "{ ...F " + " ".join(f"q{i}: __typename" for i in range(11)) + " } " + fragment
    refusal(post(client, query, company_token), 400, "ALIAS_LIMIT_EXCEEDED")


def test_depth_counts_nested_fields_and_fragments(
    settings: Settings, company_token: str, clock: Clock
) -> None:
    with hub(settings, clock, max_depth=4) as http:
        four = "{ missions { edges { node { title } } } }"
        assert "errors" not in post(http, four, company_token).json()
        five = "{ missions { edges { node { organization { name } } } } }"
        message = refusal(post(http, five, company_token), 400, "DEPTH_LIMIT_EXCEEDED")
        assert message == "operation 'anonymous' nests fields more than 4 levels deep; " + (
            "at most 4 are allowed"
        )
        spread = (
            "query Deep { missions { ...E } } fragment E on MissionConnection "
            "{ edges { node { organization { name } } } }"
        )
        assert "'Deep'" in refusal(post(http, spread, company_token), 400, "DEPTH_LIMIT_EXCEEDED")


def test_introspection_does_not_count_toward_depth(client: TestClient, company_token: str) -> None:
    deep = "{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType {"
    deep += " ofType { ofType { ofType { name } } } } } } } } } } } } }"
    body = post(client, deep, company_token).json()
    assert "errors" not in body, body


def test_token_limit_stops_the_parser(settings: Settings, company_token: str, clock: Clock) -> None:
    with hub(settings, clock, max_tokens=100) as http:
        fields = lambda n: "{" + " __typename" * n + "}"  # noqa: E731
        assert "errors" not in post(http, fields(98), company_token).json()
        message = refusal(post(http, fields(99), company_token), 400, "TOKEN_LIMIT_EXCEEDED")
        assert message == "the document has more than 100 tokens; at most 100 are allowed"
        # Comments are tokens to the parser too: padding with them does not get through.
        padded = "{ __typename " + "#\n" * 200 + "}"
        refusal(post(http, padded, company_token), 400, "TOKEN_LIMIT_EXCEEDED")


def test_one_field_repeated_a_thousand_times_is_refused_before_validation(
    client: TestClient, company_token: str
) -> None:
    # graphql-core compares each pair of same-named fields: without this limit, a second of CPU.
    # The document is valid GraphQL, so only the limit (not validation) can refuse it; how fast
    # the refusal is belongs to a benchmark, not to this test.
    response = post(client, "{" + " __typename" * 1000 + "}", company_token)
    assert "selected 1000 times" in refusal(response, 400, "REPEAT_LIMIT_EXCEEDED")
    assert "errors" not in post(client, "{" + " __typename" * 100 + "}", company_token).json()


def test_parse_errors_carry_a_code(client: TestClient, company_token: str) -> None:
    refusal(post(client, "{ missions {", company_token), 400, "GRAPHQL_PARSE_FAILED")


# --- cost -----------------------------------------------------------------------------------

RICH_PAGE = """
query Rich($first: Int) {
  missions(first: $first) {
    totalCount eventCursor
    edges { cursor node {
      id title description remote engagementType
      organization { id name } partner { name } alsoPublishedOn { name }
      locations { city postalCode latitude longitude }
      causes { value label } skills { slug label }
      commitment { hoursPerWeekMin } places { total }
    } }
    pageInfo { hasNextPage endCursor }
    facets { causes { value count } skills { value count } remote { value count }
             departments { value count } partners { value count } }
  }
}
"""


def test_cost_model() -> None:
    schema = build_schema()._schema

    def cost(query: str, **variables: Any) -> int:
        return operation_cost(schema, parse(query), None, variables, 20)

    assert cost("{ missions(first: 50) { edges { node { title locations { city } } } } }") == 1101
    assert cost("{ missions { totalCount } }") == 1  # scalars are free
    assert cost("{ missions(first: 7) { nodes { id } } }") == 1 + 7
    assert cost("query($n: Int) { missions(first: $n) { nodes { id } } }", n=3) == 1 + 3
    assert cost("query($n: Int = 9) { missions(first: $n) { nodes { id } } }") == 1 + 9
    assert cost("{ partners { name } }") == 20  # a list without `first`: the default page
    assert cost("{ a: missions(first: 2) { nodes { id } } b: missions { nodes { id } } }") == (
        (1 + 2) + (1 + 20)
    )
    assert cost(RICH_PAGE, first=100) == 8703


def test_costly_operation_is_refused_before_it_runs(
    client: TestClient, company_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = post(client, RICH_PAGE, company_token, variables={"first": 100}).json()
    assert "errors" not in body, body  # the richest page a client needs passes
    calls: list[str] = []
    original = MissionRepository.search

    async def spy(self: MissionRepository, *args: Any, **kwargs: Any) -> Any:
        calls.append("search")
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(MissionRepository, "search", spy)
    greedy = "{" + " ".join(
        f"m{i}: missions(first: 100) {{ edges {{ node {{ id alsoPublishedOn {{ name }} }} }} }}"
        for i in range(10)
    )
    message = refusal(post(client, greedy + "}", company_token), 400, "COST_LIMIT_EXCEEDED")
    assert message == "the operation would cost 22010; at most 10000 is allowed " + (
        "(ask for smaller pages with `first`)"
    )
    assert calls == []
    answers_normally(client, company_token)


def test_cost_reads_first_from_variables(
    settings: Settings, company_token: str, clock: Clock
) -> None:
    query = "query($n: Int) { missions(first: $n) { nodes { id } } }"
    with hub(settings, clock, max_cost=50) as http:
        assert "errors" not in post(http, query, company_token, variables={"n": 49}).json()
        response = post(http, query, company_token, variables={"n": 50})
        assert "would cost 51" in refusal(response, 400, "COST_LIMIT_EXCEEDED")


# --- HTTP -----------------------------------------------------------------------------------


def test_chunked_body_is_cut_at_the_limit(
    settings: Settings, company_token: str, clock: Clock
) -> None:
    with hub(settings, clock, max_body_bytes=1024) as http:
        chunks = [b'{"query": "{ __typename }", "pad": "', b"x" * 600, b"x" * 600, b'"}']
        response = http.post(
            "/graphql",
            content=iter(chunks),  # no Content-Length: the body is counted as it arrives
            headers={**bearer(company_token), "Content-Type": "application/json"},
        )
        assert "transfer-encoding" in {k.lower() for k in response.request.headers}
        assert "over 1024 bytes" in refusal(response, 413, "REQUEST_TOO_LARGE")
        fits = http.post(
            "/graphql",
            content=iter([b'{"query": "{ __typename }"}']),
            headers={**bearer(company_token), "Content-Type": "application/json"},
        )
        assert fits.json() == {"data": {"__typename": "Query"}}
        long_url = http.get("/graphql", params={"query": "{ __typename }" + " " * 2000})
        refusal(long_url, 414, "REQUEST_TOO_LARGE")


def test_partners_may_push_larger_bodies_but_not_larger_documents(
    client: TestClient, clients: Clients, company_token: str
) -> None:
    partner = clients.token(clients.create("partner", "Alpha", partner="alpha"))
    padding = {"pad": "x" * 300_000}  # a batch of missions, as far as size goes
    pushed = post(client, "{ __typename }", partner, variables=padding)
    assert pushed.json() == {"data": {"__typename": "Query"}}
    read = post(client, "{ __typename }", company_token, variables=padding)
    refusal(read, 413, "REQUEST_TOO_LARGE")
    huge = post(client, "{ __typename }" + " " * 300_000, partner)
    assert "document is over 262144" in refusal(huge, 400, "REQUEST_TOO_LARGE")


def test_csrf_simple_requests_are_refused_even_with_a_preflight_header(
    client: TestClient, company_token: str
) -> None:
    simple = ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]
    for content_type in [*simple, None]:
        headers = {**bearer(company_token), "apollo-require-preflight": "true"}
        if content_type:
            headers["Content-Type"] = content_type
        body = json.dumps({"query": NORMAL})
        response = client.post("/graphql", content=body, headers=headers)
        refusal(response, 415, "UNSUPPORTED_MEDIA_TYPE")
        assert response.headers["cache-control"] == "no-store"


def test_json_posts_and_get_queries_are_served(client: TestClient, company_token: str) -> None:
    response = client.post(
        "/graphql",
        content=json.dumps({"query": NORMAL}),
        headers={**bearer(company_token), "Content-Type": "application/json; charset=utf-8"},
    )
    assert response.json() == {"data": {"missions": {"totalCount": 0}}}
    got = client.get("/graphql", params={"query": NORMAL}, headers=bearer(company_token))
    assert got.json() == {"data": {"missions": {"totalCount": 0}}}


def test_strawberry_refusals_are_graphql_shaped(client: TestClient, company_token: str) -> None:
    response = client.post(
        "/graphql",
        content=b"{not json",
        headers={**bearer(company_token), "Content-Type": "application/json"},
    )
    assert "JSON" in refusal(response, 400, "BAD_REQUEST")


# --- introspection and suggestions ----------------------------------------------------------

SCHEMA = "{ __schema { queryType { name } } }"
TYPE = '{ __type(name: "Mission") { name } }'
SDL = "{ _service { sdl } }"


POLICIES = [("authenticated", False, True), ("always", True, True), ("never", False, False)]


def test_introspection_follows_the_policy(
    settings: Settings, company_token: str, clock: Clock
) -> None:
    for policy, anonymous, authenticated in POLICIES:
        check_introspection(settings, company_token, policy, anonymous, authenticated, clock)


def check_introspection(
    settings: Settings,
    company_token: str,
    policy: str,
    anonymous: bool,
    authenticated: bool,
    clock: Clock,
) -> None:
    with hub(settings, clock, introspection=policy) as http:
        for token, allowed in ((None, anonymous), (company_token, authenticated)):
            for query in (SCHEMA, TYPE, SDL):
                response = post(http, query, token)
                if allowed:
                    assert "errors" not in response.json(), (policy, token, query)
                else:
                    refusal(response, 400, "INTROSPECTION_DISABLED")
            # __typename is always allowed, and suggestions go with introspection.
            assert post(http, "{ __typename }", token).json() == {"data": {"__typename": "Query"}}
            if token is None:  # whatever the policy, nothing is validated without a token
                refusal(post(http, "{ missionz }", token), 401, "UNAUTHENTICATED")
                continue
            message = post(http, "{ missionz }", token).json()["errors"][0]["message"]
            assert ("Did you mean" in message) is allowed, message
            assert message.startswith("Cannot query field 'missionz' on type 'Query'.")


def test_anonymous_introspection_says_what_to_do(client: TestClient) -> None:
    message = refusal(post(client, SCHEMA), 400, "INTROSPECTION_DISABLED")
    assert message == "__schema: introspection needs authentication: " + (
        "send a bearer token (OAuth 2.0 client credentials)"
    )


def test_suggestions_are_stripped_from_argument_errors_too(
    settings: Settings, company_token: str, clock: Clock
) -> None:
    with hub(settings, clock, introspection="never") as http:
        body = post(http, "{ missions(frist: 1) { totalCount } }", company_token).json()
    messages = " ".join(e["message"] for e in body["errors"])
    assert "frist" in messages and "Did you mean" not in messages


# --- masked errors --------------------------------------------------------------------------


def test_unexpected_error_is_masked_with_an_id_in_the_logs(
    client: TestClient,
    company_token: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(self: MissionRepository) -> int:
        raise RuntimeError("password=hunter2 in the connection string")

    monkeypatch.setattr(MissionRepository, "event_cursor", broken)  # read for eventCursor
    with caplog.at_level(logging.ERROR, logger="hub.graphql"):
        response = post(client, "{ missions(first: 1) { eventCursor } }", company_token)
    assert response.status_code == 200
    error = response.json()["errors"][0]
    error_id = error["extensions"]["errorId"]
    assert re.fullmatch(r"[0-9a-f]{16}", error_id)
    assert (
        error["message"] == f"Unexpected error; quote error id {error_id} to the hub's operators."
    )
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "hunter2" not in response.text
    assert error_id in caplog.text and "hunter2" in caplog.text  # the operator sees the cause


def test_unexpected_error_outside_a_resolver_is_masked_too(
    client: TestClient,
    company_token: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(key: str) -> float:
        raise RuntimeError("limiter exploded")

    monkeypatch.setattr(client.app.state.services.limiter, "take", broken)  # type: ignore[attr-defined]
    with caplog.at_level(logging.ERROR, logger="hub.graphql"):
        response = post(client, NORMAL, company_token)
    assert response.status_code == 500
    error_id = response.json()["errors"][0]["extensions"]["errorId"]
    assert error_id in caplog.text and "limiter exploded" in caplog.text
    assert "exploded" not in response.text


# --- rate limits ----------------------------------------------------------------------------


def assert_rate_limited(response: httpx.Response) -> None:
    assert "too many requests" in refusal(response, 429, "RATE_LIMITED")
    assert re.fullmatch(r"[1-9][0-9]*", response.headers["retry-after"])


def test_rate_limit_is_per_client_with_retry_after(
    settings: Settings, clients: Clients, clock: Clock
) -> None:
    first = clients.token(clients.create("company", "First"))
    second = clients.token(clients.create("company", "Second"))
    with hub(settings, clock, rate_limit_per_minute=60, rate_limit_burst=3) as http:
        for _ in range(3):
            assert post(http, "{ __typename }", first).status_code == 200
        limited = post(http, "{ __typename }", first)
        assert_rate_limited(limited)
        assert limited.headers["retry-after"] == "1"  # one token a second
        assert post(http, "{ __typename }", second).status_code == 200  # its own bucket
        for _ in range(3):  # anonymous callers share their address's bucket
            assert post(http, "{ __typename }").status_code == 200
        assert_rate_limited(post(http, "{ __typename }"))


def test_memory_bucket_refills_at_the_configured_rate() -> None:
    now = [0.0]
    limiter = MemoryRateLimiter(per_minute=120, burst=2, clock=lambda: now[0])

    def take() -> float:
        return asyncio.run(limiter.take("k"))

    assert (take(), take()) == (0.0, 0.0)
    assert take() == pytest.approx(0.5)  # two tokens a second
    now[0] = 0.5
    assert take() == 0.0
    now[0] = 100.0
    assert (take(), take(), take()) == (0.0, 0.0, pytest.approx(0.5))  # capped at the burst


@pytest.fixture
def redis_url() -> str:
    require(
        bool(REDIS_URL), "HUB_TEST_REDIS_URL is not set: no Redis to test the shared rate limit on"
    )
    return REDIS_URL


@SHARES_REDIS
def test_redis_rate_limit_is_shared_by_replicas(
    settings: Settings, company_token: str, redis_url: str, clock: Clock
) -> None:
    prefix = f"test-hub:{uuid.uuid4().hex}:"
    limits = {
        "broker_url": redis_url,
        "rate_limit_per_minute": 60,
        "rate_limit_burst": 3,
        "rate_limit_prefix": prefix,
    }
    try:
        with hub(settings, clock, **limits) as one, hub(settings, clock, **limits) as two:
            assert post(one, "{ __typename }", company_token).status_code == 200
            assert post(two, "{ __typename }", company_token).status_code == 200
            assert post(one, "{ __typename }", company_token).status_code == 200
            assert_rate_limited(post(two, "{ __typename }", company_token))
    finally:
        asyncio.run(_forget(redis_url, prefix))


async def _forget(url: str, prefix: str) -> None:
    from redis.asyncio import Redis

    redis = Redis.from_url(url)
    try:
        keys = [key async for key in redis.scan_iter(match=prefix + "*")]
        assert keys, "the limiter wrote no key under the test's prefix"
        await redis.delete(*keys)
    finally:
        await redis.aclose()


def test_memory_buckets_are_bounded_and_forget_the_least_recently_used() -> None:
    now = [0.0]
    limiter = MemoryRateLimiter(per_minute=60, burst=1, clock=lambda: now[0])
    limiter.max_keys = 3

    def take(key: str) -> float:
        return asyncio.run(limiter.take(key))

    assert [take(k) for k in ("a", "b", "c")] == [0.0, 0.0, 0.0]
    assert take("a") == pytest.approx(1.0)  # empty: "a" is now the most recently used
    assert take("d") == 0.0  # a fourth key: "b", the least recently used, is forgotten
    assert list(limiter.buckets) == ["c", "a", "d"]
    assert take("a") == pytest.approx(1.0)  # still empty: kept
    assert take("b") == 0.0  # forgotten: a full bucket again (the price of the bound)
    assert len(limiter.buckets) == 3
