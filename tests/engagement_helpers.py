"""Shared by the engagement tests: a mission to engage on, and the operations they send."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from starlette.testclient import TestClient

from hub.catalogue.model import MissionDraft, OrganizationDraft, Remote
from hub.clock import ManualClock
from hub.settings import Settings
from hub.storage.db import make_engine
from hub.web.app import create_app
from tests.conftest import Clients, run

__all__ = [
    "EXPRESS",
    "REPORT",
    "UPDATE",
    "Hub",
    "engagement_settings",
    "hub",
    "mission",
]

EXPRESS = """
mutation($missionId: ID!, $ref: String!, $site: String, $contact: ContactInput) {
  expressInterest(missionId: $missionId, employeeRef: $ref, site: $site, contact: $contact,
                  message: "Disponible le jeudi") {
    trackedLink linkExpiresAt
    engagement { id status missionId partner employeeRef site hasContact }
  }
}
"""
UPDATE = """
mutation($items: [EngagementUpdateInput!]!) {
  updateEngagements(items: $items) {
    engagementId outcome reason engagement { id status hoursGiven }
  }
}
"""
REPORT = """
query($from: Date!, $to: Date!, $groupBy: [EngagementReportDimension!]) {
  engagementReport(from: $from, to: $to, groupBy: $groupBy) {
    groups { key { dimension value } label
             figures { engagements hoursGiven value eligibleValue clicks distinctEmployees
                       byStatus { status count } } }
    totals { engagements hoursGiven value eligibleValue clicks distinctEmployees
             distinctOrganizations byStatus { status count } }
    taxReduction { isEstimate amount hourlyCeiling }
    chart { labels series { name data } }
  }
}
"""


def engagement_settings(settings: Settings, **more: Any) -> Settings:
    """The test settings with a contact key (the hub refuses contact details without one)."""
    return settings.model_copy(update={"contact_keys": [Fernet.generate_key().decode()], **more})


def mission(external_id: str = "M1", **changes: Any) -> MissionDraft:
    values: dict[str, Any] = {
        "external_id": external_id,
        "title": f"Mentorat {external_id}",
        "application_url": f"https://partner.example/apply/{external_id}?lang=fr",
        "remote": Remote.FULL,
        "causes": ["education"],
        "skills": ["gestion de projet"],
        "organization": OrganizationDraft(name="Tremplin Jeunes", rna="W751000099"),
        **changes,
    }
    return MissionDraft(**values)


class Hub:
    """The hub in-process (TestClient, lifespan included), with engagement settings; tokens
    for companies and partners, and GraphQL calls as any of them."""

    def __init__(self, http: TestClient, settings: Settings, clock: ManualClock) -> None:
        self.http = http
        self.settings = settings
        self.clock = clock
        self.clients = Clients(settings, http, clock)

    def company(self, name: str = "ACME") -> str:
        return self.clients.token(self.clients.create("company", name))

    def partner(self, partner: str) -> str:
        return self.clients.token(self.clients.create("partner", partner.title(), partner=partner))

    def call(self, token: str, query: str, **variables: Any) -> dict[str, Any]:
        response = self.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code in (200, 400), response.text
        body: dict[str, Any] = response.json()
        return body

    def data(self, token: str, query: str, **variables: Any) -> dict[str, Any]:
        body = self.call(token, query, **variables)
        assert "errors" not in body, body["errors"]
        result: dict[str, Any] = body["data"]
        return result

    def error(self, token: str, query: str, **variables: Any) -> dict[str, Any]:
        """The one error of a call that must fail; returns it (message and extensions)."""
        body = self.call(token, query, **variables)
        assert body.get("errors"), body
        error: dict[str, Any] = body["errors"][0]
        return error

    def mission_id(self, token: str, external_id: str) -> str:
        nodes = self.data(token, "{ missions(first: 100) { nodes { id externalId } } }")
        return next(n["id"] for n in nodes["missions"]["nodes"] if n["externalId"] == external_id)

    def interest(self, token: str, mission_id: str, ref: str = "emp-1", **more: Any) -> Any:
        return self.data(token, EXPRESS, missionId=mission_id, ref=ref, **more)["expressInterest"]

    def update(self, token: str, *items: dict[str, Any]) -> list[dict[str, Any]]:
        return self.data(token, UPDATE, items=list(items))["updateEngagements"]  # type: ignore[no-any-return]

    def audit(self, event: str) -> list[dict[str, Any]]:
        async def go() -> list[dict[str, Any]]:
            engine = make_engine(self.settings)
            try:
                async with engine.connect() as conn:
                    rows = await conn.execute(
                        text("SELECT client_id, detail FROM audit_log WHERE event = :e"),
                        {"e": event},
                    )
                    return [dict(row._mapping) for row in rows]
            finally:
                await engine.dispose()

        return run(go())  # type: ignore[no-any-return]


@pytest.fixture
def hub(settings: Settings, clock: ManualClock) -> Iterator[Hub]:
    hub_settings = engagement_settings(settings)
    with TestClient(create_app(hub_settings, clock)) as http:
        yield Hub(http, hub_settings, clock)
