"""Isolation of engagements by every path: company A never sees or changes company B's, partner
A never sees or updates partner B's (queries, `node`, `_entities`, events, the subscription,
reports and the CSV)."""

from __future__ import annotations

from typing import Any

import pytest

from hub.catalogue.filters import Policy
from tests.conftest import Store
from tests.engagement_helpers import REPORT, Hub, hub, mission

__all__ = ["hub"]

EVENTS = "{ engagementEvents { nodes { type engagement { id } } } }"
PARTNER_EVENTS = "{ partnerEngagementEvents { nodes { type engagement { id } } } }"
ONE = "query($id: ID!) { engagement(id: $id) { id status } }"
LIST = "{ engagements { nodes { id } } }"


class World:
    """Companies A and B, partners alpha and beta: A on alpha's mission, B on beta's."""

    def __init__(self, hub: Hub, store: Store) -> None:
        store.ingest("alpha", [mission("A1")])
        store.ingest("beta", [mission("B1", title="Tutorat B1", causes=["sante"])])
        self.hub = hub
        self.a, self.b = hub.company("Company A"), hub.company("Company B")
        self.alpha, self.beta = hub.partner("alpha"), hub.partner("beta")
        on_alpha, on_beta = hub.mission_id(self.a, "A1"), hub.mission_id(self.a, "B1")
        self.a_id = hub.interest(self.a, on_alpha, "emp-a", site="Lyon")["engagement"]["id"]
        self.b_id = hub.interest(self.b, on_beta, "emp-b", site="Lille")["engagement"]["id"]
        hub.update(self.alpha, {"engagementId": self.a_id, "status": "COMPLETED", "hoursGiven": 5})
        hub.update(self.beta, {"engagementId": self.b_id, "status": "COMPLETED", "hoursGiven": 3})

    def ids(self, token: str, query: str, root: str) -> set[str]:
        nodes = self.hub.data(token, query)[root]["nodes"]
        return {(n.get("engagement") or n)["id"] for n in nodes}


@pytest.fixture
def world(hub: Hub, store: Store) -> World:
    return World(hub, store)


def test_a_company_sees_only_its_own_engagements(world: World) -> None:
    hub = world.hub
    assert world.ids(world.a, LIST, "engagements") == {world.a_id}
    assert world.ids(world.b, LIST, "engagements") == {world.b_id}
    assert hub.data(world.b, ONE, id=world.a_id) == {"engagement": None}
    assert world.ids(world.a, EVENTS, "engagementEvents") == {world.a_id}
    assert world.ids(world.b, EVENTS, "engagementEvents") == {world.b_id}
    node = hub.data(world.b, "query($id: ID!) { node(id: $id) { id } }", id=world.a_id)
    assert node == {"node": None}
    entities = hub.call(
        world.b,
        "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }",
        r=[{"__typename": "Engagement", "id": world.a_id}],
    )
    assert entities["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    # The mission feed carries no engagement events, for anyone.
    feed = hub.data(world.a, "{ missionEvents(first: 100) { edges { node { type } } } }")
    assert {e["node"]["type"] for e in feed["missionEvents"]["edges"]} == {"PUBLISHED"}


def test_a_company_cannot_change_another_companys_engagements(world: World) -> None:
    hub = world.hub
    error = hub.error(
        world.b, "mutation($id: ID!) { withdrawEngagement(id: $id) { id } }", id=world.a_id
    )
    assert error["extensions"]["code"] == "NOT_FOUND"
    erased = hub.data(world.b, 'mutation { eraseEmployee(employeeRef: "emp-a") { engagements } }')
    assert erased == {"eraseEmployee": {"engagements": 0}}
    assert hub.data(world.a, ONE, id=world.a_id)["engagement"]["status"] == "COMPLETED"
    refs = hub.data(world.a, "{ engagements { nodes { employeeRef } } }")
    assert refs["engagements"]["nodes"] == [{"employeeRef": "emp-a"}]


def _totals(hub: Hub, token: str) -> dict[str, Any]:
    variables = {"from": "2026-11-01", "to": "2026-11-30", "groupBy": ["SITE", "PARTNER"]}
    return hub.data(token, REPORT, **variables)["engagementReport"]  # type: ignore[no-any-return]


def test_reports_and_csv_count_the_callers_engagements_only(world: World) -> None:
    hub = world.hub
    a, b = _totals(hub, world.a), _totals(hub, world.b)
    assert [g["label"] for g in a["groups"]] == ["Lyon · alpha"]
    assert [g["label"] for g in b["groups"]] == ["Lille · beta"]
    assert (a["totals"]["hoursGiven"], b["totals"]["hoursGiven"]) == (5, 3)
    for token, own, other in ((world.a, "Lyon", "Lille"), (world.b, "Lille", "Lyon")):
        for path in ("/reports/engagements.csv", "/reports/engagements.json"):
            answer = hub.http.get(
                path,
                params={"from": "2026-11-01", "to": "2026-11-30", "groupBy": "SITE"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert answer.status_code == 200
            assert own in answer.text and other not in answer.text


def test_a_partner_sees_and_updates_only_engagements_on_its_listings(world: World) -> None:
    hub = world.hub
    assert world.ids(world.alpha, PARTNER_EVENTS, "partnerEngagementEvents") == {world.a_id}
    assert world.ids(world.beta, PARTNER_EVENTS, "partnerEngagementEvents") == {world.b_id}
    assert hub.data(world.beta, ONE, id=world.a_id) == {"engagement": None}
    (result,) = hub.update(world.beta, {"engagementId": world.a_id, "hoursGiven": 50})
    assert (result["outcome"], result["engagement"]) == ("NOT_FOUND", None)
    assert hub.data(
        world.alpha, "query($id: ID!) { engagement(id: $id) { hoursGiven } }", id=world.a_id
    ) == {"engagement": {"hoursGiven": 5.0}}


def test_the_subscription_replays_only_the_partners_own_events(world: World) -> None:
    query = 'subscription { partnerEngagementEvents(after: "0") { type engagement { id } } }'
    with world.hub.http.websocket_connect(
        "/graphql", subprotocols=["graphql-transport-ws"]
    ) as socket:
        socket.send_json(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {world.beta}"}}
        )
        assert socket.receive_json()["type"] == "connection_ack"
        socket.send_json({"id": "1", "type": "subscribe", "payload": {"query": query}})
        seen = [socket.receive_json()["payload"]["data"]["partnerEngagementEvents"] for _ in "12"]
    assert seen == [
        {"type": "ENGAGEMENT_CREATED", "engagement": {"id": world.b_id}},
        {"type": "ENGAGEMENT_UPDATED", "engagement": {"id": world.b_id}},
    ]


def test_each_side_is_refused_the_others_fields(world: World) -> None:
    hub = world.hub
    for token, query in (
        (world.alpha, LIST),
        (world.alpha, EVENTS),
        (world.a, PARTNER_EVENTS),
        (world.a, "mutation { updateEngagements(items: []) { outcome } }"),
    ):
        assert hub.error(token, query)["extensions"]["code"] == "FORBIDDEN"
    narrow = hub.clients.token(hub.clients.create("company", "Read only"), scope="missions:read")
    assert hub.error(narrow, LIST)["extensions"]["code"] == "FORBIDDEN"
    csv = hub.http.get(
        "/reports/engagements.csv",
        params={"from": "2026-11-01", "to": "2026-11-30"},
        headers={"Authorization": f"Bearer {narrow}"},
    )
    assert csv.status_code == 403
    anonymous = hub.http.get(
        "/reports/engagements.csv", params={"from": "2026-11-01", "to": "2026-11-30"}
    )
    assert anonymous.status_code == 401


def test_a_companys_policy_holds_for_interests_too(world: World) -> None:
    """A mission the company's policy hides cannot be engaged on: NOT_FOUND, as unknown."""
    hub = world.hub
    narrow = hub.clients.create("company", "Beta only")
    hub.clients.store(lambda store: store.set_policy(narrow.client_id, Policy(partners=("beta",))))
    token = hub.clients.token(narrow)
    on_alpha = hub.mission_id(world.a, "A1")
    error = hub.error(
        token,
        'mutation($m: ID!) { expressInterest(missionId: $m, employeeRef: "e") { trackedLink } }',
        m=on_alpha,
    )
    assert error["extensions"]["code"] == "NOT_FOUND"
    on_beta = hub.mission_id(token, "B1")
    assert hub.interest(token, on_beta, "e")["engagement"]["partner"] == "beta"
