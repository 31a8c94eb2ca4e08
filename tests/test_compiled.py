"""The compiled read path against the generic executor: the same answers, field by field.

Two apps over one store: one plans the documents it has run and answers them again from one
SQL statement (schema/compiled.py), the other runs every query on the generic executor. The
response cache is off in both, so that each answer is computed. Every document is asked of both
and the answers compared: the example operations of schema/operations that the planner covers,
and documents hypothesis draws (selections, filters, orders, page sizes, the next page), over
the demo catalogue (three partners, merged missions among them) and after writes that change
merged missions (a listing closing, a listing changing). CI runs it on SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from hub.clock import ManualClock
from hub.demo.catalogue import demo_catalogue
from hub.settings import Settings
from hub.web.app import create_app
from tests.conftest import ROOT, TEST_NOW, Clients, Store
from tests.test_response_cache import metric

MISSION_FIELDS = [
    "id",
    "externalId",
    "title",
    "description",
    "applicationUrl",
    "remote",
    "engagementType",
    "status",
    "startAt",
    "endAt",
    "postedAt",
    "createdAt",
    "updatedAt",
    "closedAt",
    "openToMinors",
    "reducedMobilityAccessible",
    "tags",
    "audience",
    "distanceKm",
    "__typename",
    "organization { id name rna siren siret url logo __typename }",
    "partner { id name displayName connector pushOnly }",
    "locations { street postalCode city departmentCode region country latitude longitude "
    "geoSource }",
    "commitment { hoursPerWeekMin hoursPerWeekMax totalHours kind scheduleLabel }",
    "places { total remaining }",
    "causes { value label __typename }",
    "skills { slug label family }",
]

COMPILED = 'hub_compiled_reads_total{outcome="compiled",reason=""}'


@dataclass
class Pair:
    compiled: TestClient
    generic: TestClient
    token: str

    def ask(self, app: TestClient, query: str, variables: dict[str, Any]) -> Any:
        response = app.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert response.status_code in (200, 400), response.text
        return response.json()

    def compare(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        """Ask both apps (the compiled one twice: it plans on the first answer); the answers
        must be equal. Returns the generic answer and whether the compiled path answered."""
        variables = variables or {}
        expected = self.ask(self.generic, query, variables)
        first = self.ask(self.compiled, query, variables)
        before = _compiled_count(self.compiled)
        second = self.ask(self.compiled, query, variables)
        answered = _compiled_count(self.compiled) > before
        assert first == expected, (query, variables)
        assert second == expected, (_differences(second, expected)[:5], query, variables)
        return expected, answered


def _differences(got: Any, want: Any, path: str = "") -> list[str]:
    """Where two answers differ, as paths with both values."""
    if isinstance(got, dict) and isinstance(want, dict):
        if list(got) != list(want):
            return [f"{path}: keys {list(got)} != {list(want)}"]
        return [d for k in got for d in _differences(got[k], want[k], f"{path}.{k}")]
    if isinstance(got, list) and isinstance(want, list) and len(got) == len(want):
        return [
            d
            for i, (g, w) in enumerate(zip(got, want, strict=True))
            for d in _differences(g, w, f"{path}[{i}]")
        ]
    return [] if got == want else [f"{path}: {got!r} != {want!r}"]


def _compiled_count(app: TestClient) -> float:
    try:
        return metric(app, COMPILED)
    except StopIteration:
        return 0.0


@pytest.fixture(scope="module")
def demo_drafts() -> dict[str, Any]:
    return demo_catalogue(300, now=TEST_NOW)


@pytest.fixture
def pair(settings: Settings, clock: ManualClock, demo_drafts: dict[str, Any]) -> Iterator[Pair]:
    on = settings.model_copy(update={"response_cache": False, "compiled_reads": True})
    off = settings.model_copy(update={"response_cache": False, "compiled_reads": False})
    store = Store(settings, clock)
    for partner, drafts in demo_drafts.items():
        store.ingest(partner, drafts)
    with TestClient(create_app(on, clock)) as compiled, TestClient(create_app(off, clock)) as gen:
        clients = Clients(settings, compiled, clock)
        token = clients.token(clients.create("company", "ACME"))
        yield Pair(compiled, gen, token)


ANCHOR = """{ missions(filter: {remote: [FULL], skills: ["design-graphique"]}, first: 20,
  orderBy: RECENT) { edges { node { id title organization { name } skills { slug }
  locations { city } postedAt } } } }"""


def test_the_anchor_request_is_compiled_and_answers_as_the_generic_path(pair: Pair) -> None:
    answer, compiled = pair.compare(ANCHOR)
    assert compiled
    assert answer["data"]["missions"]["edges"], "the demo catalogue has such missions"


def test_every_mission_field_the_planner_covers(pair: Pair) -> None:
    query = (
        "query All($first: Int, $after: String) { missions(first: $first, after: $after) "
        "{ totalCount eventCursor pageInfo { hasNextPage hasPreviousPage startCursor endCursor } "
        "edges { cursor node { " + " ".join(MISSION_FIELDS) + " } } } }"
    )
    after = None
    merged = 0
    for _ in range(4):
        answer, compiled = pair.compare(query, {"first": 40, "after": after})
        assert compiled
        page = answer["data"]["missions"]
        after = page["pageInfo"]["endCursor"]
        merged += sum(1 for e in page["edges"] if e["node"]["title"])
    assert merged


OPERATIONS = ROOT / "schema" / "operations"


@pytest.mark.parametrize(
    "variables",
    [
        {"filter": {"text": "numérique", "remote": ["FULL", "POSSIBLE"]}, "first": 20},
        {"filter": {"causes": ["EDUCATION"], "maxHoursPerWeek": 4}, "orderBy": "RECENT"},
        {
            "filter": {"near": {"latitude": 48.8566, "longitude": 2.3522, "radiusKm": 50}},
            "orderBy": "NEAREST",
            "first": 10,
        },
        {"filter": {"text": "atelier"}, "orderBy": "RELEVANCE", "first": 5},
    ],
)
def test_the_intranet_search_operation_is_compiled(pair: Pair, variables: dict[str, Any]) -> None:
    """schema/operations/intranet-search.graphql (facets, counts, the event cursor, distances),
    its first page and the next."""
    query = (OPERATIONS / "intranet-search.graphql").read_text()
    answer, compiled = pair.compare(query, variables)
    assert compiled, answer
    end = answer["data"]["missions"]["pageInfo"]["endCursor"]
    if end is not None:
        _, compiled = pair.compare(query, {**variables, "after": end})
        assert compiled


def test_operations_beyond_the_compiler_answer_on_the_generic_path(pair: Pair) -> None:
    """A document with a field the statement cannot build is answered, and said so."""
    query = "{ missions(first: 3) { edges { node { id listings { externalId } } } } }"
    answer, compiled = pair.compare(query)
    assert not compiled
    assert len(answer["data"]["missions"]["edges"]) == 3
    assert (
        metric(
            pair.compiled, 'hub_compiled_reads_total{outcome="fallback",reason="mission_listings"}'
        )
        == 1
    )


GOLDEN = """{ missions(first: 100) { edges { node { id title description postedAt startAt
  remote organization { name rna siren url } locations { city street latitude } commitment {
  hoursPerWeekMin kind } causes { value } skills { slug } } } } }"""


def merged_ids(pair: Pair) -> set[str]:
    listed = pair.ask(
        pair.generic,
        "{ missions(first: 100) { edges { node { id alsoPublishedOn { name } } } } }",
        {},
    )
    return {
        e["node"]["id"] for e in listed["data"]["missions"]["edges"] if e["node"]["alsoPublishedOn"]
    }


def test_merged_missions_show_their_golden_record(pair: Pair) -> None:
    assert merged_ids(pair), "the demo catalogue merges missions published on several partners"
    _, compiled = pair.compare(GOLDEN)
    assert compiled


def test_golden_records_follow_the_writes_to_their_clusters(
    pair: Pair, store: Store, demo_drafts: dict[str, Any]
) -> None:
    """A listing of a merged mission changes, then another closes: the compiled answers
    follow (the golden record is stored again by the writes)."""
    merged = merged_ids(pair)
    by_partner = {p: {d.external_id: d for d in drafts} for p, drafts in demo_drafts.items()}
    members = pair.ask(  # naming the partners lists each partner's own listing
        pair.generic,
        "query Q($p: [String!]) { missions(first: 100, filter: {partners: $p}) { edges { node { "
        "id externalId partner { name } alsoPublishedOn { name } } } } }",
        {"p": list(demo_drafts)},
    )
    listings = [
        e["node"]
        for e in members["data"]["missions"]["edges"]
        if e["node"]["id"] not in merged and e["node"]["alsoPublishedOn"]
    ]
    assert listings, "listings merged into another one"
    changed, closed = listings[0], listings[-1]
    draft = by_partner[changed["partner"]["name"]][changed["externalId"]]
    longer = (draft.description or "") + " Une description bien plus longue que les autres."
    store.ingest(changed["partner"]["name"], [dataclasses.replace(draft, description=longer)])
    pair.compare(GOLDEN)
    store.close(closed["partner"]["name"], [closed["externalId"]])
    _, compiled = pair.compare(GOLDEN)
    assert compiled


FILTERS = st.fixed_dictionaries(
    {},
    optional={
        "remote": st.lists(st.sampled_from(["FULL", "POSSIBLE", "NONE"]), max_size=2),
        "skills": st.lists(
            st.sampled_from(["design-graphique", "developpement-web", "comptabilite", "juridique"]),
            max_size=2,
        ),
        "causes": st.lists(st.sampled_from(["EDUCATION", "SANTE", "ENVIRONNEMENT"]), max_size=2),
        "text": st.sampled_from(["numérique", "aide", "atelier solidaire", "accompagnement"]),
        "status": st.lists(st.sampled_from(["OPEN", "CLOSED", "EXPIRED"]), max_size=2),
        "departmentCodes": st.lists(st.sampled_from(["75", "69", "13", "33"]), max_size=2),
        "engagementTypes": st.lists(
            st.sampled_from(["VOLUNTEERING", "SKILLS_VOLUNTEERING"]), max_size=1
        ),
        "near": st.sampled_from(
            [
                {"latitude": 48.8566, "longitude": 2.3522, "radiusKm": 30},
                {"latitude": 45.764, "longitude": 4.8357, "radiusKm": 80},
                {
                    "latitude": 43.2965,
                    "longitude": 5.3698,
                    "radiusKm": 150,
                    "includeFullyRemote": True,
                },
            ]
        ),
    },
)
FACETS = (
    "facets { causes { value count } skills { count value } remote { value count } "
    "departments { value count } partners { value count __typename } __typename }"
)


@hsettings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    fields=st.lists(st.sampled_from(MISSION_FIELDS), min_size=1, max_size=6, unique=True),
    flt=FILTERS,
    order=st.sampled_from(["RECENT", "RELEVANCE", "STARTING_SOON", "NEAREST"]),
    first=st.integers(min_value=0, max_value=30),
    pages=st.integers(min_value=1, max_value=3),
    count=st.booleans(),
    facets=st.booleans(),
    cursors=st.booleans(),
)
def test_drawn_documents_answer_alike(
    pair: Pair,
    fields: list[str],
    flt: dict[str, Any],
    order: str,
    first: int,
    pages: int,
    count: bool,
    facets: bool,
    cursors: bool,
) -> None:
    query = (
        "query Drawn($filter: MissionFilterInput, $first: Int, $after: String, "
        "$orderBy: MissionOrder!) { missions(filter: $filter, first: $first, after: $after, "
        "orderBy: $orderBy) { "
        + ("totalCount " if count else "")
        + (FACETS if facets else "")
        + " pageInfo { endCursor "
        "hasNextPage } edges { "
        + ("cursor " if cursors else "")
        + "node { "
        + " ".join(fields)
        + " } } } }"
    )
    after = None
    for _ in range(pages):
        variables = {"filter": flt, "first": first, "after": after, "orderBy": order}
        answer, compiled = pair.compare(query, variables)
        if "errors" in answer:  # a refused input: the generic path answers it (compared above)
            break
        assert compiled, (query, variables)
        info = answer["data"]["missions"]["pageInfo"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
