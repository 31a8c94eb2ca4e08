"""The company's and the partner's sides of the loop, in-process: interests, moves and their
refusals, declared hours, tracked links, contact details (consent, audit, erasure, retention)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text
from starlette.testclient import TestClient

from hub.cli import main
from hub.clock import ManualClock
from hub.settings import load_settings
from hub.storage.db import make_engine
from hub.storage.migrate import upgrade
from hub.web.app import create_app
from tests.conftest import Store, run
from tests.engagement_helpers import Hub, hub, mission

__all__ = ["hub"]  # the fixture, imported for pytest

LIST = """
query($filter: EngagementFilter) {
  engagements(filter: $filter, first: 50) {
    nodes { id status hoursGiven employeeRef message hasContact clickedAt source
            history { actor status hoursGiven note } }
  }
}
"""
PARTNER_VIEW = """
query($id: ID!) { engagement(id: $id) { id status employeeRef contact { name email phone } } }
"""


def _setup(hub: Hub, store: Store) -> tuple[str, str, str]:
    store.ingest("alpha", [mission("M1"), mission("M2", causes=["sante", "education"])])
    company = hub.company()
    return company, hub.partner("alpha"), hub.mission_id(company, "M1")


def _engagements(hub: Hub, token: str, **filter: Any) -> list[dict[str, Any]]:
    return hub.data(token, LIST, filter=filter or None)["engagements"]["nodes"]  # type: ignore[no-any-return]


def test_asking_twice_is_one_interest_with_a_fresh_link(hub: Hub, store: Store) -> None:
    company, _, mission_id = _setup(hub, store)
    first = hub.interest(company, mission_id, "emp-1")
    again = hub.interest(company, mission_id, "emp-1")
    assert again["engagement"]["id"] == first["engagement"]["id"]
    assert again["trackedLink"] != first["trackedLink"]
    (only,) = _engagements(hub, company)
    assert only["status"] == "INTERESTED" and only["source"] == "TRACKED"
    assert [h["actor"] for h in only["history"]] == ["COMPANY"]
    other = hub.interest(company, mission_id, "emp-2")
    assert other["engagement"]["id"] != first["engagement"]["id"]
    assert len(_engagements(hub, company)) == 2
    assert [e["employeeRef"] for e in _engagements(hub, company, employeeRef="emp-2")] == ["emp-2"]


def test_bad_input_is_a_clear_error_and_changes_nothing(hub: Hub, store: Store) -> None:
    company, partner, mission_id = _setup(hub, store)
    done = hub.interest(company, mission_id, "emp-1")["engagement"]["id"]
    hub.update(partner, {"engagementId": done, "status": "COMPLETED", "hoursGiven": 3})
    before = _engagements(hub, company)
    express = "mutation($m: ID!, $r: String!, $h: Float, $c: ContactInput) { expressInterest(missionId: $m, employeeRef: $r, hoursPlanned: $h, contact: $c) { trackedLink } }"  # noqa: E501
    cases = [
        (express, {"m": "mis_unknown", "r": "emp-9"}, "NOT_FOUND", "no mission"),
        (express, {"m": mission_id, "r": "  "}, "BAD_USER_INPUT", "employeeRef"),
        (express, {"m": mission_id, "r": "emp-9", "h": -2}, "BAD_USER_INPUT", "zero or more"),
        (
            express,
            {"m": mission_id, "r": "emp-9", "c": {"consent": False, "email": "a@b.fr"}},
            "BAD_USER_INPUT",
            "consent",
        ),
        (
            express,
            {"m": mission_id, "r": "emp-9", "c": {"consent": True, "email": "not-an-email"}},
            "BAD_USER_INPUT",
            "email",
        ),
        (
            "mutation($id: ID!) { withdrawEngagement(id: $id) { status } }",
            {"id": done},
            "BAD_USER_INPUT",
            "final status",
        ),
        (
            'mutation($m: ID!) { recordHours(missionId: $m, employeeRef: "emp-9", hours: -1) { id } }',  # noqa: E501
            {"m": mission_id},
            "BAD_USER_INPUT",
            "hours",
        ),
        (
            '{ engagementReport(from: "2024-01-01", to: "2026-01-02") { totals { engagements } } }',
            {},
            "BAD_USER_INPUT",
            "at most 731 days",
        ),
        (
            '{ engagementReport(from: "2026-02-01", to: "2026-01-01") { totals { engagements } } }',
            {},
            "BAD_USER_INPUT",
            "before",
        ),
        (
            "mutation { setEngagementCosts(hourlyCost: -5) { hourlyCost } }",
            {},
            "BAD_USER_INPUT",
            "zero or more",
        ),
    ]
    store.ingest("alpha", [mission("M9")])
    closed = hub.mission_id(company, "M9")
    store.close("alpha", ["M9"])
    cases.append((express, {"m": closed, "r": "emp-9"}, "BAD_USER_INPUT", "CLOSED"))
    for query, variables, code, words in cases:
        error = hub.error(company, query, **variables)
        assert error["extensions"]["code"] == code, (query, error)
        assert words in error["message"], (query, error)
    assert _engagements(hub, company) == before
    assert hub.data(company, "{ engagementCosts { hourlyCost } }")["engagementCosts"] == {
        "hourlyCost": None
    }


def test_partner_moves_are_checked_item_by_item(hub: Hub, store: Store) -> None:
    company, partner, mission_id = _setup(hub, store)
    eid = hub.interest(company, mission_id, "emp-1")["engagement"]["id"]
    results = hub.update(
        partner,
        {"engagementId": eid, "status": "COMPLETED"},
        {"engagementId": eid, "status": "ACCEPTED", "hoursGiven": -1},
        {"engagementId": "eng_unknown", "status": "ACCEPTED"},
        {"engagementId": eid, "status": "APPLIED", "hoursGiven": 2},
    )
    assert [(r["outcome"], r["reason"]) for r in results] == [
        ("REFUSED", "COMPLETED needs the hours given (hoursGiven above zero)"),
        ("REFUSED", "hoursGiven must be zero or more, got -1.0"),
        ("NOT_FOUND", "no engagement with this id is yours"),
        ("REFUSED", "hours are given from ACCEPTED on; the engagement would be APPLIED"),
    ]
    assert _engagements(hub, company)[0]["status"] == "INTERESTED"  # nothing changed
    accept = {"engagementId": eid, "status": "ACCEPTED", "note": "welcome"}
    assert hub.update(partner, accept)[0]["outcome"] == "UPDATED"
    assert hub.update(partner, accept)[0]["outcome"] == "UNCHANGED"  # idempotent
    complete = {"engagementId": eid, "status": "COMPLETED", "hoursGiven": 6}
    assert hub.update(partner, complete)[0]["outcome"] == "UPDATED"
    back = hub.update(partner, {"engagementId": eid, "status": "ACCEPTED"})[0]
    assert back["outcome"] == "REFUSED"
    assert "COMPLETED, a final status" in back["reason"]
    fix = hub.update(partner, {"engagementId": eid, "hoursGiven": 7.5})[0]
    assert fix["outcome"] == "UPDATED" and fix["engagement"]["hoursGiven"] == 7.5
    (engagement,) = _engagements(hub, company)
    assert [(h["actor"], h["status"], h["note"]) for h in engagement["history"]] == [
        ("COMPANY", "INTERESTED", None),
        ("PARTNER", "ACCEPTED", "welcome"),
        ("PARTNER", "COMPLETED", None),
        ("PARTNER", "COMPLETED", None),
    ]
    company_only = hub.error(company, "mutation { updateEngagements(items: []) { outcome } }")
    assert company_only["extensions"]["code"] == "FORBIDDEN"


def test_declared_hours_complete_an_engagement_or_record_one(hub: Hub, store: Store) -> None:
    company, _, mission_id = _setup(hub, store)
    eid = hub.interest(company, mission_id, "emp-1")["engagement"]["id"]
    record = 'mutation($m: ID!, $r: String!) { recordHours(missionId: $m, employeeRef: $r, hours: 4, site: "Lyon") { id status hoursGiven source } }'  # noqa: E501
    completed = hub.data(company, record, m=mission_id, r="emp-1")["recordHours"]
    assert completed == {"id": eid, "status": "COMPLETED", "hoursGiven": 4.0, "source": "TRACKED"}
    declared = hub.data(company, record, m=mission_id, r="emp-2")["recordHours"]
    assert declared["id"] != eid
    assert (declared["status"], declared["source"]) == ("COMPLETED", "DECLARED")
    earlier = 'mutation($m: ID!, $on: Date) { recordHours(missionId: $m, employeeRef: "emp-3", hours: 2.5, givenOn: $on) { completedAt } }'  # noqa: E501
    october = hub.data(company, earlier, m=mission_id, on="2026-10-20")["recordHours"]
    assert october["completedAt"].startswith("2026-10-20")
    future = hub.error(company, earlier, m=mission_id, on="2026-11-16")
    assert "future" in future["message"]
    by_month = hub.data(
        company,
        '{ engagementReport(from: "2026-10-01", to: "2026-11-30", groupBy: [MONTH]) { groups { label figures { hoursGiven } } } }',  # noqa: E501
    )["engagementReport"]["groups"]
    assert [(g["label"], g["figures"]["hoursGiven"]) for g in by_month] == [
        ("2026-10", 2.5),
        ("2026-11", 8.0),
    ]


def test_tracked_links_count_one_click_and_expire(
    hub: Hub, store: Store, clock: ManualClock
) -> None:
    company, _, mission_id = _setup(hub, store)
    link = hub.interest(company, mission_id)["trackedLink"]
    path = link.removeprefix(hub.settings.issuer)
    for _ in range(3):
        response = hub.http.get(path, follow_redirects=False)
        assert response.status_code == 302
    (engagement,) = _engagements(hub, company)
    assert engagement["clickedAt"] == clock.now().isoformat()
    unknown = hub.http.get("/go/" + "x" * 43, follow_redirects=False)
    assert unknown.status_code == 404
    assert "unknown" in unknown.text and unknown.headers["content-type"].startswith("text/html")
    assert hub.http.get("/go/short", follow_redirects=False).status_code == 404
    clock.advance(days=31)
    expired = hub.http.get(path, follow_redirects=False)
    assert expired.status_code == 410 and "expired" in expired.text


def test_contact_details_reach_the_partner_only_and_every_read_is_audited(
    hub: Hub, store: Store
) -> None:
    company, partner, mission_id = _setup(hub, store)
    contact = {"consent": True, "name": "Camille", "email": "camille@acme.fr"}
    eid = hub.interest(company, mission_id, contact=contact)["engagement"]["id"]
    seen = hub.data(partner, PARTNER_VIEW, id=eid)["engagement"]
    assert seen["contact"] == {"name": "Camille", "email": "camille@acme.fr", "phone": None}
    assert seen["employeeRef"] is None
    mine = hub.data(company, PARTNER_VIEW, id=eid)["engagement"]
    assert mine["contact"] is None and mine["employeeRef"] == "emp-1"
    (audit,) = hub.audit("engagement.contact_read")
    detail = audit["detail"]
    assert (json.loads(detail) if isinstance(detail, str) else detail)["engagement"] == eid
    assert audit["client_id"].startswith("partner-")  # the partner's client, who read it
    # The same question again: answered afresh, never from the response cache, and audited.
    assert hub.data(partner, PARTNER_VIEW, id=eid)["engagement"] == seen
    assert len(hub.audit("engagement.contact_read")) == 2


def test_erasure_removes_the_person_and_keeps_the_counts(hub: Hub, store: Store) -> None:
    company, partner, mission_id = _setup(hub, store)
    contact = {"consent": True, "email": "camille@acme.fr"}
    eid = hub.interest(company, mission_id, "emp-1", contact=contact, site="Lyon")["engagement"][
        "id"
    ]
    done = {"engagementId": eid, "status": "COMPLETED", "hoursGiven": 6, "note": "Camille: top"}
    hub.update(partner, done)
    report = '{ engagementReport(from: "2026-11-01", to: "2026-11-30", groupBy: [SITE]) { totals { engagements hoursGiven distinctEmployees } } }'  # noqa: E501
    before = hub.data(company, report)
    erase = 'mutation { eraseEmployee(employeeRef: "emp-1") { engagements } }'
    assert hub.data(company, erase)["eraseEmployee"] == {"engagements": 1}
    assert hub.data(company, report) == before  # counts and hours stay
    (engagement,) = _engagements(hub, company)
    assert engagement["employeeRef"].startswith("erased-")
    assert engagement["message"] is None and engagement["hasContact"] is False
    assert [h["note"] for h in engagement["history"]] == [None, None, "erased"]
    assert hub.data(partner, PARTNER_VIEW, id=eid)["engagement"]["contact"] is None
    assert _engagements(hub, company, employeeRef="emp-1") == []
    events = hub.data(partner, "{ partnerEngagementEvents { nodes { type engagement { id } } } }")[
        "partnerEngagementEvents"
    ]["nodes"]
    assert events[-1] == {"type": "ENGAGEMENT_ERASED", "engagement": {"id": eid}}
    assert hub.data(company, erase)["eraseEmployee"] == {"engagements": 0}


def test_contact_details_go_after_the_retention_period(
    hub: Hub, store: Store, clock: ManualClock
) -> None:
    store.ingest("alpha", [mission("M1")])
    acme = hub.clients.create("company", "ACME")
    alpha = hub.clients.create("partner", "Alpha", partner="alpha")
    company = hub.clients.token(acme)
    mission_id = hub.mission_id(company, "M1")
    contact = {"consent": True, "phone": "+33 6 00 00 00 00"}
    eid = hub.interest(company, mission_id, contact=contact)["engagement"]["id"]
    writer = hub.http.app.state.services.engagement_writer  # type: ignore[attr-defined]
    clock.advance(days=364)
    assert hub.http.portal.call(writer.erase_expired_contacts) == 0  # type: ignore[union-attr]
    partner = hub.clients.token(alpha)
    assert hub.data(partner, PARTNER_VIEW, id=eid)["engagement"]["contact"] is not None
    clock.advance(days=2)
    partner, company = hub.clients.token(alpha), hub.clients.token(acme)
    # Hidden at once past the retention, erased by the next sweep.
    assert hub.data(partner, PARTNER_VIEW, id=eid)["engagement"]["contact"] is None
    assert hub.http.portal.call(writer.erase_expired_contacts) == 1  # type: ignore[union-attr]
    assert _engagements(hub, company)[0]["hasContact"] is False
    assert _engagements(hub, company)[0]["employeeRef"] == "emp-1"  # only the contact went


def test_contact_keys_rotate_with_a_reseal(
    hub: Hub, store: Store, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    company, partner, mission_id = _setup(hub, store)
    contact = {"consent": True, "email": "camille@acme.fr"}
    eid = hub.interest(company, mission_id, contact=contact)["engagement"]["id"]
    old, new = hub.settings.contact_keys[0], Fernet.generate_key().decode()
    monkeypatch.setenv("HUB_DATABASE_URL", hub.settings.database_url)
    monkeypatch.setenv("HUB_CONTACT_KEYS", json.dumps([new, old]))
    assert main(["engagements", "reseal-contacts"]) == 0
    only_new = hub.settings.model_copy(update={"contact_keys": [new]})
    with TestClient(create_app(only_new, clock)) as http:
        response = http.post(
            "/graphql",
            json={"query": PARTNER_VIEW, "variables": {"id": eid}},
            headers={"Authorization": f"Bearer {partner}"},
        )
    assert response.json()["data"]["engagement"]["contact"]["email"] == "camille@acme.fr"
    # The old key alone no longer opens it: shown as nothing, never as an error.
    assert hub.data(partner, PARTNER_VIEW, id=eid)["engagement"]["contact"] is None


def test_the_migration_gives_existing_companies_the_engagement_scopes(tmp_path: Path) -> None:
    async def go() -> list[Any]:
        url = f"sqlite+aiosqlite:///{tmp_path}/old.db"
        engine = make_engine(load_settings(database_url=url))
        try:
            await upgrade(engine, "0008")
            async with engine.begin() as conn:
                for name, kind, scopes in (
                    ("acme", "company", '["missions:read"]'),
                    ("alpha", "partner", '["missions:write"]'),
                ):
                    await conn.execute(
                        text(
                            "INSERT INTO clients (id, name, kind, scopes, policy,"
                            " trusted_documents_only, enabled, created_at) VALUES"
                            " (:n, :n, :k, :s, '{}', 0, 1, '2026-01-01 00:00:00')"
                        ),
                        {"n": name, "k": kind, "s": scopes},
                    )
            await upgrade(engine)
            async with engine.connect() as conn:
                rows = await conn.execute(text("SELECT id, scopes FROM clients ORDER BY id"))
                return [(r.id, json.loads(r.scopes)) for r in rows]
        finally:
            await engine.dispose()

    assert run(go()) == [
        ("acme", ["missions:read", "engagements:read", "engagements:write"]),
        ("alpha", ["missions:write"]),
    ]
