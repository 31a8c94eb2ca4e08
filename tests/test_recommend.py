"""recommendedMissions through the real app: reasons, hard constraints, paging, policy, bad input.

A small catalogue around Paris where every result can be worked out by hand; the employee is
an accountant ("comptabilite") living in Paris unless a test says otherwise.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from hub.catalogue.filters import Policy
from hub.catalogue.model import EngagementType, Location, MissionDraft, Remote
from hub.catalogue.skill_relations import Closeness, closeness, related_skills
from hub.clock import ManualClock
from hub.settings import Settings
from hub.web.app import create_app
from tests.conftest import ROOT, Clients, GraphQL, Store

RECOMMEND = """
query Recommend($profile: EmployeeProfileInput!, $first: Int, $after: String) {
  recommendedMissions(profile: $profile, first: $first, after: $after) {
    edges {
      cursor
      node {
        mission { externalId distanceKm }
        match { score reasons { kind detail weight } }
      }
    }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""

PARIS = {"latitude": 48.8566, "longitude": 2.3522, "radiusKm": 30}
ACCOUNTANT: dict[str, Any] = {
    "skills": ["comptabilite"],
    "causes": ["SOLIDARITE_INSERTION"],
    "near": PARIS,
    "hoursPerWeek": 4,
}


def d(y: int, m: int, day: int) -> datetime:
    return datetime(y, m, day, tzinfo=UTC)


def _m(external_id: str, skills: list[str], causes: list[str], **kw: Any) -> MissionDraft:
    kw.setdefault("remote", Remote.NONE)
    if kw["remote"] is not Remote.FULL:
        kw.setdefault("locations", [Location(postal_code="75011", city="Paris")])
    kw.setdefault("title", f"Mission {external_id}")
    return MissionDraft(
        external_id=external_id,
        application_url=f"https://partner.example/{external_id}",
        skills=skills,
        causes=causes,
        **kw,
    )


LYON = [Location(postal_code="69001", city="Lyon")]
CIVIC_SERVICE = EngagementType.CIVIC_SERVICE
MISSIONS = [
    # Everything fits: own skill, cause, 2 km, 2-4 h, starts in ten days.
    _m("R1", ["comptabilité"], ["solidarite-insertion"], hours_per_week_min=2,
       hours_per_week_max=4, start_at=d(2026, 11, 25), end_at=d(2027, 6, 1)),
    # An explicitly related skill (finance), fully remote, asks too many hours.
    _m("R2", ["finance"], ["education"], remote=Remote.FULL, hours_per_week_min=6),
    # A skill of the same family only (achats), the cause, fully remote.
    _m("R3", ["achats"], ["solidarite-insertion"], remote=Remote.FULL),
    # The cause only, on site in Paris.
    _m("R4", ["cuisine"], ["solidarite-insertion"]),
    # Own skill but on site in Lyon: out of the radius.
    _m("R5", ["comptabilité"], ["solidarite-insertion"], locations=LYON),
    # Own skill, ends on 1 December.
    _m("R6", ["comptabilité"], [], end_at=d(2026, 12, 1)),
    # Own skill, starts in September 2027.
    _m("R7", ["comptabilité"], [], start_at=d(2027, 9, 1)),
    # Own skill, closed below.
    _m("R8", ["comptabilité"], ["solidarite-insertion"]),
    # Nothing the accountant has or cares about.
    _m("R9", ["jardinage"], ["environnement"]),
    # Own skill, in Lyon but part remote: reachable from home unless on site is wanted.
    _m("R10", ["comptabilité"], [], remote=Remote.POSSIBLE, locations=LYON),
    # Three skills of the accountant's family, fully remote: the best counts, the others less.
    _m("R11", ["achats", "logistique", "qualité"], [], remote=Remote.FULL),
    # No skill the hub knows ("Accompagnement"), but the title names the accountant's trade.
    _m("R13", ["Accompagnement"], [], title="Tenue de comptabilité d'une association"),
    # Own skill, cause and place, but no place left.
    _m("R14", ["comptabilité"], ["solidarite-insertion"], places_total=2, places_remaining=0),
    # Own skill, but a civic service: for people aged 16 to 25, not for employees.
    _m("R12", ["comptabilité"], ["solidarite-insertion"], engagement_type=CIVIC_SERVICE),
]  # fmt: skip


@pytest.fixture
def catalogue(store: Store) -> Store:
    report = store.ingest("alpha", MISSIONS, now=d(2026, 11, 1))
    assert not report.refusals, report.refusals
    store.close("alpha", ["R8"])
    return store


def recommend(data: GraphQL, profile: dict[str, Any], **variables: Any) -> list[dict[str, Any]]:
    variables.setdefault("first", 50)
    found = data(RECOMMEND, {"profile": profile, **variables})["recommendedMissions"]
    return [edge["node"] for edge in found["edges"]]


def ids(results: list[dict[str, Any]]) -> list[str]:
    return [r["mission"]["externalId"] for r in results]


def reasons(result: dict[str, Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for reason in result["match"]["reasons"]:
        found.setdefault(reason["kind"], []).append(reason["detail"])
    return found


# --- reasons ---------------------------------------------------------------------------------


def test_every_reason_is_named_and_the_weights_add_up_to_the_score(
    catalogue: Store, data: GraphQL
) -> None:
    results = recommend(data, ACCOUNTANT)
    by_id = {r["mission"]["externalId"]: r for r in results}
    assert ids(results)[0] == "R1"
    assert set(by_id) == {"R1", "R2", "R3", "R4", "R6", "R7", "R10", "R11", "R13"}
    best = reasons(by_id["R1"])
    assert best["SKILL"] == ["Comptabilité"]
    assert best["CAUSE"] == ["Solidarité et insertion"]
    assert best["DISTANCE"][0].endswith("km away")
    assert best["TIME_FITS"] == ["asks 2-4 h a week; you offer 4 h"]
    assert best["STARTS_SOON"] == ["starts on 2026-11-25"]
    assert reasons(by_id["R2"]) == {
        "RELATED_SKILL": ["Finance, related to your skill Comptabilité"],
        "REMOTE": ["fully remote"],
    }
    assert reasons(by_id["R3"])["RELATED_SKILL"] == [
        "Achats, same family as your skill Comptabilité"
    ]
    assert set(reasons(by_id["R4"])) == {"CAUSE", "DISTANCE"}
    # Part remote from beyond the radius: it comes, but its remote part is not reach.
    assert set(reasons(by_id["R10"])) == {"SKILL"}
    for result in results:
        weights = [r["weight"] for r in result["match"]["reasons"]]
        assert sum(weights) == pytest.approx(result["match"]["score"])
        assert weights == sorted(weights, reverse=True)
    scores = [r["match"]["score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    # An exact skill outweighs an explicitly related one, which outweighs a family one.
    skill_weight = {
        kind: weight
        for r in results
        for kind, weight in ((x["kind"], x["weight"]) for x in r["match"]["reasons"])
        if kind in ("SKILL", "RELATED_SKILL")
    }
    assert skill_weight["SKILL"] > skill_weight["RELATED_SKILL"]
    related = [x["weight"] for x in by_id["R2"]["match"]["reasons"] if x["kind"] == "RELATED_SKILL"]
    family = [x["weight"] for x in by_id["R3"]["match"]["reasons"] if x["kind"] == "RELATED_SKILL"]
    assert related[0] > family[0]


def test_a_long_list_of_loosely_close_skills_does_not_outrank_one_close_skill(
    catalogue: Store, data: GraphQL
) -> None:
    by_id = {ids([r])[0]: r for r in recommend(data, ACCOUNTANT)}
    many = by_id["R11"]["match"]["reasons"]
    skills = [r["weight"] for r in many if r["kind"] == "RELATED_SKILL"]
    assert len(skills) == 3
    assert skills[1] == skills[2] == pytest.approx(skills[0] * 0.25)
    assert by_id["R11"]["match"]["score"] < by_id["R2"]["match"]["score"]  # one related skill


def test_a_title_naming_the_skill_counts_whether_the_partner_listed_it_or_not(
    catalogue: Store, data: GraphQL
) -> None:
    title = "Comptabilité d'une ressourcerie"
    catalogue.ingest("beta", [_m("LISTED", ["comptabilité"], [], title=title)])
    by_id = {ids([r])[0]: r for r in recommend(data, ACCOUNTANT)}
    named = {"kind": "SKILL", "detail": "Comptabilité, named in the title", "weight": 3.0 * 0.6}
    assert [r for r in by_id["R13"]["match"]["reasons"] if r["kind"] == "SKILL"] == [named]
    listed = [r for r in by_id["LISTED"]["match"]["reasons"] if r["kind"] == "SKILL"]
    assert listed == [{"kind": "SKILL", "detail": "Comptabilité", "weight": 3.0}, named]
    assert by_id["LISTED"]["match"]["score"] > by_id["R6"]["match"]["score"]  # listed only
    assert "R13" not in ids(recommend(data, {**ACCOUNTANT, "skills": ["cuisine"]}))


def test_a_mission_in_a_language_the_employee_reads_scores_higher(
    catalogue: Store, data: GraphQL
) -> None:
    english = "We are looking for a volunteer to keep the accounts of the association."
    catalogue.ingest(
        "beta",
        [
            _m("EN", ["accounting"], [], remote=Remote.FULL, description=english),
            _m("FR", ["comptabilité"], [], remote=Remote.FULL, description="Tenue des comptes."),
        ],
    )

    def language(languages: list[str]) -> dict[str, list[str]]:
        profile = {"skills": ["comptabilite"], "remote": "REMOTE_ONLY", "languages": languages}
        found = recommend(data, profile)
        return {
            ids([r])[0]: reasons(r).get("LANGUAGE", [])
            for r in found
            if ids([r])[0] in {"EN", "FR"}
        }

    assert language(["en"]) == {"EN": ["written in English"], "FR": []}
    assert language(["FR"]) == {"EN": [], "FR": ["written in French"]}
    assert language([]) == {"EN": [], "FR": []}


def test_distance_falls_with_the_km(catalogue: Store, data: GraphQL) -> None:
    near = recommend(data, {"causes": ["SOLIDARITE_INSERTION"], "near": PARIS})
    far = recommend(
        data,
        {"causes": ["SOLIDARITE_INSERTION"], "near": {**PARIS, "latitude": 48.99}},
    )
    distance = {ids([r])[0]: r["mission"]["distanceKm"] for r in near}
    score_near = {ids([r])[0]: r["match"]["score"] for r in near}
    score_far = {ids([r])[0]: r["match"]["score"] for r in far}
    assert distance["R4"] < 5
    assert score_far["R4"] < score_near["R4"]


def test_a_profile_without_skills_or_causes_ranks_by_reach_and_time(
    catalogue: Store, data: GraphQL
) -> None:
    results = recommend(data, {"remote": "REMOTE_ONLY"})
    assert ids(results)[:3] == ["R11", "R3", "R2"]  # fully remote, the last received first
    assert set(ids(results)) == {"R2", "R3", "R10", "R11"}


# --- hard constraints ------------------------------------------------------------------------


def test_remote_only_leaves_out_on_site_missions(catalogue: Store, data: GraphQL) -> None:
    results = recommend(data, {**ACCOUNTANT, "remote": "REMOTE_ONLY"})
    assert set(ids(results)) == {"R2", "R3", "R10", "R11"}
    part_remote = next(r for r in results if ids([r]) == ["R10"])
    assert reasons(part_remote)["REMOTE"] == ["can partly be done remotely"]


def test_on_site_only_leaves_out_remote_missions_and_holds_part_remote_ones_to_the_radius(
    catalogue: Store, data: GraphQL
) -> None:
    results = recommend(data, {**ACCOUNTANT, "remote": "ON_SITE_ONLY"})
    assert set(ids(results)) == {"R1", "R4", "R6", "R7", "R13"}
    assert all("REMOTE" not in reasons(r) for r in results)


def test_availability_leaves_out_missions_outside_the_window(
    catalogue: Store, data: GraphQL
) -> None:
    window = {**ACCOUNTANT, "availableFrom": "2027-01-01", "availableUntil": "2027-06-30"}
    found = set(ids(recommend(data, window)))
    assert "R6" not in found  # ended before
    assert "R7" not in found  # starts after
    assert {"R1", "R2", "R10"} <= found


def test_closed_full_out_of_radius_and_civic_service_missions_never_come(
    catalogue: Store, data: GraphQL
) -> None:
    found = set(ids(recommend(data, ACCOUNTANT)))
    assert not found & {"R5", "R8", "R9", "R12", "R14"}
    assert "R5" in ids(recommend(data, {**ACCOUNTANT, "near": None}))


# --- paging ----------------------------------------------------------------------------------


def test_pages_follow_the_whole_ranking_without_gap_or_repeat(
    catalogue: Store, data: GraphQL
) -> None:
    whole = ids(recommend(data, ACCOUNTANT))
    paged: list[str] = []
    after = None
    while True:
        body = data(RECOMMEND, {"profile": ACCOUNTANT, "first": 2, "after": after})
        found = body["recommendedMissions"]
        paged += [e["node"]["mission"]["externalId"] for e in found["edges"]]
        assert found["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not found["pageInfo"]["hasNextPage"]:
            break
        after = found["pageInfo"]["endCursor"]
    assert paged == whole
    assert ids(recommend(data, ACCOUNTANT)) == whole  # deterministic


def test_a_new_mission_does_not_shift_the_next_page(catalogue: Store, data: GraphQL) -> None:
    first = data(RECOMMEND, {"profile": ACCOUNTANT, "first": 3})["recommendedMissions"]
    whole = ids(recommend(data, ACCOUNTANT))
    best = replace(MISSIONS[0], external_id="NEW", title="Mission NEW")
    catalogue.ingest("alpha", [best])
    assert ids(recommend(data, ACCOUNTANT, first=1)) == ["NEW"]  # it ranks first now
    rest = ids(recommend(data, ACCOUNTANT, after=first["pageInfo"]["endCursor"]))
    assert rest == whole[3:]


def test_a_cursor_belongs_to_its_profile(catalogue: Store, gql: GraphQL, data: GraphQL) -> None:
    first = data(RECOMMEND, {"profile": ACCOUNTANT, "first": 1})["recommendedMissions"]
    other = {**ACCOUNTANT, "hoursPerWeek": 10}
    body = gql(RECOMMEND, {"profile": other, "after": first["pageInfo"]["endCursor"]})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "another profile" in body["errors"][0]["message"]
    garbled = gql(RECOMMEND, {"profile": ACCOUNTANT, "after": "not-a-cursor"})
    assert garbled["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


# --- policy and bad input --------------------------------------------------------------------


def test_the_company_policy_applies(catalogue: Store, clients: Clients, client: TestClient) -> None:
    acme = clients.create("company", "Restricted")
    clients.store(lambda s: s.set_policy(acme.client_id, Policy(causes=("education",))))
    response = client.post(
        "/graphql",
        json={"query": RECOMMEND, "variables": {"profile": ACCOUNTANT}},
        headers={"Authorization": f"Bearer {clients.token(acme)}"},
    )
    edges = response.json()["data"]["recommendedMissions"]["edges"]
    assert [e["node"]["mission"]["externalId"] for e in edges] == ["R2"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"skills": ["comptabilite", "astrologie"]}, "unknown skill 'astrologie'"),
        ({"hoursPerWeek": -1}, "hoursPerWeek"),
        ({"near": {**PARIS, "radiusKm": 0}}, "radiusKm"),
        ({"near": {**PARIS, "latitude": 91}}, "latitude"),
        ({"availableFrom": "2027-02-01", "availableUntil": "2027-01-01"}, "availableUntil"),
    ],
)
def test_bad_profiles_are_refused_with_the_field_to_fix(
    catalogue: Store, gql: GraphQL, change: dict[str, Any], message: str
) -> None:
    body = gql(RECOMMEND, {"profile": {**ACCOUNTANT, **change}})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert message in body["errors"][0]["message"]


def test_a_negative_first_is_refused(catalogue: Store, gql: GraphQL) -> None:
    body = gql(RECOMMEND, {"profile": ACCOUNTANT, "first": -1})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_anonymous_callers_are_refused(catalogue: Store, client: TestClient) -> None:
    response = client.post("/graphql", json={"query": RECOMMEND, "variables": {"profile": {}}})
    assert "recommendedMissions" not in (response.json().get("data") or {})
    assert response.json()["errors"]


# --- weights are settings --------------------------------------------------------------------


def test_weights_come_from_the_settings(
    catalogue: Store, settings: Settings, clock: ManualClock, company_token: str
) -> None:
    no_causes = settings.model_copy(update={"recommend_cause_weight": 0.0})
    with TestClient(create_app(no_causes, clock)) as http:
        response = http.post(
            "/graphql",
            json={"query": RECOMMEND, "variables": {"profile": ACCOUNTANT}},
            headers={"Authorization": f"Bearer {company_token}"},
        )
    results = [e["node"] for e in response.json()["data"]["recommendedMissions"]["edges"]]
    assert results
    assert all("CAUSE" not in reasons(r) for r in results)


# --- related skills --------------------------------------------------------------------------


def test_skill_relations_are_symmetric_and_explicit_ones_beat_the_family() -> None:
    assert "finance" in related_skills("comptabilite")
    assert "comptabilite" in related_skills("finance")
    assert closeness("comptabilite", "finance") is Closeness.RELATED
    assert closeness("comptabilite", "achats") is Closeness.FAMILY
    assert closeness("comptabilite", "cuisine") is None


def test_the_skills_query_shows_related_skills(data: GraphQL) -> None:
    skills = data("{ skills { slug family related { slug } } }")["skills"]
    accounting = next(s for s in skills if s["slug"] == "comptabilite")
    assert accounting["family"] == "Gestion et organisation"
    assert {"finance", "gestion-administrative"} <= {s["slug"] for s in accounting["related"]}


def test_the_example_operation_runs_within_the_hub_limits(catalogue: Store, data: GraphQL) -> None:
    example = ROOT / "schema" / "operations" / "employee-recommendations.graphql"
    found = data(example.read_text(encoding="utf-8"), {"profile": ACCOUNTANT, "first": 10})
    edges = found["recommendedMissions"]["edges"]
    assert edges[0]["node"]["mission"]["listings"][0]["partner"]["name"] == "alpha"
    assert edges[0]["node"]["match"]["reasons"]
