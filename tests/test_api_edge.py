"""The API edge: every error has a code, and nothing leaks to a caller who should not see it
(anonymous callers, trusted-documents clients, partners, companies with a policy), whatever the
path or the transport. Through the real app, with real tokens and a real database."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient, WebSocketTestSession

from hub.catalogue.filters import Policy
from hub.clock import Clock
from hub.settings import Settings, load_settings
from hub.storage.db import make_engine
from hub.web.app import create_app
from hub.web.persisted import DocumentStore
from tests.catalogue import INGEST_AT, catalogue
from tests.conftest import Clients, GraphQL, Store, run
from tests.test_dedup import CASES, _draft


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def post(http: TestClient, query: str, token: str | None = None, **body: Any) -> httpx.Response:
    return http.post("/graphql", json={"query": query, **body}, headers=bearer(token))


def codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json()["errors"]]


# --- every error has a code -----------------------------------------------------------------

DEEP_INTROSPECTION = (
    "{ __schema { types { fields { type { fields { type { fields { type { fields { name } } } } }"
    " } } } } }"
)


@contextmanager
def hub(settings: Settings, clock: Clock, **overrides: Any) -> Iterator[TestClient]:
    changed = load_settings(database_url=settings.database_url, **overrides)
    with TestClient(create_app(changed, clock)) as http:
        yield http


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        ("{ missions {", None, "GRAPHQL_PARSE_FAILED"),
        ("{ missionz }", None, "GRAPHQL_VALIDATION_FAILED"),
        ("{ missions(frist: 1) { totalCount } }", None, "GRAPHQL_VALIDATION_FAILED"),
        (DEEP_INTROSPECTION, None, "DEPTH_LIMIT_EXCEEDED"),
        ("{" + "missions {" * 13 + "id" + "}" * 13 + "}", None, "DEPTH_LIMIT_EXCEEDED"),
        (
            "{" + " ".join(f"a{i}: __typename" for i in range(31)) + "}",
            None,
            "ALIAS_LIMIT_EXCEEDED",
        ),
        ("{" + " __typename" * 101 + "}", None, "REPEAT_LIMIT_EXCEEDED"),
        ("{" + " __typename" * 5001 + "}", None, "TOKEN_LIMIT_EXCEEDED"),
        (
            "{ a: missions(first: 100) { nodes { locations { city } } } "
            "b: missions(first: 100) { nodes { locations { city } } } }",
            None,
            "COST_LIMIT_EXCEEDED",
        ),
        ("{ __schema { queryType { name } } }", None, "INTROSPECTION_DISABLED"),
        ("query($n: Int!) { missions(first: $n) { totalCount } }", {"n": "x"}, "BAD_USER_INPUT"),
    ],
    ids=[
        "parse",
        "validation",
        "argument",
        "introspection-depth",
        "depth",
        "aliases",
        "repeats",
        "tokens",
        "cost",
        "introspection-off",
        "variables",
    ],
)
def test_every_graphql_error_carries_a_code(
    settings: Settings,
    company_token: str,
    clock: Clock,
    query: str,
    variables: dict[str, Any] | None,
    code: str,
) -> None:
    # Introspection "always" lets the depth rule be reached; "never" refuses introspection.
    policy = "never" if code == "INTROSPECTION_DISABLED" else "always"
    with hub(settings, clock, introspection=policy, max_aliases=30, max_cost=1000) as http:
        response = post(http, query, company_token, variables=variables or {})
    assert response.status_code in (200, 400), response.text
    assert response.json().get("data") is None, response.text
    assert set(codes(response)) == {code}, response.text


# --- anonymous callers ----------------------------------------------------------------------


def test_an_anonymous_caller_learns_nothing_of_the_schema(client: TestClient) -> None:
    answers = []
    for query in (
        "{ missions(first: 1) { totalCount } }",  # valid
        "{ missionz { totalCount } }",  # a misspelled field
        "{ missions(frist: 1) { totle } }",  # a misspelled argument and field
        "query Q { ...F } fragment F on Query { partners { nam } }",
        'mutation { closeMissions(externalIds: ["x"]) { externalId } }',
    ):
        for response in (post(client, query), client.get("/graphql", params={"query": query})):
            answers.append(
                (
                    response.status_code,
                    response.headers["www-authenticate"],
                    response.json(),
                )
            )
    expected = (
        401,
        "Bearer",
        {
            "errors": [
                {
                    "message": "authentication required: send a bearer token "
                    "(OAuth 2.0 client credentials)",
                    "extensions": {"code": "UNAUTHENTICATED"},
                }
            ]
        },
    )
    assert answers == [expected] * len(answers)
    # __typename alone needs no token.
    assert post(client, "{ __typename }").json() == {"data": {"__typename": "Query"}}


# --- trusted documents on every transport ---------------------------------------------------

REGISTERED = "query Count { missions(first: 1) { totalCount } }"
REGISTERED_FEED = "subscription Feed { missionEvents { cursor } }"
OTHER = "query Other { missions(first: 2) { totalCount } }"
SUBSCRIPTION = "subscription { missionEvents { cursor } }"


@pytest.fixture
def trusted(clients: Clients, settings: Settings) -> str:
    """A token of a client that may run REGISTERED only."""
    created = clients.create("company", "Locked")
    clients.store(lambda store: store.set_trusted_documents_only(created.client_id, True))

    async def register() -> None:
        engine = make_engine(settings)
        try:
            for document in (REGISTERED, REGISTERED_FEED):
                await DocumentStore(engine).add(document, created.record.pk, "intranet")
        finally:
            await engine.dispose()

    run(register())
    return clients.token(created)


def transport_ws(ws: WebSocketTestSession, token: str, query: str) -> dict[str, Any]:
    ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
    assert ws.receive_json()["type"] == "connection_ack"
    ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": query}})
    while True:
        message: dict[str, Any] = ws.receive_json()
        if message["type"] in ("next", "error"):
            return message


def legacy_ws(ws: WebSocketTestSession, token: str, query: str) -> dict[str, Any]:
    ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
    assert ws.receive_json()["type"] == "connection_ack"
    ws.send_json({"id": "1", "type": "start", "payload": {"query": query}})
    while True:
        message: dict[str, Any] = ws.receive_json()
        if message["type"] in ("data", "error"):
            return message


def first_error_code(message: dict[str, Any]) -> str | None:
    """graphql-transport-ws sends a list of errors, graphql-ws one error, `next`/`data` a result."""
    payload = message["payload"]
    if isinstance(payload, dict) and "message" in payload:
        payload = [payload]
    errors = payload if isinstance(payload, list) else payload.get("errors") or []
    return errors[0]["extensions"]["code"] if errors else None


def test_trusted_documents_hold_on_every_transport(client: TestClient, trusted: str) -> None:
    refused = "PERSISTED_QUERY_NOT_IN_LIST"
    counted = {"missions": {"totalCount": 0}}
    digest = hashlib.sha256(OTHER.encode()).hexdigest()

    # HTTP: as text, or by hash (APQ).
    assert post(client, REGISTERED, trusted).json() == {"data": counted}
    response = post(client, OTHER, trusted)
    assert (response.status_code, codes(response)) == (403, [refused])
    apq = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    response = post(client, OTHER, trusted, extensions=apq)
    assert (response.status_code, codes(response)) == (403, [refused])

    # SSE: a subscription over an event stream.
    response = client.post(
        "/graphql",
        json={"query": SUBSCRIPTION},
        headers={**bearer(trusted), "Accept": "text/event-stream"},
    )
    assert (response.status_code, codes(response)) == (403, [refused])

    # graphql-transport-ws, for a subscription and a query.
    for query in (SUBSCRIPTION, OTHER):
        with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
            message = transport_ws(ws, trusted, query)
        assert (message["type"], first_error_code(message)) in (
            ("error", refused),
            ("next", refused),
        ), message
    with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        assert transport_ws(ws, trusted, REGISTERED)["payload"] == {"data": counted}

    # Legacy graphql-ws (subscriptions only): refused, or running until stopped.
    with client.websocket_connect("/graphql", subprotocols=["graphql-ws"]) as ws:
        message = legacy_ws(ws, trusted, SUBSCRIPTION)
    assert (message["type"], first_error_code(message)) == ("error", refused), message
    with client.websocket_connect("/graphql", subprotocols=["graphql-ws"]) as ws:
        ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {trusted}"}})
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_json({"id": "1", "type": "start", "payload": {"query": REGISTERED_FEED}})
        ws.send_json({"id": "1", "type": "stop"})
        message = ws.receive_json()
        while message["type"] == "ka":  # keep-alive
            message = ws.receive_json()
        assert message == {"type": "complete", "id": "1"}


def test_a_query_over_legacy_graphql_ws_is_refused_clearly(
    client: TestClient, company_token: str
) -> None:
    with client.websocket_connect("/graphql", subprotocols=["graphql-ws"]) as ws:
        message = legacy_ws(ws, company_token, REGISTERED)
    assert message["type"] == "error", message
    assert message["payload"] == {
        "message": "queries are not allowed when using this transport: send them over HTTP or "
        "graphql-transport-ws",
        "extensions": {"code": "OPERATION_NOT_ALLOWED"},
    }


# --- partners see their own catalogue only --------------------------------------------------

PARTNER_VIEW = """{
  partnerMissions(first: 50) {
    totalCount
    facets { partners { value count } causes { value count } remote { value count }
             departments { value count } skills { value count } }
    edges { node { externalId partner { name missionCount }
                   alsoPublishedOn { name missionCount } } }
  }
}"""


@pytest.fixture
def shared_listing(store: Store) -> None:
    """pa and pb both publish one mission (a duplicate pair); pb has two more of its own."""
    case = CASES[0]
    store.ingest("pa", [_draft(case, "a", 0)])
    store.ingest("pb", [_draft(case, "b", 0), _draft(CASES[1], "b", 1), _draft(CASES[2], "b", 2)])


def test_a_partner_sees_no_count_facet_or_field_of_another_partner(
    shared_listing: None, clients: Clients, client: TestClient, data: GraphQL
) -> None:
    pa = clients.token(clients.create("partner", "A", partner="pa"))
    body = post(client, PARTNER_VIEW, pa).json()
    assert "errors" not in body, body
    view = body["data"]["partnerMissions"]
    assert view["totalCount"] == 1
    assert view["facets"]["partners"] == [{"value": "pa", "count": 1}]
    assert sum(c["count"] for c in view["facets"]["remote"]) == 1
    [edge] = view["edges"]
    assert edge["node"] == {
        "externalId": "a0",
        "partner": {"name": "pa", "missionCount": 1},
        "alsoPublishedOn": [],  # that pb publishes it too is pb's catalogue
    }
    # A company sees the whole picture, for comparison.
    company = data(
        '{ missions(filter: {partners: ["pa"]}) { edges { node { alsoPublishedOn { name } } } } }'
    )
    assert company["missions"]["edges"] == [{"node": {"alsoPublishedOn": [{"name": "pb"}]}}]


# --- a company's policy hides excluded organizations ---------------------------------------

ENTITIES = """query($r: [_Any!]!) { _entities(representations: $r) {
  ... on Organization { id name } } }"""


def test_an_excluded_organization_is_hidden_by_every_path(
    store: Store, clients: Clients, client: TestClient, data: GraphQL
) -> None:
    for partner, drafts in catalogue().items():
        store.ingest(partner, drafts, now=INGEST_AT)
    everyone = data("{ organizations(first: 100) { nodes { id name } } }")["organizations"]
    hidden = next(o for o in everyone["nodes"] if o["name"] == "Code Solidaire")
    created = clients.create("company", "No CS")
    policy = Policy(excluded_organizations=(hidden["id"],))
    clients.store(lambda s: s.set_policy(created.client_id, policy))
    token = clients.token(created)

    def ask(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = post(client, query, token, variables=variables or {}).json()
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"]
        return result

    listed = ask("{ organizations(first: 100) { nodes { id } } }")["organizations"]["nodes"]
    assert {o["id"] for o in listed} == {o["id"] for o in everyone["nodes"]} - {hidden["id"]}
    by_name = ask('{ organizations(name: "solidaire") { nodes { id } } }')
    assert by_name["organizations"]["nodes"] == []
    assert ask('{ node(id: "%s") { id } }' % hidden["id"]) == {"node": None}
    entities = ask(ENTITIES, {"r": [{"__typename": "Organization", "id": hidden["id"]}]})
    assert entities == {"_entities": [None]}
    # The same paths, for a company without that policy, do find it.
    assert data('{ node(id: "%s") { id } }' % hidden["id"]) == {"node": {"id": hidden["id"]}}
    found = data(ENTITIES, {"r": [{"__typename": "Organization", "id": hidden["id"]}]})
    assert found == {"_entities": [hidden]}


# --- missionCount is one resolver -----------------------------------------------------------


def test_mission_count_is_the_same_on_every_path(
    shared_listing: None, clients: Clients, client: TestClient, data: GraphQL
) -> None:
    true_counts = {"pa": 1, "pb": 3}
    seen: list[tuple[str, str, int]] = []

    def note(path: str, partner: dict[str, Any]) -> None:
        seen.append((path, partner["name"], partner["missionCount"]))

    for p in data("{ partners { name missionCount } }")["partners"]:
        note("partners", p)
    for name in true_counts:
        node = data('{ node(id: "ptn_%s") { ... on Partner { name missionCount } } }' % name)
        note("node", node["node"])
    searched = data(
        "{ missions(first: 50) { nodes { id partner { name missionCount } "
        "alsoPublishedOn { name missionCount } } } }"
    )["missions"]["nodes"]
    for mission in searched:
        note("missions.partner", mission["partner"])
        for other in mission["alsoPublishedOn"]:
            note("missions.alsoPublishedOn", other)
        one = data(
            '{ mission(id: "%s") { partner { name missionCount } '
            "alsoPublishedOn { name missionCount } } }" % mission["id"]
        )["mission"]
        note("mission.partner", one["partner"])
        for other in one["alsoPublishedOn"]:
            note("mission.alsoPublishedOn", other)
        entity = data(
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Mission { "
            "partner { name missionCount } } } }",
            {"r": [{"__typename": "Mission", "id": mission["id"]}]},
        )["_entities"][0]
        note("_entities.partner", entity["partner"])
    pb = clients.token(clients.create("partner", "B", partner="pb"))
    own = post(client, "{ partnerMissions { nodes { partner { name missionCount } } } }", pb)
    for mission in own.json()["data"]["partnerMissions"]["nodes"]:
        note("partnerMissions.partner", mission["partner"])

    paths = {path for path, _, _ in seen}
    assert paths == {
        "partners",
        "node",
        "missions.partner",
        "missions.alsoPublishedOn",
        "mission.partner",
        "mission.alsoPublishedOn",
        "_entities.partner",
        "partnerMissions.partner",
    }
    wrong = [(path, name, count) for path, name, count in seen if count != true_counts[name]]
    assert wrong == []


# --- distances ------------------------------------------------------------------------------


def test_distance_comes_to_the_metre(store: Store, data: GraphQL) -> None:
    for partner, drafts in catalogue().items():
        store.ingest(partner, drafts, now=INGEST_AT)
    paris = {"latitude": 48.8589, "longitude": 2.3469, "radiusKm": 1000}
    found = data(
        "query($f: MissionFilterInput) { missions(filter: $f, orderBy: NEAREST) "
        "{ nodes { distanceKm } } }",
        {"f": {"near": paris}},
    )["missions"]["nodes"]
    distances = [node["distanceKm"] for node in found]
    assert len(distances) >= 3
    for distance in distances:
        assert distance == round(distance, 3)
        assert len(json.dumps(distance).partition(".")[2]) <= 3, distance
    assert any(json.dumps(d) != json.dumps(round(d)) for d in distances)  # not whole km
