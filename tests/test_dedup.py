"""Cross-partner deduplication: a labelled set of realistic variants, precision and recall.

Each case is a listing published on partner "pa" and one on partner "pb", labelled as the same
mission or not. Every case has its own organization name, so cases cannot match each other.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from hub.catalogue.dedup import organization_identity, paris_day, same_organization, title_key
from hub.catalogue.filters import MissionFilter
from hub.catalogue.model import Location, MissionDraft, OrganizationDraft, Remote
from hub.live.matching import Matcher
from hub.settings import Settings
from hub.storage.db import make_engine
from hub.storage.tables import mission_events, missions, partners
from tests.conftest import GraphQL, Store

LYON_3 = Location(street="12 rue Servient", postal_code="69003", city="Lyon")
LYON = Location(city="Lyon")
MARSEILLE = Location(postal_code="13001", city="Marseille")
PARIS_11 = Location(postal_code="75011", city="Paris")
VILLEURBANNE = Location(postal_code="69100", city="Villeurbanne")


def day(d: int, month: int = 12) -> datetime:
    return datetime(2026, month, d, tzinfo=UTC)


@dataclass(frozen=True)
class Case:
    name: str
    a: dict[str, Any]
    b: dict[str, Any]
    same: bool
    org_b: str | None = None  # another spelling of the organization on pb


BASE: dict[str, Any] = {"locations": [LYON_3], "start_at": day(1), "remote": Remote.NONE}

CASES = [
    # --- the same mission, written differently ------------------------------------------------
    Case(
        "accents",
        {"title": "Soutien scolaire aux élèves"},
        {"title": "Soutien scolaire aux eleves"},
        True,
    ),
    Case("case", {"title": "ATELIER CV ET ENTRETIEN"}, {"title": "Atelier CV et entretien"}, True),
    Case("suffix h/f", {"title": "Aide aux devoirs - H/F"}, {"title": "Aide aux devoirs"}, True),
    Case(
        "suffix benevole",
        {"title": "Distribution alimentaire (bénévole)"},
        {"title": "Distribution alimentaire"},
        True,
    ),
    Case(
        "prefix mission",
        {"title": "Mission bénévole : Collecte de jouets"},
        {"title": "Collecte de jouets"},
        True,
    ),
    Case("plural", {"title": "Collecte de vêtements"}, {"title": "Collectes de vêtements"}, True),
    Case(
        "stop words",
        {"title": "Accompagnement numérique des seniors"},
        {"title": "Accompagnement au numérique pour les seniors"},
        True,
    ),
    Case(
        "street vs city only",
        {"title": "Tri de dons", "locations": [LYON_3]},
        {"title": "Tri de dons", "locations": [LYON]},
        True,
    ),
    Case(
        "a day apart",
        {"title": "Maraude solidaire", "start_at": day(1)},
        {"title": "Maraude solidaire", "start_at": day(2)},
        True,
    ),
    Case(
        "both undated",
        {"title": "Écrivain public", "start_at": None},
        {"title": "Ecrivain public", "start_at": None},
        True,
    ),
    Case(
        "fully remote",
        {"title": "Traduction de documents", "remote": Remote.FULL, "locations": []},
        {"title": "Traduction de documents", "remote": Remote.FULL, "locations": []},
        True,
    ),
    Case(
        "org name variant",
        {"title": "Repas solidaires"},
        {"title": "Repas solidaires"},
        True,
        org_b="Les {org}",
    ),
    Case(
        "org without identifier",
        {"title": "Permanence juridique"},
        {"title": "Permanence juridique"},
        True,
        org_b="ASSOCIATION {org}",
    ),
    Case(
        "platform decoration",
        {"title": "[Urgent] Appel à bénévoles : Tri des dons (H/F)"},
        {"title": "Bénévolat - Tri des dons - Lyon"},
        True,
    ),
    Case(
        "abbreviations",
        {"title": "Accomp. des pers. âgées"},
        {"title": "Accompagnement des personnes âgées"},
        True,
    ),
    Case(
        "Paris calendar day",
        {"title": "Collecte de sang", "start_at": datetime(2026, 11, 30, 23, tzinfo=UTC)},
        {"title": "Collecte de sang", "start_at": datetime(2026, 12, 1, 8, tzinfo=UTC)},
        True,
    ),
    Case(
        "remote with the association's address",
        {"title": "Traduction", "remote": Remote.FULL, "locations": []},
        {"title": "Traduction", "remote": Remote.FULL, "locations": [PARIS_11]},
        True,
    ),
    Case(
        "local branch",
        {"title": "Maraude"},
        {"title": "Maraude"},
        True,
        org_b="{org} - Antenne de Lyon",
    ),
    Case(
        "punctuation",
        {"title": "Refonte du site web — association"},
        {"title": "Refonte du site-web association"},
        True,
    ),
    Case(
        "english suffix",
        {"title": "Mentorat de jeunes | Volunteer"},
        {"title": "Mentorat de jeunes"},
        True,
    ),
    # --- distinct missions of one organization ---------------------------------------------------
    Case(
        "another city",
        {"title": "Soutien scolaire", "locations": [LYON_3]},
        {"title": "Soutien scolaire", "locations": [MARSEILLE]},
        False,
    ),
    Case(
        "another city 2",
        {"title": "Aide aux devoirs", "locations": [PARIS_11]},
        {"title": "Aide aux devoirs", "locations": [LYON_3]},
        False,
    ),
    Case(  # a neighbouring commune is another place (postal codes differ)
        "near commune",
        {"title": "Animation d'ateliers", "locations": [LYON_3]},
        {"title": "Animation d'ateliers", "locations": [VILLEURBANNE]},
        False,
    ),
    Case(
        "another arrondissement",
        {"title": "Aide aux devoirs", "locations": [PARIS_11]},
        {"title": "Aide aux devoirs", "locations": [Location(postal_code="75019", city="Paris")]},
        False,
    ),
    Case(
        "school level", {"title": "Soutien scolaire CM1"}, {"title": "Soutien scolaire 3e"}, False
    ),
    Case("collège vs lycée", {"title": "Tutorat collège"}, {"title": "Tutorat lycée"}, False),
    Case(
        "other dates",
        {"title": "Chantier nature", "start_at": day(1)},
        {"title": "Chantier nature", "start_at": day(1, 11)},
        False,
    ),
    Case(
        "next week session",
        {"title": "Formation premiers secours", "start_at": day(1)},
        {"title": "Formation premiers secours", "start_at": day(8)},
        False,
    ),
    Case("morning vs evening", {"title": "Maraude du matin"}, {"title": "Maraude du soir"}, False),
    Case(
        "other activity",
        {"title": "Distribution alimentaire"},
        {"title": "Collecte alimentaire"},
        False,
    ),
    Case(
        "other audience",
        {"title": "Accueil des familles"},
        {"title": "Accueil des réfugiés"},
        False,
    ),
    Case(
        "remote vs on site",
        {"title": "Gestion des réseaux sociaux", "remote": Remote.FULL, "locations": []},
        {"title": "Gestion des réseaux sociaux"},
        False,
    ),
    Case(
        "dated vs undated",
        {"title": "Collecte de sang", "start_at": day(1)},
        {"title": "Collecte de sang", "start_at": None},
        False,
    ),
    Case(
        "numbered edition",
        {"title": "Festival édition 2026"},
        {"title": "Festival édition 2027"},
        False,
    ),
    Case(
        "other organization",
        {"title": "Banque alimentaire"},
        {"title": "Banque alimentaire"},
        False,
        org_b="Autre {org}",
    ),
    Case("weekday", {"title": "Permanence du lundi"}, {"title": "Permanence du jeudi"}, False),
]


def _draft(case: Case, side: str, index: int) -> MissionDraft:
    fields = {**BASE, **(case.a if side == "a" else case.b)}
    org = f"Organisation {index:02d}"
    if side == "b" and case.org_b:
        org = case.org_b.format(org=org)
    rna = f"W{index:09d}" if side == "a" and not case.org_b else None
    return MissionDraft(
        external_id=f"{side}{index}",
        application_url=f"https://{side}.example/{index}",
        organization=OrganizationDraft(name=org, rna=rna),
        **fields,
    )


def _canonical(settings: Settings) -> dict[str, tuple[int, int | None]]:
    async def go() -> dict[str, tuple[int, int | None]]:
        engine = make_engine(settings)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    select(missions.c.external_id, missions.c.pk, missions.c.canonical_pk).join(
                        partners, partners.c.pk == missions.c.partner_pk
                    )
                )
                return {ext: (pk, canonical) for ext, pk, canonical in rows}
        finally:
            await engine.dispose()

    return asyncio.run(go())


def test_precision_and_recall_on_the_labelled_set(store: Store, settings: Settings) -> None:
    store.ingest("pa", [_draft(case, "a", i) for i, case in enumerate(CASES)])
    store.ingest("pb", [_draft(case, "b", i) for i, case in enumerate(CASES)])
    found = _canonical(settings)
    true_pos = false_pos = false_neg = 0
    wrong = []
    for i, case in enumerate(CASES):
        a_pk, _ = found[f"a{i}"]
        _, b_canonical = found[f"b{i}"]
        predicted = b_canonical == a_pk
        if predicted and case.same:
            true_pos += 1
        elif predicted:
            false_pos += 1
            wrong.append(f"merged: {case.name}")
        elif case.same:
            false_neg += 1
            wrong.append(f"missed: {case.name}")
    precision = true_pos / (true_pos + false_pos)
    recall = true_pos / (true_pos + false_neg)
    print(f"dedup over {len(CASES)} labelled pairs: precision {precision:.2f}, recall {recall:.2f}")
    assert sum(c.same for c in CASES) >= 15 and sum(not c.same for c in CASES) >= 14
    assert precision == 1.0, wrong
    assert recall >= 0.9, wrong


def test_one_result_with_also_published_on(store: Store, data: GraphQL) -> None:
    case = CASES[0]
    store.ingest("pa", [_draft(case, "a", 0)])
    store.ingest("pb", [_draft(case, "b", 0)])
    query = """{ missions { totalCount edges { node { externalId partner { name }
                 alsoPublishedOn { name } } } } }"""
    result = data(query)["missions"]
    assert result["totalCount"] == 1
    [edge] = result["edges"]
    assert edge["node"]["partner"]["name"] == "pa"
    assert edge["node"]["alsoPublishedOn"] == [{"name": "pb"}]
    # Asking for pb's listings shows pb's own, pointing back at pa.
    by_partner = data(
        '{ missions(filter: {partners: ["pb"]}) { edges { node { externalId '
        "alsoPublishedOn { name } } } } }"
    )["missions"]["edges"]
    assert by_partner == [{"node": {"externalId": "b0", "alsoPublishedOn": [{"name": "pa"}]}}]


def test_closing_the_shown_listing_brings_up_the_other(store: Store, data: GraphQL) -> None:
    case = CASES[0]
    store.ingest("pa", [_draft(case, "a", 0)])
    store.ingest("pb", [_draft(case, "b", 0)])
    store.close("pa", ["a0"])
    [edge] = data("{ missions { edges { node { externalId alsoPublishedOn { name } } } } }")[
        "missions"
    ]["edges"]
    assert edge["node"] == {"externalId": "b0", "alsoPublishedOn": []}


def test_same_partner_twice_is_never_a_duplicate(store: Store, settings: Settings) -> None:
    first = _draft(CASES[0], "a", 0)
    store.ingest("pa", [first, replace(first, external_id="a0-bis")])
    assert all(canonical is None for _, canonical in _canonical(settings).values())


ORGANIZATIONS = [
    # (a, b, same): names alone, then identifiers over names
    (("Médecins du Monde",), ("MdM",), True),
    (("Les Restaurants du Cœur - Antenne de Lyon",), ("Restos du Coeur",), True),
    (("Ligue pour la Protection des Oiseaux (Délégation de Rochefort)",), ("LPO",), True),
    (("Secours populaire français – section Lyon",), ("Secours Populaire",), True),
    (("Samusocial de Paris",), ("Samu social de Paris",), True),
    (("Surfrider Foundation Europe",), ("Surfrider",), True),
    (("Action contre la Faim",), ("Action Contre La Faim France",), True),
    (("Organisation 01",), ("Organisation 02",), False),
    (("Organisation 01",), ("Autre Organisation 01",), False),
    (("Banque Alimentaire du Rhône",), ("Banque Alimentaire de la Gironde",), False),
    (("Médecins du Monde",), ("Médecins Sans Frontières",), False),
    # Acronyms skip small words unevenly: first and last initials kept, some in between skipped.
    (("Solidarités Nouvelles face au Chômage",), ("SNC",), True),
    (("Nos Quartiers ont du Talent",), ("NQT",), True),
    (("Nos Quartiers ont du Talent",), ("NQA",), False),  # the last initial must agree
    (("Nos Quartiers ont du Talent",), ("QT",), False),  # and the first
    (("Secours Catholique",), ("SC",), True),
    (("Solidarités Nouvelles face au Chômage",), ("SF",), False),  # two letters: exact only
    (("Croix-Rouge française", "W751234567"), ("CRF", "w751234567"), True),
    (("Les Restos du Cœur", "W751234567"), ("Les Restos du Cœur", "W691234567"), False),
    (("Entraide Lyon", None, "123456789"), ("Amis de Lyon", None, None, "12345678900012"), True),
]


def test_organizations_agree_by_identifiers_then_names() -> None:
    for a, b, same in ORGANIZATIONS:
        assert same_organization(organization_identity(*a), organization_identity(*b)) is same, (
            a,
            b,
        )


def test_title_keys_ignore_what_platforms_add() -> None:
    base = title_key("Accompagnement des personnes âgées")
    for variant in [
        "[Urgent] Accomp. des pers. âgées (H/F)",
        "Appel à bénévoles : Accompagnement des personnes agees - Lyon",
        "Mission : ACCOMPAGNEMENT DES PERSONNES ÂGÉES - Petits Frères",
        "URGENT - Accompagnement des personnes âgées - 100% à distance",
    ]:
        assert title_key(variant, "Les Petits Frères des Pauvres", ("Lyon",)) == base, variant
    assert title_key("Tri - Lyon") != title_key("Tri - Lyon", places=("Lyon",))


def test_start_days_are_paris_calendar_days() -> None:
    assert paris_day(datetime(2027, 1, 4, 23, tzinfo=UTC)) == paris_day(
        datetime(2027, 1, 5, tzinfo=UTC)
    )
    assert paris_day(datetime(2027, 7, 4, 21, 30, tzinfo=UTC)).isoformat() == "2027-07-04"
    assert paris_day(datetime(2027, 7, 4, 22, 30, tzinfo=UTC)).isoformat() == "2027-07-05"


def test_listings_name_every_partners_listing(store: Store, data: GraphQL) -> None:
    case = CASES[0]
    store.ingest("pa", [_draft(case, "a", 0)])
    store.ingest("pb", [_draft(case, "b", 0)])
    query = """{ missions { nodes { externalId listings { partner { name } externalId
                 applicationUrl } } } }"""
    [node] = data(query)["missions"]["nodes"]
    assert node == {
        "externalId": "a0",
        "listings": [
            {
                "partner": {"name": "pa"},
                "externalId": "a0",
                "applicationUrl": "https://a.example/0",
            },
            {
                "partner": {"name": "pb"},
                "externalId": "b0",
                "applicationUrl": "https://b.example/0",
            },
        ],
    }
    store.close("pb", ["b0"])
    [node] = data(query)["missions"]["nodes"]
    assert [listing["externalId"] for listing in node["listings"]] == ["a0"]


def test_a_merged_mission_is_found_by_any_listings_causes_and_skills(
    store: Store, data: GraphQL, label_reading: str
) -> None:
    case = CASES[0]
    store.ingest("pa", [replace(_draft(case, "a", 0), causes=["Solidarité"], skills=[])])
    store.ingest("pb", [replace(_draft(case, "b", 0), causes=["Éducation"], skills=["Comptable"])])
    query = """query($f: MissionFilterInput) { missions(filter: $f) { totalCount
               nodes { externalId causes { value } skills { slug } } } }"""
    for criterion in ({"causes": ["EDUCATION"]}, {"skills": ["comptabilite"]}):
        found = data(query, {"f": criterion})["missions"]
        # The shown listing, once, with the union its golden record shows.
        assert found["totalCount"] == 1, criterion
        [node] = found["nodes"]
        assert node["externalId"] == "a0"
        assert {c["value"] for c in node["causes"]} >= {"EDUCATION", "SOLIDARITE_INSERTION"}
        assert [s["slug"] for s in node["skills"]] == ["comptabilite"]
    # A closed listing no longer lends its labels.
    store.close("pb", ["b0"])
    assert data(query, {"f": {"causes": ["EDUCATION"]}})["missions"]["totalCount"] == 0
    # Naming partners searches each partner's own listing by its own labels.
    by_partner = data(query, {"f": {"causes": ["SOLIDARITE_INSERTION"], "partners": ["pa"]}})
    assert by_partner["missions"]["totalCount"] == 1


def test_only_a_listings_own_members_lend_it_their_labels(
    store: Store, data: GraphQL, label_reading: str
) -> None:
    """A listing merged into one mission never makes another mission match its labels."""
    merged, alone = CASES[0], CASES[1]
    store.ingest("pa", [replace(_draft(merged, "a", 0), skills=[])])
    store.ingest("pb", [replace(_draft(merged, "b", 0), skills=["Comptable"])])
    store.ingest("pa", [replace(_draft(alone, "a", 1), skills=[])])
    query = """query($f: MissionFilterInput) { missions(filter: $f) { nodes { externalId } } }"""
    found = data(query, {"f": {"skills": ["comptabilite"]}})["missions"]["nodes"]
    assert [node["externalId"] for node in found] == ["a0"]


def test_facets_count_a_merged_mission_under_every_listings_labels(
    store: Store, data: GraphQL, label_reading: str
) -> None:
    case = CASES[0]
    store.ingest("pa", [replace(_draft(case, "a", 0), causes=["Solidarité"], skills=[])])
    store.ingest("pb", [replace(_draft(case, "b", 0), causes=["Éducation"], skills=["Comptable"])])
    query = (
        """{ missions { totalCount facets { causes { value count } skills { value count } } } }"""
    )
    found = data(query)["missions"]
    assert found["totalCount"] == 1
    causes = {f["value"]: f["count"] for f in found["facets"]["causes"]}
    assert causes == {"education": 1, "solidarite-insertion": 1}
    assert found["facets"]["skills"] == [{"value": "comptabilite", "count": 1}]


def _events_of(settings: Settings, external_id: str) -> list[tuple[str, Any, Any]]:
    """(type, previous state, state) of every event of one listing, oldest first."""

    async def go() -> list[tuple[str, Any, Any]]:
        engine = make_engine(settings)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    select(mission_events.c.type, mission_events.c.previous, mission_events.c.state)
                    .join(missions, missions.c.pk == mission_events.c.mission_pk)
                    .where(missions.c.external_id == external_id)
                    .order_by(mission_events.c.seq)
                )
                return [tuple(row) for row in rows]
        finally:
            await engine.dispose()

    return asyncio.run(go())


def test_subscribers_judge_a_merged_mission_by_every_listings_labels(
    store: Store, settings: Settings
) -> None:
    # Subscriptions and webhooks judge the event log's states as searches judge the rows: a
    # merged mission enters a cause's feed when a listing with that cause joins it, and leaves
    # it when that listing closes.
    education = Matcher(MissionFilter(causes=("education",)))
    case = CASES[0]
    store.ingest("pa", [replace(_draft(case, "a", 0), causes=["Solidarité"], skills=[])])
    store.ingest("pb", [replace(_draft(case, "b", 0), causes=["Éducation"], skills=["Comptable"])])
    store.close("pb", ["b0"])
    seen = [
        (kind, education.matches(before), education.matches(after))
        for kind, before, after in _events_of(settings, "a0")
    ]
    assert seen == [
        ("PUBLISHED", False, False),  # alone: solidarity only
        ("UPDATED", False, True),  # b0 joins with education: entering
        ("UPDATED", True, False),  # b0 closes: leaving
    ]


def test_a_listing_promoted_in_place_of_a_closed_one_is_announced(
    store: Store, settings: Settings
) -> None:
    case = CASES[0]
    store.ingest("pa", [replace(_draft(case, "a", 0), causes=["Solidarité"])])
    store.ingest("pb", [replace(_draft(case, "b", 0), causes=["Éducation"])])
    store.close("pa", ["a0"])
    kinds = [kind for kind, _, _ in _events_of(settings, "b0")]
    # b0 was hidden behind a0; once a0 closes it is the one shown, and its subscribers hear it.
    assert kinds == ["PUBLISHED", "UPDATED"]
    assert _canonical(settings)["b0"][1] is None


def test_a_listing_expired_on_arrival_leaves_its_duplicate_shown_without_its_labels(
    store: Store, data: GraphQL, settings: Settings
) -> None:
    """A partner's copy of a mission that arrives already past its end is EXPIRED at once: it
    must not hide the open listing it duplicates (had it ranked first, it would head the
    cluster) nor lend it its causes or skills."""
    case = CASES[0]
    started = {"start_at": datetime(2026, 11, 1, tzinfo=UTC)}
    store.ingest(
        "pa",
        [
            replace(
                _draft(case, "a", 0),
                **started,
                end_at=datetime(2027, 6, 1, tzinfo=UTC),
                posted_at=datetime(2026, 10, 20, tzinfo=UTC),
                skills=[],
            )
        ],
    )
    # Posted earlier than pa's: it would rank first and head the merged mission.
    report = store.ingest(
        "pb",
        [
            replace(
                _draft(case, "b", 0),
                **started,
                end_at=datetime(2026, 11, 10, tzinfo=UTC),
                posted_at=datetime(2026, 10, 1, tzinfo=UTC),
                skills=["Comptable"],
            )
        ],
    )
    assert report.expired == 1
    query = """query($f: MissionFilterInput) {
      missions(filter: $f) {
        totalCount nodes { externalId skills { slug } alsoPublishedOn { name } }
      }
    }"""
    shown = data(query)["missions"]
    assert shown["totalCount"] == 1
    assert shown["nodes"] == [{"externalId": "a0", "skills": [], "alsoPublishedOn": []}]
    assert data(query, {"f": {"skills": ["comptabilite"]}})["missions"]["totalCount"] == 0
    canonical = _canonical(settings)
    assert canonical["a0"][1] is None  # a0 is shown for itself


def test_an_ended_copy_is_written_expired_and_lends_no_labels(
    store: Store, data: GraphQL, settings: Settings
) -> None:
    """A copy already past its end when it is first written (a new listing written EXPIRED at
    once when it merges with nothing) is opened, linked, then expired like any other: the
    listing it copies stays shown with its own labels, and no subscriber hears of the copy."""
    case, started = CASES[0], day(1, month=11)
    listing = replace(_draft(case, "a", 0), causes=["Solidarité"], skills=[], start_at=started)
    store.ingest("pa", [listing])
    ended = replace(
        _draft(case, "b", 0),
        causes=["Éducation"],
        skills=["Comptable"],
        start_at=started,
        end_at=day(10, month=11),  # before the store's clock
    )
    report = store.ingest("pb", [ended])
    assert report.counts()["expired"] == 1
    query = """query($f: MissionFilterInput) { missions(filter: $f) { totalCount
               nodes { externalId causes { value } } } }"""
    assert data(query, {"f": {"causes": ["EDUCATION"]}})["missions"]["totalCount"] == 0
    [node] = data(query, {"f": {"causes": ["SOLIDARITE_INSERTION"]}})["missions"]["nodes"]
    assert node["externalId"] == "a0"
    assert {c["value"] for c in node["causes"]} == {"SOLIDARITE_INSERTION"}

    async def states() -> dict[str, Any]:
        engine = make_engine(settings)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    select(missions.c.external_id, missions.c.status, mission_events.c.state)
                    .join(mission_events, mission_events.c.mission_pk == missions.c.pk)
                    .where(mission_events.c.type == "PUBLISHED")
                )
                return {ext: (status, state["status"]) for ext, status, state in rows}
        finally:
            await engine.dispose()

    canonical = _canonical(settings)
    assert canonical["b0"][1] == canonical["a0"][0]  # it was linked as it was written
    # Its creation event carries the EXPIRED state it was written with.
    assert asyncio.run(states()) == {"a0": ("OPEN", "OPEN"), "b0": ("EXPIRED", "EXPIRED")}
