"""Operator label mappings, end to end: a partner's unknown label is counted, the operator maps it
with the CLI, stored missions gain the cause at once (no fetch), search and the event log follow,
and the next sync maps it the same way."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from hub.catalogue.model import MissionDraft
from hub.catalogue.taxonomy import LabelMap
from hub.cli import main
from hub.settings import Settings
from hub.storage.db import make_engine
from hub.storage.tables import (
    mission_causes,
    mission_events,
    mission_skills,
    missions,
    unmapped_labels,
)
from hub.sync import SyncRunner, add_partner
from tests.conftest import TEST_NOW, GraphQL, Store, run
from tests.partners import IdealistPartner
from tests.partners.base import SimulatedPartner

UNKNOWN = "OCEANS_AND_SEAS"  # in no published list: the partner's own value


class OceanIdealist(IdealistPartner):
    """Idealist, with one area of focus the hub has never heard of on every third listing."""

    def _volop(self, listing: Any) -> dict[str, Any]:
        volop = super()._volop(listing)
        if listing.mission.index % 3 == 0:
            volop["areasOfFocus"] = [*volop["areasOfFocus"], UNKNOWN]
        return volop


@pytest.fixture
def ocean() -> Iterator[OceanIdealist]:
    partner = OceanIdealist()
    partner.start()
    try:
        yield partner
    finally:
        partner.stop()


@pytest.fixture
def cli(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    """Runs `entraide-hub ...` in this process on the test database; returns (code, out, err)."""
    monkeypatch.setenv("HUB_DATABASE_URL", settings.database_url)

    def call(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return call


def _add(settings: Settings, name: str, partner: SimulatedPartner) -> None:
    config = partner.config()

    async def go() -> None:
        engine = make_engine(settings)
        try:
            await add_partner(
                engine,
                name,
                connector=partner.connector_name,
                url=config.url,
                every="15m",
                push_only=False,
                config={
                    "api_key": config.api_key,
                    "page_size": config.page_size,
                    "timeout": config.timeout,
                    "retry": dataclasses.asdict(config.retry),
                },
                now=TEST_NOW,
            )
        finally:
            await engine.dispose()

    run(go())


def _sync(settings: Settings, name: str) -> Any:
    async def go() -> Any:
        engine = make_engine(settings)
        try:
            async with httpx.AsyncClient() as http:
                return await SyncRunner(engine, http, settings).sync(name)
        finally:
            await engine.dispose()

    return run(go())


def _rows(settings: Settings, stmt: Any) -> list[Any]:
    async def go() -> list[Any]:
        engine = make_engine(settings)
        try:
            async with engine.connect() as conn:
                return list((await conn.execute(stmt)).all())
        finally:
            await engine.dispose()

    return run(go())


def _causes_of(settings: Settings, external_id: str) -> set[str]:
    rows = _rows(
        settings,
        select(mission_causes.c.cause)
        .select_from(mission_causes.join(missions, missions.c.pk == mission_causes.c.mission_pk))
        .where(missions.c.external_id == external_id),
    )
    return {row[0] for row in rows}


# Every status: whether a mission is still open (its end date against the clock) is not the point.
COUNT = """query($causes: [Cause!]) {
  missions(filter: {causes: $causes, status: [OPEN, CLOSED, EXPIRED]}, first: 50) {
    totalCount edges { node { externalId } }
  }
}"""


def test_an_unknown_label_is_listed_mapped_and_applied_without_a_fetch(
    settings: Settings, ocean: OceanIdealist, cli: Any, data: GraphQL
) -> None:
    _add(settings, "idealist", ocean)
    first = _sync(settings, "idealist")
    assert first.status == "SUCCEEDED" and first.counts["created"] == 30
    carriers = {f"M{i:06d}" for i in range(0, 30, 3)}
    assert all("animaux" not in _causes_of(settings, ext) for ext in carriers)
    assert data(COUNT, {"causes": ["ANIMAUX"]})["missions"]["totalCount"] == 0

    # Listed as unmapped, with how many records carried it.
    code, out, _ = cli("taxonomy", "unmapped", "--partner", "idealist")
    assert code == 0
    line = next(line for line in out.splitlines() if UNKNOWN in line)
    assert line.split() == ["idealist", "cause", "10", UNKNOWN]

    # The operator maps it: the stored missions change at once, and nothing is fetched.
    hits = len(ocean.hits)
    seq_before = max(row[0] for row in _rows(settings, select(mission_events.c.seq)))
    code, out, _ = cli("taxonomy", "map", "--partner", "idealist", "oceans and seas", "animaux")
    assert code == 0, out
    assert "cause" in out and "10 missions changed" in out
    assert len(ocean.hits) == hits, "re-mapping fetched nothing"
    for ext in carriers:
        assert "animaux" in _causes_of(settings, ext)
    assert "animaux" not in _causes_of(settings, "M000001")  # no label, no change

    found = data(COUNT, {"causes": ["ANIMAUX"]})["missions"]
    assert found["totalCount"] == 10
    assert {edge["node"]["externalId"] for edge in found["edges"]} == carriers

    events = _rows(
        settings,
        select(mission_events.c.type, mission_events.c.state, missions.c.external_id)
        .select_from(mission_events.join(missions, missions.c.pk == mission_events.c.mission_pk))
        .where(mission_events.c.seq > seq_before),
    )
    assert {ext for _, _, ext in events} == carriers
    assert {kind for kind, _, _ in events} == {"UPDATED"}
    assert all("animaux" in state["causes"] for _, state, _ in events)

    code, out, _ = cli("taxonomy", "unmapped", "--partner", "idealist")
    assert code == 0 and UNKNOWN not in out
    code, out, _ = cli("taxonomy", "mappings")
    assert out.splitlines()[1].split() == ["idealist", "cause", "oceans", "and", "seas", "animaux"]

    # Mapping again changes nothing.
    code, out, _ = cli("taxonomy", "map", "--partner", "idealist", UNKNOWN, "animaux")
    assert code == 0 and "0 missions changed" in out

    # The next sync maps it the same way, for an edited listing and a new one, and counts
    # nothing as unmapped.
    ocean.touch("M000003")
    ocean.grow(31)  # M000030 carries the label too
    again = _sync(settings, "idealist")
    assert again.status == "SUCCEEDED" and again.counts["created"] == 1
    assert "animaux" in _causes_of(settings, "M000003")
    assert "animaux" in _causes_of(settings, "M000030")
    assert not _rows(settings, select(unmapped_labels).where(unmapped_labels.c.label == UNKNOWN))
    assert data(COUNT, {"causes": ["ANIMAUX"]})["missions"]["totalCount"] == 11


def _draft(ext: str, causes: list[str], skills: list[str] | None = None) -> MissionDraft:
    return MissionDraft(
        external_id=ext,
        title="Mission de test",
        application_url=f"https://p.example/{ext}",
        causes=causes,
        skills=skills or [],
    )


def test_lookup_order_is_the_partners_own_map_then_global_synonyms_then_built_in(
    settings: Settings, store: Store, cli: Any
) -> None:
    # "Health & Medicine" is built in (sante); the operator overrides it, globally then for beta.
    store.ingest("alpha", [_draft("a1", ["Health & Medicine", "Médecine douce"])])
    store.ingest("beta", [_draft("b1", ["Health & Medicine", "Médecine douce"])])
    assert _causes_of(settings, "a1") == {"sante"}

    code, out, _ = cli("taxonomy", "map", "Médecine douce", "prevention-protection")
    assert code == 0 and "2 missions changed" in out and "every partner" in out
    code, out, _ = cli(
        "taxonomy", "map", "--partner", "beta", "health & medicine", "recherche", "--kind", "cause"
    )
    assert code == 0 and "1 missions changed" in out
    assert _causes_of(settings, "a1") == {"prevention-protection", "sante"}
    assert _causes_of(settings, "b1") == {"prevention-protection", "recherche"}

    code, out, _ = cli("taxonomy", "map", "HEALTH_MEDICINE", "humanitaire")  # global
    assert code == 0
    # global beats built-in; beta's own beats global
    assert _causes_of(settings, "a1") == {"humanitaire", "prevention-protection"}
    assert _causes_of(settings, "b1") == {"prevention-protection", "recherche"}

    # Removing beta's own mapping falls back to the global one, at once.
    code, out, _ = cli("taxonomy", "unmap", "--partner", "beta", "Health & Medicine")
    assert code == 0 and "1 missions changed" in out
    assert _causes_of(settings, "b1") == {"humanitaire", "prevention-protection"}

    # A fresh record goes through the same order.
    store.ingest("beta", [_draft("b2", ["Health & Medicine"])])
    assert _causes_of(settings, "b2") == {"humanitaire"}


def test_a_skill_mapping_and_the_engagement_type_it_implies(
    settings: Settings, store: Store, cli: Any
) -> None:
    store.ingest("alpha", [_draft("a1", ["Mécénat de compétences 2.0"], ["Tableur avancé"])])
    code, out, _ = cli("taxonomy", "map", "Tableur avancé", "analyse-de-donnees")
    assert code == 0 and "skill" in out and "1 missions changed" in out
    skills = _rows(settings, select(mission_skills.c.skill))
    assert [row[0] for row in skills] == ["analyse-de-donnees"]
    code, out, _ = cli("taxonomy", "map", "Mécénat de compétences 2.0", "benevolat-competences")
    assert code == 0
    kind = _rows(settings, select(missions.c.engagement_type))
    assert kind == [("SKILLS_VOLUNTEERING",)]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["Poverty", "pauvrete"], "'pauvrete' is neither a cause nor a skill slug"),
        (["Poverty", "solidarite"], "did you mean solidarite-insertion"),
        (["Media", "communication"], "both a cause and a skill slug"),
        (["Media", "marketing", "--kind", "cause"], "'marketing' is not a cause slug"),
        (["--partner", "nobody", "Media", "animaux"], "no partner named 'nobody'"),
    ],
)
def test_map_refuses_unknown_slugs_and_says_why(
    cli: Any, store: Store, argv: list[str], message: str
) -> None:
    store.ingest("alpha", [_draft("a1", ["Poverty"])])
    code, out, err = cli("taxonomy", "map", *argv)
    assert code == 2 and message in err, err
    code, out, _ = cli("taxonomy", "mappings")
    assert out.strip() == "no label mappings"


def test_slugs_lists_every_cause_and_skill(cli: Any) -> None:
    from hub.catalogue.taxonomy import CAUSES, SKILLS

    code, out, _ = cli("taxonomy", "slugs")
    assert code == 0
    listed = {tuple(line.split()[:2]) for line in out.splitlines()[1:]}
    assert listed == {("cause", c.slug) for c in CAUSES} | {("skill", s.slug) for s in SKILLS}


def test_label_map_order_in_memory() -> None:
    labels = LabelMap(
        own={("cause", "poverty hunger"): "emploi"},
        shared={("cause", "poverty hunger"): "autre", ("skill", "tableur avance"): "bureautique"},
    )
    assert labels.cause("POVERTY_HUNGER") == "emploi"
    assert LabelMap(shared=labels.shared).cause("Poverty & Hunger") == "autre"
    assert LabelMap().cause("Poverty & Hunger") == "solidarite-insertion"
    assert labels.skill("Tableur  avancé") == "bureautique"
    assert labels.cause("Tableur avancé") is None  # a skill mapping is not a cause mapping


def test_a_mapping_reaches_the_merged_mission_a_listing_belongs_to(
    settings: Settings, store: Store, cli: Any, data: GraphQL
) -> None:
    """A skill mapped on one partner's copy of a mission is shown by, and finds, the merged
    mission that copy is part of: its shown listing gathers its listings' labels again."""
    from tests.test_dedup import CASES, _draft

    case = CASES[0]
    store.ingest("pa", [dataclasses.replace(_draft(case, "a", 0), skills=[])])
    store.ingest("pb", [dataclasses.replace(_draft(case, "b", 0), skills=["Tableur avancé"])])
    query = """query($f: MissionFilterInput) {
      missions(filter: $f) { totalCount nodes { externalId skills { slug } } }
    }"""
    assert data(query, {"f": {"skills": ["analyse-de-donnees"]}})["missions"]["totalCount"] == 0
    code, _, _ = cli("taxonomy", "map", "--partner", "pb", "Tableur avancé", "analyse-de-donnees")
    assert code == 0
    found = data(query, {"f": {"skills": ["analyse-de-donnees"]}})["missions"]
    assert found["nodes"] == [{"externalId": "a0", "skills": [{"slug": "analyse-de-donnees"}]}]

    async def shown_state() -> Any:
        engine = make_engine(settings)
        try:
            async with engine.connect() as conn:
                return (
                    await conn.execute(
                        select(missions.c.match_state).where(missions.c.external_id == "a0")
                    )
                ).scalar_one()
        finally:
            await engine.dispose()

    # What subscribers judge: the shown listing's state carries the merged mission's labels.
    assert run(shown_state())["skills"] == ["analyse-de-donnees"]
