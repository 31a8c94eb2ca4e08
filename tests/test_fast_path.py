"""The response cache's fast path (hub/web/fast.py) through the real app: a hit answers with the
normal path's status, headers and bytes without reaching Starlette; everything else reaches the
app and is answered as without the fast path; metrics, request ids and the access log stay
right; the compiled read path's seam; the log position's own connection."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from hub.clock import ManualClock
from hub.observability.logs import request_id
from hub.settings import Settings
from hub.storage.db import make_engine
from hub.storage.repository import MissionRepository
from hub.web.app import app_from_environment, create_app
from hub.web.fast import Compiled, CompiledRequest
from hub.web.position import direct_position
from hub.web.response_cache import parse_request
from tests.conftest import TEST_DATABASE_URL, Clients, Store
from tests.servers import serve
from tests.test_response_cache import PUSH, SEARCH, fully_remote, fully_remote_draft, metric


class Counting:
    """Counts the requests that reach the app behind the fast path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.calls = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.calls += 1
        await self.app(scope, receive, send)


def behind(app: Starlette) -> Counting:
    fast = app.fast  # type: ignore[attr-defined]
    counting = Counting(fast.app)
    fast.app = counting
    return counting


@contextmanager
def hub(settings: Settings, clock: ManualClock, **update: Any) -> Iterator[TestClient]:
    # No webhook worker: its first prune, a write at start, would empty the cache at a moment
    # the test does not choose (a hit expected would be a miss).
    update = {"webhooks": False, **update}
    with TestClient(create_app(settings.model_copy(update=update), clock)) as client:
        yield client


def ask(client: TestClient, token: str | None, body: Any = None, **headers: str) -> httpx.Response:
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    payload = {"query": SEARCH, "variables": {"first": 5}} if body is None else body
    return client.post("/graphql", json=payload, headers=headers)


def test_a_hit_is_answered_ahead_of_the_app_like_the_normal_path_answers_it(
    settings: Settings, clock: ManualClock, clients: Clients, store: Store
) -> None:
    store.ingest("alpha", [fully_remote_draft("one"), fully_remote_draft("two")])
    company = clients.create("company", "ACME")
    accepts = ({}, {"Accept": "application/graphql-response+json"}, {"Accept": "*/*"})
    seen: dict[bool, list[tuple[int, list[tuple[str, str]], bytes]]] = {}
    for fast in (False, True):
        with hub(settings, clock, response_cache_fast_path=fast) as client:
            inner = behind(client.app)  # type: ignore[arg-type]
            token = Clients(settings, client, clock).token(company)
            seen[fast] = []
            for accept in accepts:  # the first request is the miss: the rest are hits
                for i in range(2):
                    rid = {"X-Request-ID": f"req-{len(seen[fast])}-{i}"}
                    response = ask(client, token, **accept, **rid)
                    assert response.status_code == 200
                    assert response.headers["x-request-id"] == rid["X-Request-ID"]
                    seen[fast].append(
                        (response.status_code, response.headers.multi_items(), response.content)
                    )
            # Without the fast path every request reached the app (and the token request);
            # with it, only the misses (the first, and any after a background task's write).
            calls = inner.calls
            hits = metric(client, "hub_response_cache_hits_total")
            misses = metric(client, "hub_response_cache_misses_total")
            assert hits + misses == 6 and hits >= 3
            assert calls == 1 + (6 if not fast else misses)
            ok = 'hub_graphql_requests_total{operation="Search",outcome="ok"}'
            assert metric(client, ok) == 6  # the hits are counted as operations too
    assert seen[True] == seen[False]  # status, every header in order, and bytes
    media = [dict(headers)["content-type"] for _, headers, _ in seen[True]]
    assert media[2].startswith("application/graphql-response+json")
    assert media[0] == media[4] == "application/json"


def test_everything_the_fast_path_does_not_answer_reaches_the_app_unchanged(
    settings: Settings, clock: ManualClock, clients: Clients
) -> None:
    company = clients.create("company", "ACME")
    revoked_company = clients.create("company", "Revoked")
    answers: dict[bool, list[tuple[int, Any]]] = {}
    for fast in (False, True):
        with hub(settings, clock, response_cache_fast_path=fast, max_body_bytes=2000) as client:
            inner = behind(client.app)  # type: ignore[arg-type]
            token = Clients(settings, client, clock).token(company)
            revoked = Clients(settings, client, clock).token(revoked_company)
            auth = {"Authorization": f"Bearer {token}"}
            ask(client, revoked)  # kept for the revoked token's client...
            client.post(
                "/oauth/revoke",
                data={"token": revoked},
                auth=(revoked_company.client_id, revoked_company.client_secret),
            )
            responses = [
                ask(client, revoked),  # ... and never served to it after the revocation
                ask(client, None),  # no token
                ask(client, "not-a-token"),
                ask(client, None, Authorization="Basic abc"),
                client.post("/graphql", content=b'{"query": "{ __typename }"}', headers=auth),
                client.post(
                    "/graphql", json={"query": "{ __typename" + " " * 3000 + "}"}, headers=auth
                ),
                ask(client, token, [{"query": "{ __typename }"}]),  # a batch
                ask(client, token, {"query": "{ missions(first: 1) { totalCount } "}),
                ask(client, token, {"query": "query { x }", "operationName": 3}),
                client.get("/graphql", params={"query": "{ __typename }"}, headers=auth),
            ]
            for _ in range(2):  # an error is never kept: both reach the app
                responses.append(ask(client, token, {"query": "{ nope }"}))
            answers[fast] = [(r.status_code, r.json()) for r in responses]
            # Two token requests, the first ask, the revocation, then every one of them.
            assert inner.calls == 4 + len(responses)
    assert answers[True] == answers[False]
    statuses = [status for status, _ in answers[True]]
    assert statuses[:6] == [401, 401, 401, 401, 415, 413]
    assert answers[True][0][1]["errors"][0]["message"] == "token revoked"


def test_one_token_a_request_from_the_bucket_and_a_refusal_from_the_app(
    settings: Settings, clock: ManualClock, clients: Clients
) -> None:
    company = clients.create("company", "ACME")
    with hub(settings, clock, rate_limit_per_minute=60, rate_limit_burst=3) as client:
        token = Clients(settings, client, clock).token(company)
        inner = behind(client.app)  # type: ignore[arg-type]
        assert [ask(client, token).status_code for _ in range(4)] == [200, 200, 200, 429]
        assert inner.calls == 2  # the miss and the refusal; the two hits did not reach it
        clock.advance(seconds=1)  # one token back: one more request, a hit
        assert ask(client, token).status_code == 200
        assert inner.calls == 2


def test_the_access_log_and_request_id_of_a_hit(
    settings: Settings, clock: ManualClock, clients: Clients, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings, clock)
    company = clients.create("company", "ACME")
    lines: list[tuple[Any, str | None]] = []

    class Recorder(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append((record.args, request_id()))  # the request's id, where uvicorn logs

    access = logging.getLogger("uvicorn.access")
    recorder = Recorder()
    with serve(app) as url:
        access.setLevel(logging.INFO)
        access.addHandler(recorder)
        try:
            with httpx.Client(base_url=url) as http:
                token = http.post(
                    "/oauth/token",
                    data={"grant_type": "client_credentials"},
                    auth=(company.client_id, company.client_secret),
                ).json()["access_token"]
                headers = {"Authorization": f"Bearer {token}"}
                body = {"query": SEARCH, "variables": {"first": 5}}
                for rid in ("first-ask", "second-ask"):
                    response = http.post(
                        "/graphql", json=body, headers={**headers, "X-Request-ID": rid}
                    )
                    assert response.headers["x-request-id"] == rid
                hits = metric(http.get("/metrics"), "hub_response_cache_hits_total")
        finally:
            access.removeHandler(recorder)
    assert hits == 1
    graphql = [(args, rid) for args, rid in lines if args and args[2] == "/graphql"]
    assert [(args[1], args[4], rid) for args, rid in graphql] == [
        ("POST", 200, "first-ask"),
        ("POST", 200, "second-ask"),  # the hit, answered by the fast path
    ]


def test_a_compiled_answer_is_sent_and_kept_like_any_other(
    settings: Settings, clock: ManualClock, clients: Clients, store: Store
) -> None:
    store.ingest("alpha", [fully_remote_draft("one")])
    company = clients.create("company", "ACME")
    asked: list[CompiledRequest] = []
    search = parse_request(orjson.dumps({"query": SEARCH}))
    assert search is not None

    async def compiled(request: CompiledRequest) -> bytes | None:
        asked.append(request)
        if request.document != search.document:
            return None  # not a document it knows: the app answers
        return b'{"data":{"compiled":%d}}' % len(asked)

    seam: Compiled = compiled
    app = create_app(settings.model_copy(update={"webhooks": False}), clock, compiled=seam)
    with TestClient(app) as client:
        token = Clients(settings, client, clock).token(company)
        inner = behind(app)
        named = {"query": SEARCH, "variables": {"first": 5}, "operationName": "Search"}
        first = ask(client, token, named)
        assert first.content == b'{"data":{"compiled":1}}'
        assert first.headers["content-type"] == "application/json"
        assert (asked[0].caller.client_id, asked[0].operation) == (company.client_id, "Search")
        assert asked[0].variables == {"first": 5} and asked[0].query == SEARCH
        again = ask(client, token, named)
        assert again.content == first.content and len(asked) == 1  # kept: a hit
        assert inner.calls == 0
        assert metric(client, "hub_response_cache_misses_total") == 1
        assert metric(client, "hub_response_cache_hits_total") == 1
        ok = 'hub_graphql_requests_total{operation="Search",outcome="ok"}'
        assert metric(client, ok) == 2
        # Another document: the compiled path declines, the app answers and keeps it.
        other = {"query": "{ missions(first: 1) { edges { node { externalId } } } }"}
        before = inner.calls
        assert ask(client, token, other).json()["data"]["missions"]["edges"]
        assert ask(client, token, other).status_code == 200
        assert inner.calls == before + 1 and len(asked) == 2  # the second was a hit
        # A write drops the compiled answer like any other: it is computed again.
        partner = Clients(settings, client, clock).token(
            clients.create("partner", "pusher", partner="pusher")
        )
        ask(client, partner, {"query": PUSH, "variables": {"missions": [fully_remote("x", 1)]}})
        third = ask(client, token, named)
        assert len(asked) == 4  # the mutation was offered too (and declined), then the search
        assert third.content == b'{"data":{"compiled":4}}'


def test_the_log_position_read_on_its_own_connection(
    settings: Settings, clock: ManualClock, store: Store
) -> None:
    async def go() -> None:
        engine = make_engine(settings)
        position = direct_position(engine)
        assert position is not None
        try:
            repository = MissionRepository(engine, clock)
            assert await position() == await repository.event_cursor() == 0
            await asyncio.to_thread(store.ingest, "alpha", [fully_remote_draft("one")])
            moved = await repository.event_cursor()
            assert moved > 0 and await position() == moved  # another engine's commit: seen
            if engine.dialect.name == "sqlite":  # and the read that does not leave the loop
                assert position.now is not None and position.now() == moved
                await asyncio.to_thread(store.ingest, "alpha", [fully_remote_draft("two")])
                assert position.now() == await repository.event_cursor() > moved
            if engine.dialect.name == "postgresql":  # the connection dies: the next read
                async with engine.connect() as conn:  # fails, the one after reconnects
                    await conn.execute(
                        text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                        )
                    )
                with pytest.raises(Exception):  # noqa: B017 (the driver's own error)
                    await position()
                assert await position() == moved
        finally:
            await position.aclose()
            await engine.dispose()

    asyncio.run(go())


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="PostgreSQL only: a connection to kill")
def test_hits_survive_the_loss_of_the_position_connection(
    settings: Settings, clock: ManualClock, clients: Clients, store: Store
) -> None:
    company = clients.create("company", "ACME")
    with hub(settings, clock) as client:
        token = Clients(settings, client, clock).token(company)
        first = ask(client, token)
        engine = make_engine(settings)

        async def kill() -> None:
            async with engine.connect() as conn:
                await conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
            await engine.dispose()

        asyncio.run(kill())
        again = ask(client, token)  # the fast path's read fails; the app's reconnects
        assert again.status_code == 200 and again.content == first.content
        assert ask(client, token).content == first.content


def test_an_app_from_the_environment_for_uvicorn_workers(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HUB_SCHEDULER", "false")
    with TestClient(app_from_environment()) as client:
        assert client.get("/readyz").json() == {"status": "ok", "database": "reachable"}
        assert client.app.state.services.settings.database_url == settings.database_url  # type: ignore[attr-defined]
