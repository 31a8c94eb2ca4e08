"""The duplicate linking's blocking keys: every pair the decision merges shares a key, so that
reading candidates by key finds what reading every open listing found; the migration's backfill
stores the keys the writer stores."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import combinations

from sqlalchemy import delete, select

from hub.catalogue.dedup import Comparable, same_mission
from hub.catalogue.model import Location, MissionDraft, OrganizationDraft, Remote
from hub.demo.catalogue import demo_catalogue
from hub.settings import Settings
from hub.storage.db import make_engine
from hub.storage.duplicate_candidates import backfill_keys, comparable
from hub.storage.duplicate_keys import probe_keys, stored_keys
from hub.storage.tables import mission_dedup_keys
from tests.conftest import TEST_NOW, Store
from tests.test_dedup import CASES, _draft


def _comparable(
    partner_pk: int, draft: MissionDraft, org_pk: int | None = None, *, full: bool = True
) -> Comparable:
    org = draft.organization
    return comparable(
        partner_pk,
        org_pk,
        draft.title,
        draft.remote.value,
        draft.start_at,
        (
            (loc.latitude, loc.longitude, loc.postal_code, loc.city, loc.geo_source.value)
            for loc in draft.locations
        ),
        (org.name, org.rna, org.siren, org.siret) if org is not None else None,
        draft.description,
        full=full,
    )


def _found(a: MissionDraft, b: MissionDraft) -> bool:
    """`a` being written finds `b` stored, and the other way round (by the keys the writer
    reads and stores: those of the cheaper, not `full`, record)."""
    # Stored listings with an organization have its pk (one of their own here).
    x = _comparable(1, a, 101 if a.organization else None, full=False)
    y = _comparable(2, b, 202 if b.organization else None, full=False)
    return bool(probe_keys(x) & stored_keys(y)) and bool(probe_keys(y) & stored_keys(x))


def test_every_labelled_duplicate_shares_a_key() -> None:
    merged = 0
    for index, case in enumerate(CASES):
        a, b = _draft(case, "a", index), _draft(case, "b", index)
        if same_mission(_comparable(1, a), _comparable(2, b)):
            merged += 1
            assert _found(a, b), case.name
    assert merged >= 20  # the labelled set's true pairs, most of them


def test_every_pair_the_decision_merges_in_the_demo_catalogue_shares_a_key() -> None:
    catalogue = demo_catalogue(missions=900, seed=11, now=TEST_NOW)
    listings = [
        (draft, _comparable(partner_pk, draft))
        for partner_pk, drafts in enumerate(catalogue.values())
        for draft in drafts
    ]
    merged = 0
    for (x, a), (y, b) in combinations(listings, 2):
        if a.partner_pk != b.partner_pk and a.start_day == b.start_day and same_mission(a, b):
            merged += 1
            assert _found(x, y), (x.title, y.title)
    assert merged >= 5


BASE = MissionDraft(
    external_id="x",
    title="Distribution de colis alimentaires",
    organization=OrganizationDraft(name="Banque Alimentaire du Rhône"),
    start_at=datetime(2027, 3, 1, 9, tzinfo=UTC),
    remote=Remote.NONE,
    locations=[Location(postal_code="69003", city="Lyon", latitude=45.76, longitude=4.85)],
)


def _pair(b_changes: dict[str, object], a_changes: dict[str, object] | None = None) -> bool:
    a = replace(BASE, **(a_changes or {}))
    b = replace(BASE, **b_changes)
    # The decision merges them: the keys must find them.
    assert same_mission(_comparable(1, a), _comparable(2, b)), b_changes
    return _found(a, b)


def test_the_keys_follow_each_way_the_decision_accepts() -> None:
    day = timedelta(days=1)
    far_north = [Location(latitude=69.65, longitude=18.95)]  # Tromsø: degrees of longitude shrink
    assert _pair({"start_at": BASE.start_at + day})  # the next day
    assert _pair({"start_at": None}, {"start_at": None})  # both undated
    assert _pair({"locations": [Location(city="Lyon")]})  # the city, one postal code missing
    assert _pair({"locations": [Location(latitude=45.80, longitude=4.95)]})  # a point, 9 km off
    assert _pair(
        {"locations": [Location(latitude=69.70, longitude=19.25)]}, {"locations": far_north}
    )
    remote = {"remote": Remote.FULL, "locations": []}
    assert _pair({**remote, "organization": OrganizationDraft(name="Banque Alimentaire")}, remote)
    assert _pair(  # an acronym
        {**remote, "organization": OrganizationDraft(name="MdM")},
        {**remote, "organization": OrganizationDraft(name="Médecins du Monde")},
    )
    assert _pair(  # a word misspelt by one letter
        {**remote, "organization": OrganizationDraft(name="Solidarités Nouvellles")},
        {**remote, "organization": OrganizationDraft(name="Solidarités Nouvelles")},
    )
    assert _pair(  # identifiers decide, whatever the names
        {**remote, "organization": OrganizationDraft(name="Autre nom", rna="W691234567")},
        {**remote, "organization": OrganizationDraft(name="BA69", rna="W691234567")},
    )


def test_a_listing_that_can_match_nothing_has_no_key() -> None:
    # No organization: the decision never merges it.
    assert stored_keys(_comparable(1, replace(BASE, organization=None), full=False)) == set()
    assert stored_keys(_comparable(1, BASE, org_pk=3, full=False)) != set()


def test_the_migration_backfill_stores_what_the_writer_stores(
    store: Store, settings: Settings
) -> None:
    catalogue = demo_catalogue(missions=300, seed=5, now=TEST_NOW)
    for partner, drafts in catalogue.items():
        store.ingest(partner, drafts)

    async def keys() -> tuple[set[tuple[str, int]], set[tuple[str, int]], int]:
        engine = make_engine(settings)
        try:
            async with engine.begin() as conn:
                query = select(mission_dedup_keys.c.key, mission_dedup_keys.c.mission_pk)
                written = {(key, pk) for key, pk in await conn.execute(query)}
                await conn.execute(delete(mission_dedup_keys))
                count = await conn.run_sync(backfill_keys)
                backfilled = {(key, pk) for key, pk in await conn.execute(query)}
                return written, backfilled, count
        finally:
            await engine.dispose()

    written, backfilled, count = asyncio.run(keys())
    assert len(written) > 300
    assert backfilled == written
    assert count == len(written)
