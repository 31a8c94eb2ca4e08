"""The write path: outcomes per item, organizations merged, and one change event per change."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from hub.catalogue.model import Location, MissionDraft, OrganizationDraft
from hub.settings import Settings
from hub.storage.db import make_engine
from hub.storage.tables import mission_events, missions, organizations
from tests.conftest import GraphQL, Store


def draft(ext: str, **kw: Any) -> MissionDraft:
    return MissionDraft(
        external_id=ext, title=f"Mission {ext}", application_url=f"https://p.example/{ext}", **kw
    )


def rows(settings: Settings, stmt: Any) -> list[Any]:
    async def go() -> list[Any]:
        engine = make_engine(settings)
        try:
            async with engine.connect() as conn:
                return list((await conn.execute(stmt)).all())
        finally:
            await engine.dispose()

    return asyncio.run(go())


def events(settings: Settings) -> list[tuple[str, str, Any]]:
    stmt = (
        select(missions.c.external_id, mission_events.c.type, mission_events.c.previous)
        .join(missions, missions.c.pk == mission_events.c.mission_pk)
        .order_by(mission_events.c.seq)
    )
    return [tuple(row) for row in rows(settings, stmt)]


def outcomes(report: Any) -> list[str]:
    return [r.outcome.value for r in report.results]


def test_create_unchanged_update_each_write_what_they_should(
    store: Store, settings: Settings
) -> None:
    assert outcomes(store.ingest("p", [draft("1"), draft("2")]).batch) == ["CREATED", "CREATED"]
    assert outcomes(store.ingest("p", [draft("1"), draft("2")]).batch) == [
        "UNCHANGED",
        "UNCHANGED",
    ]
    changed = draft("2", causes=["sport"])
    assert outcomes(store.ingest("p", [draft("1"), changed]).batch) == ["UNCHANGED", "UPDATED"]
    log = events(settings)
    assert [(ext, kind) for ext, kind, _ in log] == [
        ("1", "PUBLISHED"),
        ("2", "PUBLISHED"),
        ("2", "UPDATED"),
    ]
    previous = log[2][2]
    assert previous["causes"] == [] and previous["status"] == "OPEN"


def test_same_external_id_on_two_partners_is_two_missions(store: Store) -> None:
    a = store.ingest("p", [draft("1")]).batch.results[0]
    b = store.ingest("q", [draft("1")]).batch.results[0]
    assert a.mission_id != b.mission_id
    assert (a.outcome.value, b.outcome.value) == ("CREATED", "CREATED")


def test_duplicate_ids_in_one_batch_keep_the_first(store: Store, settings: Settings) -> None:
    report = store.ingest("p", [draft("1"), replace(draft("1"), title="Autre")])
    assert outcomes(report.batch) == ["CREATED", "DUPLICATE"]
    assert rows(settings, select(missions.c.title)) == [("Mission 1",)]


def test_close_then_reopen(store: Store, settings: Settings) -> None:
    store.ingest("p", [draft("1"), draft("2")])
    assert outcomes(store.close("p", ["1", "nope"])) == ["CLOSED", "NOT_FOUND"]
    assert outcomes(store.close("p", ["1"])) == ["UNCHANGED"]
    # The partner publishes it again: it is open again, and subscribers see it appear.
    assert outcomes(store.ingest("p", [draft("1")]).batch) == ["UPDATED"]
    status = rows(settings, select(missions.c.status).where(missions.c.external_id == "1"))
    assert status == [("OPEN",)]
    assert [kind for ext, kind, _ in events(settings) if ext == "1"] == [
        "PUBLISHED",
        "CLOSED",
        "PUBLISHED",
    ]


def test_organizations_merge_on_any_shared_identifier(store: Store, settings: Settings) -> None:
    store.ingest(
        "p",
        [
            draft("1", organization=OrganizationDraft(name="Les Amis", rna="W123456789")),
            draft("2", organization=OrganizationDraft(name="LES AMIS asso", siren="111222337")),
        ],
    )
    store.ingest(
        "q",
        [
            draft("1", organization=OrganizationDraft(name="Amis", rna="W123456789")),
            draft("2", organization=OrganizationDraft(name="Autre", siret="11122233700011")),
            draft("3", organization=OrganizationDraft(name="les amis")),  # no id: same name
        ],
    )
    orgs = rows(settings, select(organizations.c.name, organizations.c.siret).order_by("pk"))
    # q's SIRET belongs to the legal unit of SIREN 111222337: the same organization, which q's
    # write does not change (p created it). A name alone links to q's own organizations only.
    assert orgs == [("Les Amis", None), ("LES AMIS asso", None), ("les amis", None)]
    linked = rows(
        settings,
        select(missions.c.external_id, organizations.c.name)
        .join(organizations, organizations.c.pk == missions.c.organization_pk)
        .order_by(missions.c.pk),
    )
    assert [name for _, name in linked] == [
        "Les Amis",
        "LES AMIS asso",
        "Les Amis",
        "LES AMIS asso",
        "les amis",
    ]


def test_organizations_of_one_batch_resolve_as_if_written_one_by_one(
    store: Store, settings: Settings
) -> None:
    # The batch is resolved in a few statements, but each organization sees what the ones
    # before it created or completed: the SIREN the second fills is how the fourth finds it.
    store.ingest(
        "p",
        [
            draft("1", organization=OrganizationDraft(name="Maison Bleue")),
            draft("2", organization=OrganizationDraft(name="maison bleue", rna="W111111111")),
            draft("3", organization=OrganizationDraft(name="Maison bleue", siren="111222337")),
            draft("4", organization=OrganizationDraft(name="MB", siret="11122233700011")),
            draft("5", organization=OrganizationDraft(name="Autre", rna="W111111111")),
        ],
    )
    orgs = rows(
        settings,
        select(organizations.c.name, organizations.c.rna, organizations.c.siren).order_by("pk"),
    )
    # 1 creates "Maison Bleue"; 2 (an RNA nobody has) creates its own record; 3 (a SIREN
    # nobody has) another one; 4's SIRET is 3's legal unit; 5's RNA is 2's.
    assert orgs == [
        ("Maison Bleue", None, None),
        ("maison bleue", "W111111111", None),
        ("Maison bleue", None, "111222337"),
    ]
    linked = rows(
        settings,
        select(missions.c.external_id, organizations.c.name)
        .join(organizations, organizations.c.pk == missions.c.organization_pk)
        .order_by(missions.c.external_id),
    )
    assert [name for _, name in linked] == [
        "Maison Bleue",
        "maison bleue",
        "Maison bleue",
        "Maison bleue",
        "maison bleue",
    ]
    # A later batch of the same partner completes its own record (the SIRET 4 gave is kept
    # on the record 4 was linked to only if it had none: the legal unit's record has none).
    store.ingest(
        "p",
        [
            draft(
                "6",
                organization=OrganizationDraft(
                    name="x", rna="W111111111", url="https://mb.example"
                ),
            )
        ],
    )
    [(url,)] = rows(
        settings, select(organizations.c.url).where(organizations.c.rna == "W111111111")
    )
    assert url == "https://mb.example"


def test_a_listing_joining_or_changing_in_a_cluster_updates_the_shown_one(
    store: Store, settings: Settings
) -> None:
    def listing(ext: str, title: str, **kw: Any) -> MissionDraft:
        return MissionDraft(
            external_id=ext,
            title=title,
            application_url=f"https://p.example/{ext}",
            organization=OrganizationDraft(name="Les Amis"),
            locations=[Location(postal_code="35000", city="Rennes")],
            start_at=datetime(2027, 1, 10, tzinfo=UTC),
            **kw,
        )

    store.ingest("p", [listing("1", "Tri des dons")])
    store.ingest("q", [listing("9", "Tri des dons (H/F)")])  # the same mission on q
    store.ingest("q", [listing("9", "Tri des dons (H/F)", causes=["sport"])])
    assert [(ext, kind) for ext, kind, _ in events(settings)] == [
        ("1", "PUBLISHED"),
        ("9", "PUBLISHED"),
        ("1", "UPDATED"),  # p's listing shows the merged record, which q's listing joined
        ("9", "UPDATED"),
        ("1", "UPDATED"),  # and changed
    ]


def test_locations_read_back_exactly_in_their_order(store: Store, data: GraphQL) -> None:
    # Children come back as JSON built by the database; SQLite would round a REAL in JSON to 15
    # digits, so floats travel as text of their 17 digits.
    spots = [
        Location(
            city="Lyon",
            postal_code="69001",
            latitude=45.76400470000001,
            longitude=4.835658999999999,
        ),
        Location(city="Paris", postal_code="75011", latitude=48.8589, longitude=2.3795),
        Location(city="Partout"),
    ]
    store.ingest("p", [draft("1", locations=spots)])
    [node] = data("{ missions { nodes { locations { city latitude longitude } } } }")["missions"][
        "nodes"
    ]
    assert node["locations"] == [
        {"city": "Lyon", "latitude": 45.76400470000001, "longitude": 4.835658999999999},
        {"city": "Paris", "latitude": 48.8589, "longitude": 2.3795},
        {"city": "Partout", "latitude": None, "longitude": None},
    ]
