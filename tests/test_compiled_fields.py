"""The compiled read path's per-root-field fallback against the generic executor.

A document whose root fields are partly covered answers its covered `missions` fields from
their statements and the others on the generic executor (schema/compiled_assembly.py). The same
two apps as tests/test_compiled.py (one compiling, one generic, over one store, the response
cache off) answer documents mixing `missions` with other root fields, errors in the generic part,
variables and fragments used by both parts; the answers must be equal, and the metrics say which
root fields were compiled. CI runs it on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from hub.clock import ManualClock
from hub.settings import Settings
from hub.web.app import create_app
from tests import test_compiled
from tests.test_compiled import COMPILED, FILTERS, MISSION_FIELDS, OPERATIONS, Pair, _differences
from tests.test_response_cache import metric

demo_drafts = test_compiled.demo_drafts  # the fixtures: the demo catalogue, the two apps
pair = test_compiled.pair


def count(app: TestClient, series: str) -> float:
    try:
        return metric(app, series)
    except StopIteration:
        return 0.0


def fallback(reason: str) -> str:
    return f'hub_compiled_reads_total{{outcome="fallback",reason="{reason}"}}'


def compare(
    pair: Pair, query: str, variables: dict[str, Any] | None = None, compiled: int = 1
) -> Any:
    """Both apps' answers (the compiling one asked twice: it plans on the first) must be equal,
    and the second answer must have compiled `compiled` root fields. Returns the answer."""
    variables = variables or {}
    expected = pair.ask(pair.generic, query, variables)
    first = pair.ask(pair.compiled, query, variables)
    before = count(pair.compiled, COMPILED)
    second = pair.ask(pair.compiled, query, variables)
    assert first == expected, (_differences(first, expected)[:5], query)
    assert second == expected, (_differences(second, expected)[:5], query, variables)
    assert list(second.get("data") or {}) == list(expected.get("data") or {})  # key order
    assert count(pair.compiled, COMPILED) - before == compiled, (query, variables)
    return expected


PAGE = "edges { cursor node { id title skills { slug } organization { name } } } pageInfo { " \
    "endCursor hasNextPage }"  # fmt: skip


def test_missions_next_to_other_root_fields(pair: Pair) -> None:
    """The covered `missions` is compiled; partners, skills, causes, a mission by id and a
    `missions` asking for listings are answered by the executor, each counted with its reason."""
    listed = pair.ask(pair.generic, "{ missions(first: 2) { nodes { id } } }", {})
    some_id = listed["data"]["missions"]["nodes"][1]["id"]
    query = (
        "query Mixed($id: ID!) { partners { name displayName } "
        f"missions(first: 5, filter: {{remote: [FULL]}}) {{ totalCount {PAGE} }} "
        "skills { slug label } causes { value label } mission(id: $id) { id title "
        "listings { externalId } } "
        'near: missions(first: 3, filter: {departmentCode: "75"}) { nodes { id title } } '
        "withListings: missions(first: 2) { nodes { id listings { externalId } } } "
        "__typename }"
    )
    reasons = {r: count(pair.compiled, fallback(r)) for r in ("root_partners", "mission_listings")}
    answer = compare(pair, query, {"id": some_id}, compiled=2)
    assert answer["data"]["missions"]["edges"] and answer["data"]["partners"]
    assert answer["data"]["mission"]["id"] == some_id
    assert count(pair.compiled, fallback("root_partners")) == reasons["root_partners"] + 1
    assert count(pair.compiled, fallback("mission_listings")) == reasons["mission_listings"] + 1
    assert count(pair.compiled, fallback("root_skills")) == 1
    assert count(pair.compiled, fallback("root_mission")) == 1


def test_variables_and_fragments_used_by_both_parts(pair: Pair) -> None:
    """A variable and a fragment both parts use, a fragment and a variable only the compiled
    part uses (the executor's document must not keep them), a root-level fragment spanning
    both parts, and an inline fragment at the root."""
    query = """query Both($first: Int, $filter: MissionFilterInput, $only: [String!],
        $id: ID!) {
      ...Roots
      ... on Query { again: missions(first: $first, filter: {skills: $only}) { nodes { ...M } } }
      mission(id: $id) { ...M }
    }
    fragment Roots on Query {
      missions(first: $first, filter: $filter) { edges { node { ...M ...Only } } }
      partners { name }
    }
    fragment M on Mission { id title remote }
    fragment Only on Mission { postedAt }
    """
    listed = pair.ask(pair.generic, "{ missions(first: 1) { nodes { id } } }", {})
    variables = {
        "first": 4,
        "filter": {"remote": ["FULL", "POSSIBLE"]},
        "only": ["design-graphique"],
        "id": listed["data"]["missions"]["nodes"][0]["id"],
    }
    answer = compare(pair, query, variables, compiled=2)
    assert list(answer["data"]) == ["missions", "partners", "again", "mission"]


def test_only_the_compiled_part_uses_every_variable(pair: Pair) -> None:
    """The executor's document loses its whole variable list."""
    query = """query Page($first: Int!) {
      missions(first: $first) { nodes { id } }
      causes { value }
    }"""
    compare(pair, query, {"first": 3})


REPORT = """query Report($from: Date!, $to: Date!, $first: Int) {
  missions(first: $first) { nodes { id title } }
  engagementReport(from: $from, to: $to) { __typename }
  missionEvents(first: $first) { __typename }
}"""


def test_an_error_in_a_non_null_generic_root_field_nulls_the_data(pair: Pair) -> None:
    """The executor's errors are the answer's, with their paths and locations; a non-null root
    field that fails makes `data` null (GraphQL's null propagation): the compiled field's answer
    is not shown. The document was planned on a run without errors."""
    planned = compare(pair, REPORT, {"from": "2025-01-01", "to": "2025-06-01", "first": 2})
    assert planned["data"]["missions"]["nodes"]
    answer = compare(pair, REPORT, {"from": "2020-01-01", "to": "2025-06-01", "first": 2})
    assert answer["data"] is None
    assert [e["path"] for e in answer["errors"]] == [["engagementReport"]]


def test_what_stays_whole_on_the_generic_path(pair: Pair) -> None:
    """Directives on root fields, a refused input and a cost over the limit run the whole
    document on the executor, counted once with their reason."""
    directives = """query D($on: Boolean!) { missions(first: 2) { nodes { id } }
      partners @include(if: $on) { name } }"""
    compare(pair, directives, {"on": True}, compiled=0)
    assert count(pair.compiled, fallback("directives")) == 1
    refused = "query R($after: String) { missions(first: 2, after: $after) { nodes { id } } " \
        "partners { name } }"  # fmt: skip
    compare(pair, refused, {"after": None})
    answer = compare(pair, refused, {"after": "not a cursor"}, compiled=0)
    assert answer["errors"]
    assert count(pair.compiled, fallback("refused_input")) == 2  # asked twice
    costly = "query C($first: Int) { missions(first: $first) { nodes { id } } partners { name } }"
    compare(pair, costly, {"first": 2})
    answer = compare(pair, costly, {"first": 100000}, compiled=0)
    assert answer["errors"]


def test_a_mixed_answer_is_kept_by_the_response_cache_whole(
    pair: Pair, settings: Settings, clock: ManualClock
) -> None:
    """With the response cache on, the assembled answer is kept under the whole document and
    sent again on a hit, the same as the generic path's. (On PostgreSQL the first request's
    own writes, its persisted document, may reach the cache after a later answer was kept and
    drop it: the answer is asked again until it is a hit, a few times at most.)"""
    query = (
        "query C($first: Int) { missions(first: $first) { nodes { id title } } causes { value } }"
    )
    expected = pair.ask(pair.generic, query, {"first": 4})
    cached = settings.model_copy(update={"response_cache": True, "compiled_reads": True})
    with TestClient(create_app(cached, clock)) as app:
        pair.ask(app, query, {"first": 3})  # planned (and kept for those variables)
        answers = []
        while metric(app, "hub_response_cache_hits_total") == 0 and len(answers) < 10:
            answers.append(pair.ask(app, query, {"first": 4}))
        assert metric(app, "hub_response_cache_hits_total") == 1
        assert count(app, COMPILED) == len(answers) - 1  # computed mixed, then a hit
    assert len(answers) >= 2 and answers == [expected] * len(answers)


@pytest.mark.parametrize("operation", ["employee-recommendations", "mission-detail"])
def test_example_operations_answer_alike(pair: Pair, operation: str) -> None:
    """schema/operations' documents without a covered `missions`: the executor answers them."""
    query = (OPERATIONS / f"{operation}.graphql").read_text()
    expected = pair.ask(pair.generic, query, {})
    assert pair.ask(pair.compiled, query, {}) == expected
    assert pair.ask(pair.compiled, query, {}) == expected


@hsettings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    fields=st.lists(st.sampled_from(MISSION_FIELDS), min_size=1, max_size=4, unique=True),
    flt=FILTERS,
    order=st.sampled_from(["RECENT", "RELEVANCE", "STARTING_SOON"]),
    first=st.integers(min_value=0, max_value=20),
    others=st.lists(
        st.sampled_from(
            [
                "partners { name connector }",
                "skills { slug family }",
                "causes { value label }",
                "listed: missions(first: $first) { nodes { id alsoPublishedOn { name } } }",
                "organizations(first: 2) { __typename }",
            ]
        ),
        min_size=1,
        max_size=3,
        unique=True,
    ),
    last=st.booleans(),
)
def test_drawn_mixed_documents_answer_alike(
    pair: Pair,
    fields: list[str],
    flt: dict[str, Any],
    order: str,
    first: int,
    others: list[str],
    last: bool,
) -> None:
    covered = (
        "missions(filter: $filter, first: $first, orderBy: $orderBy) { pageInfo { hasNextPage } "
        "edges { node { " + " ".join(fields) + " } } }"
    )
    roots = [*others, covered] if last else [covered, *others]
    query = (
        "query Drawn($filter: MissionFilterInput, $first: Int, $orderBy: MissionOrder!) { "
        + " ".join(roots)
        + " }"
    )
    variables = {"filter": flt, "first": first, "orderBy": order}
    expected = pair.ask(pair.generic, query, variables)
    compiled = 0 if "errors" in expected else 1
    compare(pair, query, variables, compiled=compiled)
