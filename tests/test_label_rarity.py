"""A rare label criterion is read from the labels' side (hub.storage.label_rarity): the same
answers as walking the catalogue in order, on both read paths and both databases.

The demo catalogue (three partners, merged missions whose listings carry different labels) is
searched by drawn filters with the criterion compiled both ways, by moving the rarity
threshold: never rare (every label tested listing by listing, the way a common label is), and
always rare (every label read from its rows). The compiled and the generic path must give the
generic, never-rare answer each time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from hub.catalogue.filters import MissionFilter
from hub.settings import Settings
from hub.storage import label_rarity
from hub.storage.db import make_engine
from tests.conftest import Store, run
from tests.test_compiled import FACETS, Pair, demo_drafts, pair  # noqa: F401  (fixtures)

NEVER, ALWAYS = -1, 10**9

SEARCH = (
    "query Rare($filter: MissionFilterInput, $first: Int, $after: String) { "
    "missions(filter: $filter, first: $first, after: $after, orderBy: RECENT) { totalCount "
    + FACETS
    + " pageInfo { endCursor hasNextPage } edges { node { id title "
    "causes { value } skills { slug } } } } }"
)

LABELS = st.fixed_dictionaries(
    {},
    optional={
        "skills": st.lists(
            st.sampled_from(
                ["design-graphique", "developpement-web", "comptabilite", "juridique", "absente"]
            ),
            min_size=1,
            max_size=2,
        ),
        "causes": st.lists(
            st.sampled_from(["EDUCATION", "ENVIRONNEMENT", "ANIMAUX", "BENEVOLAT_COMPETENCES"]),
            min_size=1,
            max_size=2,
        ),
        "remote": st.lists(st.sampled_from(["FULL", "POSSIBLE", "NONE"]), max_size=2),
        "status": st.lists(st.sampled_from(["OPEN", "CLOSED", "EXPIRED"]), max_size=2),
        "partners": st.lists(st.sampled_from(["benevolat-france", "skills-for-good"]), max_size=1),
    },
)


@pytest.fixture
def threshold(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Moves the rarity threshold within a test (the `label_reading` fixture of conftest sets
    it once for a whole test)."""

    def set_to(rows: int) -> None:
        monkeypatch.setattr(label_rarity, "RARE_AT_MOST", rows)
        label_rarity._counts.clear()  # the kept counts were decided by the other threshold

    yield set_to
    label_rarity._counts.clear()


@hsettings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(flt=LABELS, first=st.integers(min_value=1, max_value=25))
def test_rare_and_common_criteria_find_the_same_missions(
    pair: Pair,  # noqa: F811
    threshold: Any,
    flt: dict[str, Any],
    first: int,
) -> None:
    after = None
    for _ in range(2):  # the first page and the next
        variables = {"filter": flt, "first": first, "after": after}
        threshold(NEVER)
        expected = pair.ask(pair.generic, SEARCH, variables)
        assert pair.compare(SEARCH, variables)[0] == expected
        threshold(ALWAYS)
        assert pair.ask(pair.generic, SEARCH, variables) == expected, variables
        assert pair.compare(SEARCH, variables)[0] == expected, variables
        if "errors" in expected or not expected["data"]["missions"]["pageInfo"]["hasNextPage"]:
            break
        after = expected["data"]["missions"]["pageInfo"]["endCursor"]


def test_a_label_is_rare_up_to_the_threshold_and_the_count_is_kept(
    settings: Settings,
    store: Store,
    threshold: Any,
    demo_drafts: dict[str, Any],  # noqa: F811
) -> None:
    for partner, drafts in demo_drafts.items():
        store.ingest(partner, drafts)

    async def rare(flt: MissionFilter) -> frozenset[str]:
        engine = make_engine(settings)
        try:
            return await label_rarity.rare_labels(engine, flt)
        finally:
            await engine.dispose()

    common = MissionFilter(skills=("design-graphique",), causes=("absente",))
    threshold(1)
    assert run(rare(common)) == frozenset({"causes"})  # no row at all: rare at any threshold
    threshold(10**6)
    assert run(rare(common)) == frozenset({"causes", "skills"})
    label_rarity.RARE_AT_MOST = 1  # the count is kept: not asked again within the minute
    assert run(rare(common)) == frozenset({"causes", "skills"})
