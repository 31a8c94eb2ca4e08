"""The engagement loop end to end, over real HTTP and WebSocket clients against the hub under
uvicorn: interest, tracked link, the partner's subscription, its update, the company's report
and its CSV."""

from __future__ import annotations

import asyncio
import csv
import io
import os
from contextlib import aclosing
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport

from hub.clock import ManualClock
from hub.settings import Settings
from hub.web.app import create_app
from tests.conftest import SHARES_REDIS, Clients, Store, require
from tests.engagement_helpers import EXPRESS, REPORT, UPDATE, engagement_settings, mission
from tests.servers import free_port, serve, until

SUBSCRIBE = """
subscription($after: String) {
  partnerEngagementEvents(after: $after) {
    cursor type status hoursGiven
    engagement { id status company employeeRef message contact { name email } }
  }
}
"""


def _post(base: str, token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(
        f"{base}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body["data"]  # type: ignore[no-any-return]


def test_interest_click_subscription_update_report_and_csv(
    settings: Settings, clients: Clients, store: Store, clock: ManualClock
) -> None:
    store.ingest("alpha", [mission("M1")])
    port = free_port()
    hub_settings = engagement_settings(settings, public_url=f"http://127.0.0.1:{port}")
    app = create_app(hub_settings, clock)
    with serve(app, port) as base:
        http = httpx.Client(base_url=base)
        tokens = Clients(hub_settings, http, clock)  # type: ignore[arg-type]
        company = tokens.token(clients.create("company", "ACME"))
        partner = tokens.token(clients.create("partner", "Alpha", partner="alpha"))
        ids = _post(base, company, "{ missions { nodes { id } } }", {})
        mission_id = ids["missions"]["nodes"][0]["id"]
        costs = """mutation { setEngagementCosts(hourlyCost: 50,
                     bySite: [{label: "Lyon", hourlyCost: 80}]) { hourlyCost } }"""
        _post(base, company, costs, {})

        async def scenario() -> list[dict[str, Any]]:
            events: list[dict[str, Any]] = []
            transport = WebsocketsTransport(
                url=base.replace("http://", "ws://") + "/graphql",
                init_payload={"Authorization": f"Bearer {partner}"},
                subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
            )
            async with Client(transport=transport) as session:

                async def read() -> None:
                    query = gql(SUBSCRIBE)
                    async with aclosing(
                        session.subscribe(query, variable_values={"after": "0"})
                    ) as feed:
                        async for result in feed:
                            events.append(result["partnerEngagementEvents"])
                            if events[-1]["status"] == "COMPLETED":
                                return

                reader = asyncio.create_task(read())
                interest = await asyncio.to_thread(
                    _post,
                    base,
                    company,
                    EXPRESS,
                    {
                        "missionId": mission_id,
                        "ref": "emp-7f3a",
                        "site": "Lyon",
                        "contact": {"consent": True, "name": "Camille", "email": "c@acme.fr"},
                    },
                )
                link = interest["expressInterest"]["trackedLink"]
                engagement_id = interest["expressInterest"]["engagement"]["id"]
                assert link.startswith(f"{base}/go/")
                async with httpx.AsyncClient() as browser:  # no token: an employee's click
                    first = await browser.get(link)
                    again = await browser.get(link)
                assert first.status_code == again.status_code == 302
                target = urlsplit(first.headers["location"])
                assert target.netloc == "partner.example"
                assert target.path == "/apply/M1"
                params = parse_qs(target.query)
                assert params["lang"] == ["fr"]  # the listing's own parameter is kept
                assert params["hub_engagement"] == [engagement_id]
                assert params["utm_source"] == ["entraide-hub"]
                await until_events(events, 1, reader)
                await asyncio.to_thread(
                    _post,
                    base,
                    partner,
                    UPDATE,
                    {"items": [{"engagementId": engagement_id, "status": "ACCEPTED"}]},
                )
                done = await asyncio.to_thread(
                    _post,
                    base,
                    partner,
                    UPDATE,
                    {
                        "items": [
                            {"engagementId": engagement_id, "status": "COMPLETED", "hoursGiven": 6}
                        ]
                    },
                )
                assert done["updateEngagements"][0]["outcome"] == "UPDATED"
                await asyncio.wait_for(reader, timeout=20)
            return events

        events = asyncio.run(scenario())
        assert [(e["type"], e["status"]) for e in events] == [
            ("ENGAGEMENT_CREATED", "INTERESTED"),
            ("ENGAGEMENT_UPDATED", "ACCEPTED"),
            ("ENGAGEMENT_UPDATED", "COMPLETED"),
        ]
        created = events[0]["engagement"]
        assert created["company"] == "ACME"
        assert created["employeeRef"] is None  # the company's pseudonym stays the company's
        assert created["contact"] == {"name": "Camille", "email": "c@acme.fr"}
        assert events[-1]["hoursGiven"] == 6

        variables = {
            "from": "2026-11-01",
            "to": "2026-11-30",
            "groupBy": ["CAUSE", "PARTNER", "SITE"],
        }
        report = _post(base, company, REPORT, variables)["engagementReport"]
        (group,) = report["groups"]
        assert {k["dimension"]: k["value"] for k in group["key"]} == {
            "CAUSE": "education",
            "PARTNER": "alpha",
            "SITE": "Lyon",
        }
        assert group["figures"]["hoursGiven"] == 6
        assert group["figures"]["value"] == 480  # 6 h at Lyon's 80 EUR, not the default 50
        assert group["figures"]["clicks"] == 1  # two clicks, one engagement: counted once
        assert report["totals"]["hoursGiven"] == 6
        assert report["taxReduction"]["isEstimate"] is True
        assert report["taxReduction"]["amount"] == 288  # 60% of 480

        response = http.get(
            "/reports/engagements.csv",
            params={"from": "2026-11-01", "to": "2026-11-30", "groupBy": "CAUSE,PARTNER,SITE"},
            headers={"Authorization": f"Bearer {company}"},
        )
        assert response.status_code == 200
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert rows[0]["cause"] == "education"
        assert rows[0]["partner"] == "alpha"
        assert rows[0]["site"] == "Lyon"
        assert rows[0]["hours_given"] == "6.0"
        assert rows[0]["value_eur"] == "480.00"
        assert rows[1]["cause"] == "TOTAL"
        assert rows[1]["hours_given"] == "6.0"
        assert "engagements-20261101-20261130.csv" in response.headers["content-disposition"]
        chart = http.get(
            "/reports/engagements.json",
            params={"from": "2026-11-01", "to": "2026-11-30", "groupBy": "CAUSE,PARTNER,SITE"},
            headers={"Authorization": f"Bearer {company}"},
        ).json()
        assert chart["labels"] == ["education · alpha · Lyon"]
        series = {s["name"]: s["data"] for s in chart["series"]}
        assert series["hoursGiven"] == [6.0] and series["value"] == [480.0]
        assert series["COMPLETED"] == [1.0]
        assert chart["taxReductionEstimate"] == {"amount": 288.0, "isEstimate": True}


async def until_events(
    events: list[dict[str, Any]], count: int, reader: asyncio.Task[None]
) -> None:
    """Until the subscription delivered `count` events (or ended: its error is raised)."""
    await until(lambda: len(events) >= count or reader.done(), f"{count} engagement events")
    if reader.done():
        reader.result()


@SHARES_REDIS
def test_an_interest_on_one_replica_reaches_a_partner_subscribed_on_another(
    settings: Settings, clients: Clients, store: Store, clock: ManualClock
) -> None:
    """Two hubs on one database and one Redis, the poll too slow to matter: the broker's
    notification wakes the partner's subscription on the other replica."""
    redis = os.environ.get("HUB_TEST_REDIS_URL", "")
    require(bool(redis), "HUB_TEST_REDIS_URL is not set: no Redis between the two replicas")
    store.ingest("alpha", [mission("M1")])
    shared = engagement_settings(
        settings, broker_url=redis, public_url="https://hub.test", live_poll_seconds=60.0
    )
    app_a, app_b = create_app(shared, clock), create_app(shared, clock)
    with serve(app_a) as a, serve(app_b) as b:
        tokens = Clients(shared, httpx.Client(base_url=a), clock)  # type: ignore[arg-type]
        company = tokens.token(clients.create("company", "ACME"))
        partner = tokens.token(clients.create("partner", "Alpha", partner="alpha"))
        mission_id = _post(a, company, "{ missions { nodes { id } } }", {})["missions"]["nodes"]
        # The log's position now, from the partner's own side: subscribe from there.
        head = _post(b, partner, "{ partnerMissions { eventCursor } }", {})
        wakers = app_b.state.services.live._wakers

        async def scenario() -> dict[str, Any]:
            transport = WebsocketsTransport(
                url=b.replace("http://", "ws://") + "/graphql",
                init_payload={"Authorization": f"Bearer {partner}"},
                subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
            )
            query = gql(
                "subscription($after: String) { partnerEngagementEvents(after: $after) "
                "{ type engagement { id } } }"
            )
            async with Client(transport=transport) as session:
                after = {"after": head["partnerMissions"]["eventCursor"]}
                async with aclosing(session.subscribe(query, variable_values=after)) as feed:
                    first = asyncio.ensure_future(feed.__anext__())
                    await until(lambda: wakers, "the subscription to wait on B")
                    await asyncio.to_thread(
                        _post, a, company, EXPRESS, {"missionId": mission_id[0]["id"], "ref": "e1"}
                    )
                    return await asyncio.wait_for(first, timeout=20)

        event = asyncio.run(scenario())["partnerEngagementEvents"]
        assert event["type"] == "ENGAGEMENT_CREATED"
