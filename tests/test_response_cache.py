"""The response cache through the real app: hits, misses and invalidation, who may share an
entry, answers that read the time, and exactness under concurrent writes (every answer is the
answer at some event-log position between the request's start and its end)."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from hub.catalogue.filters import Policy
from hub.catalogue.model import MissionDraft, Remote
from hub.clock import ManualClock
from hub.settings import Settings
from hub.web.app import create_app
from tests.catalogue import catalogue
from tests.conftest import SHARES_REDIS, Clients, Store, require
from tests.test_push import item

REDIS_URL = os.environ.get("HUB_TEST_REDIS_URL", "")

SEARCH = """query Search($first: Int) {
  missions(filter: {remote: [FULL]}, first: $first, orderBy: RECENT) {
    totalCount edges { node { externalId title partner { name } } } } }"""
SOON = "{ missions(orderBy: STARTING_SOON, first: 5) { edges { node { externalId } } } }"
# The first page of recommendations is ranked at the current time, which its cursors carry.
RECOMMENDED = """{ recommendedMissions(profile: {remote: REMOTE_ONLY}, first: 5) {
  pageInfo { endCursor } edges { node { mission { externalId } } } } }"""
PUSH = """mutation Push($missions: [MissionInput!]!) {
  upsertMissions(missions: $missions) { counts { created updated } } }"""
POSITION = "{ missions(first: 1) { eventCursor } }"


def metric(client: TestClient | httpx.Response, name: str) -> float:
    text = client.get("/metrics").text if isinstance(client, TestClient) else client.text
    line = next(line for line in text.splitlines() if line.startswith(name + " "))
    return float(line.split()[-1])


def post(
    client: TestClient, token: str, query: str, variables: dict[str, Any] | None = None
) -> Any:
    response = client.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    return response


@pytest.fixture
def partner_token(clients: Clients) -> str:
    return clients.token(clients.create("partner", "pusher", partner="pusher"))


def fully_remote_draft(ext: str) -> MissionDraft:
    draft = catalogue()["alpha"][0]
    return dataclasses.replace(
        draft, external_id=ext, remote=Remote.FULL, posted_at=datetime(2026, 11, 14, tzinfo=UTC)
    )


def fully_remote(ext: str, day: int) -> dict[str, Any]:
    return item(ext, remote="FULL", postedAt=f"2026-11-{day:02d}T10:00:00Z")


def test_a_repeated_query_is_a_hit_and_a_write_through_the_hub_drops_it(
    client: TestClient, company_token: str, partner_token: str
) -> None:
    post(client, partner_token, PUSH, {"missions": [fully_remote("a1", 1)]})
    first = post(client, company_token, SEARCH, {"first": 5})
    hits = metric(client, "hub_response_cache_hits_total")
    again = post(client, company_token, SEARCH, {"first": 5})
    assert again.content == first.content  # the same bytes
    assert metric(client, "hub_response_cache_hits_total") == hits + 1
    assert metric(client, "hub_response_cache_entries") >= 1
    assert metric(client, "hub_response_cache_bytes") > len(first.content)
    assert again.headers["content-type"].startswith("application/json")

    post(client, partner_token, PUSH, {"missions": [fully_remote("a2", 2)]})
    assert metric(client, "hub_response_cache_invalidations_total") >= 1
    after = post(client, company_token, SEARCH, {"first": 5}).json()["data"]["missions"]
    assert after["totalCount"] == 2
    assert [e["node"]["externalId"] for e in after["edges"]] == ["a2", "a1"]
    assert metric(client, "hub_response_cache_hit_ratio") > 0


def test_other_variables_and_the_graphql_response_media_type(
    client: TestClient, company_token: str, partner_token: str
) -> None:
    post(
        client, partner_token, PUSH, {"missions": [fully_remote(f"v{i}", i + 1) for i in range(3)]}
    )
    one = post(client, company_token, SEARCH, {"first": 1}).json()["data"]["missions"]["edges"]
    two = post(client, company_token, SEARCH, {"first": 2}).json()["data"]["missions"]["edges"]
    assert (len(one), len(two)) == (1, 2)
    # A hit is answered in the media type the client prefers, like a fresh answer.
    for _ in range(2):
        response = client.post(
            "/graphql",
            json={"query": SEARCH, "variables": {"first": 1}},
            headers={
                "Authorization": f"Bearer {company_token}",
                "Accept": "application/graphql-response+json",
            },
        )
        assert response.headers["content-type"].startswith("application/graphql-response+json")
        assert response.json()["data"]["missions"]["edges"] == one


def test_a_change_committed_by_another_process_is_never_hidden_by_the_cache(
    settings: Settings, clock: ManualClock, clients: Clients, store: Store
) -> None:
    quiet = settings.model_copy(update={"live_poll_seconds": 3600.0})  # the test reads the log
    with TestClient(create_app(quiet, clock)) as client:
        token = Clients(quiet, client, clock).token(clients.create("company", "ACME"))
        store.ingest("alpha", catalogue()["alpha"])  # another engine: no commit hook here
        before = post(client, token, SEARCH).content
        assert post(client, token, SEARCH).content == before  # kept
        store.ingest("alpha", [fully_remote_draft("elsewhere")])
        # At once: every lookup reads the log position (the log poll is an hour away).
        after = post(client, token, SEARCH).json()["data"]["missions"]
        assert "elsewhere" in [e["node"]["externalId"] for e in after["edges"]]


def test_no_two_clients_share_an_entry(
    client: TestClient, clients: Clients, partner_token: str
) -> None:
    post(
        client,
        partner_token,
        PUSH,
        {
            "missions": [
                fully_remote("solidarity", 1) | {"causes": ["Solidarité et insertion"]},
                fully_remote("culture", 2) | {"causes": ["Culture et loisirs"]},
            ]
        },
    )
    narrow = clients.create("company", "Narrow")
    clients.store(lambda s: s.set_policy(narrow.client_id, Policy(causes=("culture-loisirs",))))
    open_a = clients.token(clients.create("company", "OpenA"))
    open_b = clients.token(clients.create("company", "OpenB"))
    narrow_token = clients.token(narrow)

    def ids(token: str) -> list[str]:
        body = post(client, token, SEARCH).json()
        return [e["node"]["externalId"] for e in body["data"]["missions"]["edges"]]

    assert ids(open_a) == ["culture", "solidarity"]
    assert ids(narrow_token) == ["culture"]  # not company A's entry
    hits = metric(client, "hub_response_cache_hits_total")
    # Same policy, same scopes, yet another client: its own entry (a company's answers may hold
    # its own engagements, reports and webhooks), then hits of its own.
    assert ids(open_b) == ["culture", "solidarity"]
    assert metric(client, "hub_response_cache_hits_total") == hits
    assert ids(open_b) == ["culture", "solidarity"]
    assert metric(client, "hub_response_cache_hits_total") == hits + 1
    # A partner may not read the catalogue: its answer is its own, never a company's.
    refused = post(client, partner_token, SEARCH).json()
    assert refused["data"] is None and refused["errors"]


def test_answers_that_read_the_time_errors_and_mutations_are_not_kept(
    client: TestClient, company_token: str, partner_token: str
) -> None:
    post(client, partner_token, PUSH, {"missions": [fully_remote("t1", 1)]})
    for query in (SOON, RECOMMENDED, "{ missions(first: 1000) { totalCount } }"):  # time; an error
        post(client, company_token, query)
        hits = metric(client, "hub_response_cache_hits_total")
        post(client, company_token, query)
        assert metric(client, "hub_response_cache_hits_total") == hits
    # Written without a change event (a sync's health, a partner's names): never kept.
    health = "{ partners { name health } }"
    for _ in range(2):
        hits = metric(client, "hub_response_cache_hits_total")
        post(client, company_token, health)
        assert metric(client, "hub_response_cache_hits_total") == hits
    counts = [
        post(client, partner_token, PUSH, {"missions": [fully_remote("t1", 1)]}).json()
        for _ in range(2)
    ]
    assert counts[0] == counts[1]  # both ran (UNCHANGED): nothing was served from a cache
    assert counts[0]["data"]["upsertMissions"]["counts"] == {"created": 0, "updated": 0}


def test_switched_off_by_a_setting(
    settings: Settings, clock: ManualClock, clients: Clients
) -> None:
    off = settings.model_copy(update={"response_cache": False})
    with TestClient(create_app(off, clock)) as client:
        token = Clients(off, client, clock).token(clients.create("company", "ACME"))
        for _ in range(3):
            post(client, token, SEARCH)
        assert metric(client, "hub_response_cache_hits_total") == 0
        assert metric(client, "hub_response_cache_misses_total") == 0


# --- exactness under concurrent writes ----------------------------------------------------------

WRITES = 15


@dataclass
class Observed:
    start: int  # event-log position read before the request was sent
    end: int  # ... and after its answer came back
    total: int
    ids: list[str]


@asynccontextmanager
async def running(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as http:
            yield http


async def _token(http: httpx.AsyncClient, created: Any) -> str:
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(created.client_id, created.client_secret),
    )
    token: str = response.json()["access_token"]
    return token


async def _gql(http: httpx.AsyncClient, token: str, query: str, variables: Any = None) -> Any:
    response = await http.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def _hits(http: httpx.AsyncClient) -> float:
    return metric(await http.get("/metrics"), "hub_response_cache_hits_total")


async def exactness(
    writer: httpx.AsyncClient, readers: list[httpx.AsyncClient], app: Starlette, tokens: Any
) -> None:
    """One partner pushes missions one by one (one event each) while readers repeat a search.
    Every answer must be the answer at some log position between its request's start and end:
    with k missions created, k in total and the five newest first."""
    repository = app.state.services.repository  # the log position, read from the store
    base = await repository.event_cursor()
    done = asyncio.Event()

    async def push() -> None:
        for i in range(WRITES):
            await _gql(writer, tokens[0], PUSH, {"missions": [fully_remote(f"c{i:02d}", 1 + i)]})
        done.set()

    async def read(http: httpx.AsyncClient) -> list[Observed]:
        seen = []
        while not done.is_set():
            start = await repository.event_cursor()
            data = (await _gql(http, tokens[1], SEARCH, {"first": 5}))["missions"]
            end = await repository.event_cursor()
            ids = [e["node"]["externalId"] for e in data["edges"]]
            seen.append(Observed(start - base, end - base, data["totalCount"], ids))
        return seen

    before = sum([await _hits(http) for http in readers])
    batches = await asyncio.gather(push(), *(read(readers[i % len(readers)]) for i in range(4)))
    answers = [seen for batch in batches[1:] for seen in batch]
    assert await repository.event_cursor() - base == WRITES  # one event a push, nothing else
    created = [f"c{i:02d}" for i in range(WRITES)]
    for seen in answers:
        # totalCount and the page are read by separate statements, each from its own snapshot
        # (fresh or cached alike): each must match a position within the request's window.
        assert seen.start <= seen.total <= seen.end, seen
        assert any(
            seen.ids == list(reversed(created[:k]))[:5] for k in range(seen.start, seen.end + 1)
        ), seen
    assert len({seen.total for seen in answers}) > 2  # the readers saw the catalogue grow
    assert sum([await _hits(http) for http in readers]) > before  # ... and hits between writes
    final = (await _gql(readers[0], tokens[1], SEARCH, {"first": 5}))["missions"]
    assert final["totalCount"] == WRITES


def test_every_answer_under_concurrent_writes_is_exact(
    settings: Settings, clock: ManualClock, clients: Clients
) -> None:
    partner = clients.create("partner", "pusher", partner="pusher")
    company = clients.create("company", "Reader")

    async def go() -> None:
        # The readers repeat the search as fast as the hub answers: no rate limit here.
        app = create_app(settings.model_copy(update={"rate_limit_per_minute": 0}), clock)
        async with running(app) as http:
            tokens = (await _token(http, partner), await _token(http, company))
            await exactness(http, [http], app, tokens)

    asyncio.run(go())


@SHARES_REDIS
def test_replicas_share_entries_and_one_replica_s_write_drops_them_all(
    settings: Settings, clock: ManualClock, clients: Clients
) -> None:
    require(bool(REDIS_URL), "HUB_TEST_REDIS_URL is not set: no Redis to share the cache in")
    shared = settings.model_copy(
        update={
            "broker_url": REDIS_URL,
            "public_url": "https://hub.test",  # one issuer: a token from A is valid on B
            "response_cache_prefix": f"entraide-hub-test:{uuid.uuid4().hex}:",
            "live_poll_seconds": 3600.0,  # the shared version must do it, not the log poll
            "rate_limit_per_minute": 0,  # readers repeat the search as fast as it answers
        }
    )
    partner = clients.create("partner", "pusher", partner="pusher")
    company = clients.create("company", "Reader")

    async def go() -> None:
        a, b = create_app(shared, clock), create_app(shared, clock)
        async with running(a) as on_a, running(b) as on_b:
            tokens = (await _token(on_a, partner), await _token(on_a, company))
            first = await _gql(on_a, tokens[1], SEARCH, {"first": 5})
            hits = await _hits(on_b)
            assert await _gql(on_b, tokens[1], SEARCH, {"first": 5}) == first
            assert await _hits(on_b) == hits + 1  # B answered from A's entry
            await exactness(on_a, [on_b, on_a], a, tokens)

    asyncio.run(go())
