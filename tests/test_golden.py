"""The golden record: one table, one row a field rule, each with the listings and what to show.

Then once through the store and the API: a merged mission shows the golden values.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from hub.catalogue.golden import golden
from hub.catalogue.model import (
    EngagementType,
    GeoSource,
    Location,
    MissionDraft,
    MissionStatus,
    OrganizationDraft,
    Remote,
)
from hub.catalogue.records import (
    Commitment,
    LocationRecord,
    MissionRecord,
    OrganizationRecord,
    PartnerRecord,
    Places,
    SkillRecord,
)
from tests.conftest import GraphQL, Store

NOW = datetime(2026, 11, 15, 12, tzinfo=UTC)


def _partner(pk: int) -> PartnerRecord:
    return PartnerRecord(pk, f"p{pk}", f"p{pk}", f"P{pk}", None, True, True)


def _org(name: str, **ids: Any) -> OrganizationRecord:
    return OrganizationRecord(
        pk=1,
        id="org_1",
        name=name,
        rna=ids.get("rna"),
        siren=ids.get("siren"),
        siret=None,
        url=ids.get("url"),
        logo=None,
    )


def _place(city: str | None, postal: str | None = None, street: str | None = None) -> Any:
    return LocationRecord(street, postal, city, None, None, "FR", None, None, GeoSource.NONE)


def listing(pk: int, **kw: Any) -> MissionRecord:
    values: dict[str, Any] = {
        "pk": pk,
        "id": f"m{pk}",
        "partner": _partner(pk),
        "external_id": f"e{pk}",
        "application_url": f"https://p{pk}.example/{pk}",
        "title": "Tri des dons",
        "description": "Vous triez.",
        "description_html": None,
        "tags": [],
        "engagement_type": EngagementType.VOLUNTEERING,
        "remote": Remote.NONE,
        "audience": [],
        "start_at": None,
        "end_at": None,
        "posted_at": None,
        "commitment": Commitment(None, None, None, None, None),
        "places": Places(None, None),
        "organization": _org("Les Restaurants du Cœur"),
        "open_to_minors": None,
        "reduced_mobility_accessible": None,
        "status": MissionStatus.OPEN,
        "created_at": NOW,
        "updated_at": NOW,
        "closed_at": None,
        "raw": {},
    }
    values.update(kw)
    return MissionRecord(**values)


def _org_of(record: MissionRecord) -> OrganizationRecord:
    assert record.organization is not None
    return record.organization


def _name(record: MissionRecord) -> str:
    return _org_of(record).name


def hours(low: float) -> Commitment:
    return Commitment(low, low + 1, None, None, f"{low}h")


# (rule, listings: the shown one first, what the golden record shows)
CASES: list[tuple[str, list[MissionRecord], Callable[[MissionRecord], Any], Any]] = [
    (
        "title: the one without platform decoration",
        [listing(1, title="[Urgent] Tri des dons (H/F)"), listing(2, title="Tri des dons")],
        lambda g: g.title,
        "Tri des dons",
    ),
    (
        "title: decoration removed even when every listing has some",
        [listing(1, title="Mission : Tri des dons - Lyon", locations=[_place("Lyon")])],
        lambda g: g.title,
        "Mission : Tri des dons - Lyon",  # a single listing is shown as published
    ),
    (
        "title: cleaned when no listing is clean",
        [
            listing(1, title="Appel à bénévoles : Tri des dons"),
            listing(2, title="TRI DES DONS - Lyon", locations=[_place("Lyon")]),
        ],
        lambda g: g.title,
        "Tri des dons",
    ),
    (
        "title: accents and words spelled out over their loss",
        [listing(1, title="Accomp. des personnes agees"), listing(2, title="Visite aux âgés")],
        lambda g: g.title,
        "Visite aux âgés",
    ),
    (
        "title: French over English",
        [
            listing(1, title="Fundraising support at events"),
            listing(2, title="Collecte de fonds lors des événements"),
        ],
        lambda g: g.title,
        "Collecte de fonds lors des événements",
    ),
    (
        "organization: the full name over an acronym",
        [listing(1, organization=_org("MdM")), listing(2, organization=_org("Médecins du Monde"))],
        lambda g: _name(g),
        "Médecins du Monde",
    ),
    (
        "organization: accents and case over their loss",
        [
            listing(1, organization=_org("MEDECINS DU MONDE")),
            listing(2, organization=_org("Médecins du Monde")),
        ],
        lambda g: _name(g),
        "Médecins du Monde",
    ),
    (
        "organization: lower-case articles over a platform's Title Case",
        [
            listing(1, organization=_org("Action Contre La Faim France")),
            listing(2, organization=_org("Action contre la Faim")),
        ],
        lambda g: _name(g),
        "Action contre la Faim",
    ),
    (
        "organization: the name over the legal form a platform puts first",
        [
            listing(1, organization=_org("Association Lire et faire lire")),
            listing(2, organization=_org("Lire et faire lire")),
        ],
        lambda g: _name(g),
        "Lire et faire lire",
    ),
    (
        "organization: a capitalised first article is no Title Case",
        [
            listing(1, organization=_org("La Cimade")),
            listing(2, organization=_org("la Cimade")),
        ],
        lambda g: _name(g),
        "La Cimade",
    ),
    (
        "organization: among the names the listings published, not the shared record's",
        [
            # One record shared through an RNA keeps the first partner's spelling; each
            # listing kept the name its partner published.
            listing(
                1, organization=_org("MDM", rna="W751234567"), raw={"organization_name": "MDM"}
            ),
            listing(
                2,
                organization=_org("MDM", rna="W751234567"),
                raw={"organization_name": "Médecins du Monde"},
            ),
        ],
        _name,
        "Médecins du Monde",
    ),
    (
        "organization: any identifier present",
        [
            listing(1, organization=_org("MdM", rna="W751234567")),
            listing(2, organization=_org("Médecins du Monde", siren="123456789")),
        ],
        lambda g: (_org_of(g).rna, _org_of(g).siren),
        ("W751234567", "123456789"),
    ),
    (
        "organization: url and logo are the shown listing's own, never a copy's",
        [
            listing(1, organization=_org("Médecins du Monde")),
            listing(2, organization=_org("MdM", url="https://copy.example")),
        ],
        lambda g: _org_of(g).url,
        None,
    ),
    (
        "locations: a street over a city",
        [
            listing(1, locations=[_place("Lyon")]),
            listing(2, locations=[_place("Lyon", "69003", "12 rue Servient")]),
        ],
        lambda g: g.locations[0].street,
        "12 rue Servient",
    ),
    (
        "locations: a city over none",
        [listing(1, locations=[]), listing(2, locations=[_place("Lyon")])],
        lambda g: g.locations[0].city,
        "Lyon",
    ),
    (
        "locations: none for a remote mission another listing gives none",
        [
            listing(1, remote=Remote.FULL, locations=[_place("Paris", "75019", "1 rue X")]),
            listing(2, remote=Remote.FULL, locations=[]),
        ],
        lambda g: g.locations,
        [],
    ),
    (
        "causes: the union",
        [listing(1, causes=["solidarite"]), listing(2, causes=["sante", "solidarite"])],
        lambda g: g.causes,
        ["sante", "solidarite"],
    ),
    (
        "skills: the union",
        [
            listing(1, skills=[SkillRecord("tri", "Tri")]),
            listing(2, skills=[SkillRecord("accueil", "Accueil")]),
        ],
        lambda g: [s.slug for s in g.skills],
        ["accueil", "tri"],
    ),
    (
        "description: the most complete",
        [listing(1, description="Court."), listing(2, description="Plus long, plus complet.")],
        lambda g: g.description,
        "Plus long, plus complet.",
    ),
    (
        "posted_at: the earliest",
        [listing(1, posted_at=NOW), listing(2, posted_at=datetime(2026, 10, 1, tzinfo=UTC))],
        lambda g: g.posted_at,
        datetime(2026, 10, 1, tzinfo=UTC),
    ),
    (
        "hours: from whichever listing states them",
        [listing(1), listing(2, commitment=hours(2)), listing(3, commitment=hours(5))],
        lambda g: g.commitment.hours_per_week_min,
        2,
    ),
    (
        "remote: partly remote over a platform's on-site",
        [listing(1, remote=Remote.NONE), listing(2, remote=Remote.POSSIBLE)],
        lambda g: g.remote,
        Remote.POSSIBLE,
    ),
    (
        "identity: the shown listing's id, partner and URL",
        [listing(1), listing(2)],
        lambda g: (g.id, g.partner.pk, g.application_url),
        ("m1", 1, "https://p1.example/1"),
    ),
]


@pytest.mark.parametrize(("rule", "listings", "read", "expected"), CASES, ids=[c[0] for c in CASES])
def test_golden_rules(
    rule: str, listings: list[MissionRecord], read: Callable[[MissionRecord], Any], expected: Any
) -> None:
    assert read(golden(listings[0], listings[1:])) == expected


def test_a_lone_listing_is_shown_as_published() -> None:
    one = listing(1, title="[Urgent] Tri des dons")
    assert golden(one, []) is one
    assert dataclasses.replace(one) == golden(one, [])


def test_a_lone_listing_shows_the_organization_name_its_partner_published() -> None:
    shared = _org("Croix-Rouge francaise", rna="W751234567")  # another partner's spelling
    one = listing(1, organization=shared, raw={"organization_name": "Croix-Rouge française"})
    shown = golden(one, [])
    assert _name(shown) == "Croix-Rouge française"
    assert _org_of(shown).id == shared.id and _org_of(shown).rna == "W751234567"


def _draft(ext: str, **kw: Any) -> MissionDraft:
    values: dict[str, Any] = {
        "external_id": ext,
        "application_url": f"https://{ext}.example/apply",
        "title": "Tri des dons",
        "organization": OrganizationDraft(name="Médecins du Monde"),
        "locations": [Location(postal_code="69003", city="Lyon")],
        "start_at": datetime(2026, 12, 1, tzinfo=UTC),
    }
    values.update(kw)
    return MissionDraft(**values)


def test_the_api_shows_the_golden_record(store: Store, data: GraphQL) -> None:
    store.ingest(
        "pa",
        [_draft("a", title="[Urgent] Tri des dons (H/F)", organization=OrganizationDraft("MdM"))],
    )
    store.ingest(
        "pb",
        [
            _draft(
                "b",
                locations=[Location(street="12 rue Servient", postal_code="69003", city="Lyon")],
                causes=["sante"],
            )
        ],
    )
    query = """{ missions { totalCount nodes { externalId title organization { name }
        locations { street } } } }"""
    result = data(query)["missions"]
    assert result["totalCount"] == 1
    [node] = result["nodes"]
    assert node == {
        "externalId": "a",
        "title": "Tri des dons",
        "organization": {"name": "Médecins du Monde"},
        "locations": [{"street": "12 rue Servient"}],
    }
    # When the other listing closes, the shown one is itself again.
    store.close("pb", ["b"])
    [node] = data(query)["missions"]["nodes"]
    assert node["title"] == "[Urgent] Tri des dons (H/F)"
