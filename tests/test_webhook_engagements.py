"""Engagement events by webhook: a company's webhook hears of its own engagements, a partner's of
the engagements on its missions, another company's of none; no body carries contact details."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from hub.clock import ManualClock
from hub.settings import Settings
from hub.web.app import create_app
from tests.conftest import Store
from tests.engagement_helpers import Hub, engagement_settings, mission
from tests.servers import serve
from tests.test_webhooks import CREATE, until_delivered, with_loopback
from tests.webhook_receiver import Receiver

ENGAGEMENT_EVENTS = ["ENGAGEMENT_CREATED", "ENGAGEMENT_UPDATED", "ENGAGEMENT_ERASED"]


def _hook(hub: Hub, token: str, receiver: Receiver, base: str) -> None:
    created = hub.data(token, CREATE, url=f"{base}/hook", events=ENGAGEMENT_EVENTS)
    receiver.secrets.append(created["createWebhook"]["secret"])


def test_engagement_events_reach_their_owners_webhooks_only(
    settings: Settings, clock: ManualClock, store: Store
) -> None:
    hub_settings = engagement_settings(with_loopback(settings), rate_limit_per_minute=0)
    acme_rx, beta_rx, alpha_rx = Receiver(clock), Receiver(clock), Receiver(clock)
    with (
        serve(acme_rx.app) as acme_base,
        serve(beta_rx.app) as beta_base,
        serve(alpha_rx.app) as alpha_base,
        TestClient(create_app(hub_settings, clock)) as http,
    ):
        hub = Hub(http, hub_settings, clock)
        acme, beta, alpha = hub.company("ACME"), hub.company("BETA"), hub.partner("alpha")
        _hook(hub, acme, acme_rx, acme_base)
        _hook(hub, beta, beta_rx, beta_base)
        _hook(hub, alpha, alpha_rx, alpha_base)
        store.ingest("alpha", [mission("M1")])
        contact = {"consent": True, "name": "Camille", "email": "camille@acme.example"}
        made = hub.interest(acme, hub.mission_id(acme, "M1"), ref="emp-7", site="Lyon",
                            contact=contact)  # fmt: skip
        engagement_id = made["engagement"]["id"]
        [accepted] = hub.update(alpha, {"engagementId": engagement_id, "status": "ACCEPTED"})
        assert accepted["outcome"] == "UPDATED"
        until_delivered(
            clock,
            lambda: len(acme_rx.accepted()) == 2 and len(alpha_rx.accepted()) == 2,
            "the engagement events at ACME's and alpha's webhooks",
        )
        # BETA's own interest comes after ACME's events in the log, and deliveries go in log
        # order: once BETA's webhook has it, it has passed ACME's without getting them.
        own = hub.interest(beta, hub.mission_id(beta, "M1"), ref="b-1")["engagement"]["id"]
        until_delivered(
            clock,
            lambda: len(beta_rx.accepted()) == 1 and len(alpha_rx.accepted()) == 3,
            "BETA's own event, at BETA's webhook and the partner's",
        )

    def seen(receiver: Receiver) -> list[tuple[str, dict[str, Any]]]:
        return [(r.payload["type"], r.payload["engagement"]) for r in receiver.accepted()]

    company_view, partner_view = seen(acme_rx), seen(alpha_rx)
    assert [kind for kind, _ in company_view] == ["ENGAGEMENT_CREATED", "ENGAGEMENT_UPDATED"]
    # The partner hears of every interest in its missions, ACME's then BETA's.
    assert [(kind, e["id"]) for kind, e in partner_view] == [
        ("ENGAGEMENT_CREATED", engagement_id),
        ("ENGAGEMENT_UPDATED", engagement_id),
        ("ENGAGEMENT_CREATED", own),
    ]
    partner_view = partner_view[:2]
    assert [e["status"] for _, e in company_view] == ["INTERESTED", "ACCEPTED"]
    assert {e["id"] for _, e in company_view + partner_view} == {engagement_id}
    # The company sees its employee's reference and labels; the partner the company's name and
    # the message, never the employee's reference.
    assert company_view[0][1]["employeeRef"] == "emp-7" and company_view[0][1]["site"] == "Lyon"
    assert partner_view[0][1]["company"] and partner_view[0][1]["message"] == "Disponible le jeudi"
    assert "employeeRef" not in partner_view[0][1] and "site" not in partner_view[0][1]
    # Contact details are read through the API (audited), never sent by webhook.
    bodies = [str(r.payload) for r in acme_rx.accepted() + alpha_rx.accepted()]
    assert not any("camille" in body.lower() for body in bodies)
    assert [(kind, e["id"]) for kind, e in seen(beta_rx)] == [("ENGAGEMENT_CREATED", own)]
