"""Partners push through GraphQL: per-item results, idempotence, and no reach into others' data."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from hub.settings import Settings
from hub.storage.db import make_engine
from hub.storage.tables import audit_log
from hub.storage.writer import mission_id
from tests.conftest import Clients, run

UPSERT = """
mutation Push($missions: [MissionInput!]!) {
  upsertMissions(missions: $missions) {
    results { externalId status missionId errors { message } }
    counts { created updated unchanged refused }
  }
}
"""
CLOSE = """
mutation Close($ids: [String!]!) {
  closeMissions(externalIds: $ids) { results { externalId status } counts { closed } }
}
"""


def item(ext: str, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "externalId": ext,
        "title": f"Mission {ext}",
        "applicationUrl": f"https://partner.example/{ext}",
        "descriptionHtml": "<p>Aider <script>x()</script>une association</p>",
        "remote": "POSSIBLE",
        "causes": ["Solidarité et insertion"],
        "skills": ["Comptable"],
        "locations": [{"postalCode": "35000", "city": "Rennes"}],
        "startAt": "2027-01-10",
        "scheduleLabel": "2h/semaine",
        "organization": {"name": "Les Amis de Rennes", "rna": "W353000001"},
    }
    base.update(changes)
    return base


class Partner:
    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.token = token

    def call(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = self.client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def upsert(self, *items: dict[str, Any]) -> dict[str, Any]:
        body = self.call(UPSERT, {"missions": list(items)})
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"]["upsertMissions"]
        return result

    def close(self, *ids: str) -> dict[str, Any]:
        body = self.call(CLOSE, {"ids": list(ids)})
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"]["closeMissions"]
        return result


@pytest.fixture
def alpha(clients: Clients, client: TestClient) -> Partner:
    return Partner(client, clients.token(clients.create("partner", "Alpha", partner="alpha")))


@pytest.fixture
def beta(clients: Clients, client: TestClient) -> Partner:
    return Partner(client, clients.token(clients.create("partner", "Beta", partner="beta")))


def statuses(result: dict[str, Any]) -> list[str]:
    return [r["status"] for r in result["results"]]


def test_one_result_per_item_in_order_and_bad_items_sink_alone(alpha: Partner) -> None:
    result = alpha.upsert(
        item("1"),
        item("2", title=""),
        item("3", remote="SOMETIMES"),
        item("4", startAt="2027-02-30"),
        item("5", placesTotal=0),
        item("6", endAt="2026-01-01"),
        item("7", applicationUrl="ftp://nope"),
        item("8", descriptionHtml="x" * 20001),
        item("9"),
    )
    assert statuses(result) == ["CREATED"] + ["REFUSED"] * 7 + ["CREATED"]
    messages = [r["errors"][0]["message"] if r["errors"] else "" for r in result["results"]]
    assert "missing title" in messages[1]
    assert "remote: unknown value 'SOMETIMES'" in messages[2]
    assert "startAt: not an ISO 8601 date" in messages[3]
    assert "places must be above 0" in messages[4]
    assert "end date before start date" in messages[5]
    assert "not an http(s) URL" in messages[6]
    assert "over 20000 characters" in messages[7]
    assert result["counts"] == {"created": 2, "updated": 0, "unchanged": 0, "refused": 7}
    assert result["results"][0]["missionId"] == mission_id("alpha", "1")


def test_upsert_is_idempotent_and_replaces_the_document(alpha: Partner, data: Any) -> None:
    assert statuses(alpha.upsert(item("1"))) == ["CREATED"]
    assert statuses(alpha.upsert(item("1"))) == ["UNCHANGED"]
    assert statuses(alpha.upsert(item("1", title="Nouveau titre", skills=[]))) == ["UPDATED"]
    mission = data(
        '{ mission(id: "%s") { title skills { slug } descriptionHtml locations { city } '
        "commitment { hoursPerWeekMin } organization { rna } causes { value } } }"
        % mission_id("alpha", "1")
    )["mission"]
    assert mission["title"] == "Nouveau titre"
    assert mission["skills"] == []  # the whole document is replaced
    assert "<script" not in mission["descriptionHtml"]
    assert mission["commitment"]["hoursPerWeekMin"] == 2.0
    assert mission["causes"] == [{"value": "SOLIDARITE_INSERTION"}]


def test_duplicate_ids_in_one_call(alpha: Partner) -> None:
    assert statuses(alpha.upsert(item("1"), item("1", title="Autre"))) == ["CREATED", "DUPLICATE"]


def test_close_missions(alpha: Partner, data: Any) -> None:
    alpha.upsert(item("1"), item("2"))
    assert statuses(alpha.close("1", "404")) == ["CLOSED", "NOT_FOUND"]
    assert statuses(alpha.close("1")) == ["UNCHANGED"]
    found = data("{ missions { edges { node { externalId } } } }")["missions"]["edges"]
    assert [e["node"]["externalId"] for e in found] == ["2"]


def test_a_partner_cannot_touch_another_partners_missions(
    alpha: Partner, beta: Partner, data: Any
) -> None:
    beta.upsert(item("B-1"), item("B-2"))
    # Upserting B's ids makes alpha's own missions; B's stay as they were.
    result = alpha.upsert(item("B-1", title="Pris par alpha"))
    assert statuses(result) == ["CREATED"]
    assert result["results"][0]["missionId"] == mission_id("alpha", "B-1")
    assert mission_id("alpha", "B-1") != mission_id("beta", "B-1")
    assert statuses(alpha.close("B-1", "B-2")) == ["CLOSED", "NOT_FOUND"]
    beta_view = data('{ mission(id: "%s") { title status } }' % mission_id("beta", "B-1"))
    assert beta_view["mission"] == {"title": "Mission B-1", "status": "OPEN"}
    # Reading: each partner sees its own missions and refusals only.
    alpha.upsert(item("bad", title=""))
    own_body = alpha.call(
        "{ partnerMissions { edges { node { externalId partner { name } } } } "
        "refusedRecords { externalId reason source } }",
        {},
    )
    assert "errors" not in own_body, own_body
    own = own_body["data"]
    assert {e["node"]["partner"]["name"] for e in own["partnerMissions"]["edges"]} == {"alpha"}
    assert own["refusedRecords"] == [
        {"externalId": "bad", "reason": "missing title", "source": "PUSH"}
    ]
    assert beta.call("{ refusedRecords { externalId } }", {})["data"]["refusedRecords"] == []


def test_only_partner_tokens_write(clients: Clients, client: TestClient) -> None:
    company = Partner(client, clients.token(clients.create("company", "ACME")))
    body = company.call(UPSERT, {"missions": [item("1")]})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    admin = Partner(client, clients.token(clients.create("admin", "Ops")))
    body = admin.call(UPSERT, {"missions": [item("1")]})
    assert "not bound to a partner" in body["errors"][0]["message"]
    anonymous = client.post("/graphql", json={"query": CLOSE, "variables": {"ids": ["1"]}})
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_batch_limits(alpha: Partner) -> None:
    many = [item(str(i)) for i in range(1000)]
    assert alpha.upsert(*many)["counts"]["created"] == 1000
    body = alpha.call(UPSERT, {"missions": [*many, item("1000")]})
    assert "at most 1000 items" in body["errors"][0]["message"]


def test_partner_writes_are_audited(alpha: Partner, settings: Settings) -> None:
    alpha.upsert(item("1"), item("2", title=""))
    alpha.close("1")

    async def go() -> list[tuple[str, Any]]:
        engine = make_engine(settings)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    select(audit_log.c.event, audit_log.c.detail)
                    .where(audit_log.c.event.like("partner.%"))
                    .order_by(audit_log.c.pk)
                )
                return [(event, detail) for event, detail in rows]
        finally:
            await engine.dispose()

    events = run(go())
    assert [event for event, _ in events] == ["partner.upsert", "partner.close"]
    assert events[0][1]["counts"]["refused"] == 1 and events[0][1]["partner"] == "alpha"


def test_organization_identifiers_are_checked_and_a_bad_one_refuses_its_item_only(
    alpha: Partner, data: Any
) -> None:
    good = {"name": "Entraide Rennes", "siren": "732 829 320", "siret": "73282932000074"}
    result = alpha.upsert(
        item("ok", organization=good),
        item("bad-siren", organization={"name": "Entraide", "siren": "123456789"}),
        item("bad-siret", organization={"name": "Entraide", "siret": "73282932000075"}),
        item("bad-rna", organization={"name": "Entraide", "rna": "W12"}),
        item(
            "other",
            organization={"name": "Entraide", "siren": "732829320", "siret": "55208131766522"},
        ),
    )
    assert statuses(result) == ["CREATED", "REFUSED", "REFUSED", "REFUSED", "REFUSED"]
    reasons = [r["errors"][0]["message"] for r in result["results"][1:]]
    assert "SIREN '123456789' is not 9 digits passing the Luhn check" in reasons[0]
    assert "SIRET '73282932000075'" in reasons[1]
    assert "RNA 'W12'" in reasons[2]
    assert "not an establishment of SIREN" in reasons[3]
    # The good one is stored with its identifiers written without separators.
    shown = data(
        '{ mission(id: "%s") { organization { siren siret } } }' % mission_id("alpha", "ok")
    )
    assert shown["mission"]["organization"] == {"siren": "732829320", "siret": "73282932000074"}
