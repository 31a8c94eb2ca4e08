"""The schema as published: documented throughout, its example operations valid and working, and
no breaking change against the last release that CHANGELOG.md does not announce."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    BreakingChange,
    BreakingChangeType,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    build_ast_schema,
    find_breaking_changes,
    parse,
    validate,
)
from starlette.testclient import TestClient

from schema import build_schema
from tests.catalogue import INGEST_AT, catalogue
from tests.conftest import ROOT, Clients, Store

SDL = ROOT / "schema" / "schema.graphql"
OPERATIONS = ROOT / "schema" / "operations"
RELEASED = ROOT / "schema" / "released"
CHANGELOG = ROOT / "CHANGELOG.md"

# What Apollo Federation and the @link spec put in a subgraph's SDL: theirs to document.
FEDERATION_BUILT_INS = frozenset(
    {"_Any", "_Entity", "_Service", "_FieldSet", "link__Import", "link__Purpose"}
)
FEDERATION_FIELDS = frozenset({"Query._entities", "Query._service"})


def sdl_schema(sdl: str) -> GraphQLSchema:
    """A schema from a subgraph's SDL, whose federation directives are not defined in it."""
    return build_ast_schema(parse(sdl), assume_valid_sdl=True)


# --- descriptions ----------------------------------------------------------------------------


def undocumented(schema: GraphQLSchema) -> list[str]:
    """Schema coordinates without a description, federation built-ins aside."""
    missing = []
    for name, named in schema.type_map.items():
        if name.startswith("__") or name in FEDERATION_BUILT_INS:
            continue
        if not named.description:
            missing.append(name)
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for field_name, field in named.fields.items():
                coordinate = f"{name}.{field_name}"
                if coordinate in FEDERATION_FIELDS:
                    continue
                if not field.description:
                    missing.append(coordinate)
                for arg_name, arg in getattr(field, "args", {}).items():
                    if not arg.description:
                        missing.append(f"{coordinate}({arg_name}:)")
        elif isinstance(named, GraphQLEnumType):
            missing += [f"{name}.{v}" for v, value in named.values.items() if not value.description]
    return missing


def test_every_type_field_argument_and_value_of_the_sdl_is_described() -> None:
    missing = undocumented(sdl_schema(SDL.read_text(encoding="utf-8")))
    assert not missing, f"describe these in the code, then `entraide-hub schema export`: {missing}"


def test_an_undocumented_element_is_found() -> None:
    schema = sdl_schema(
        '"""Root."""\ntype Query {\n  """Documented."""\n  a(x: Int): Color\n  b: Int\n}\n'
        '"""Colour."""\nenum Color {\n  """Red."""\n  RED\n  BLUE\n}\n'
        "type Bare { c: Int }\n"
    )
    assert undocumented(schema) == ["Query.a(x:)", "Query.b", "Color.BLUE", "Bare", "Bare.c"]


# --- example operations ------------------------------------------------------------------------

CALLERS = {
    "intranet-search.graphql": "query",
    "mission-detail.graphql": "query",
    "live-feed.graphql": "subscription",
    "partner-push.graphql": "mutation",
    "operator-health.graphql": "query",
}


def test_each_caller_has_its_example_operations() -> None:
    assert {path.name for path in OPERATIONS.glob("*.graphql")} >= set(CALLERS)
    for name, kind in CALLERS.items():
        document = parse((OPERATIONS / name).read_text(encoding="utf-8"))
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        assert operations and {o.operation.value for o in operations} == {kind}, name
        assert all(o.name for o in operations), f"{name}: name every operation"


@pytest.mark.parametrize(
    "path", sorted(OPERATIONS.glob("*.graphql")), ids=lambda path: str(path.name)
)
def test_example_operations_validate_against_the_schema(path: Path) -> None:
    errors = validate(build_schema()._schema, parse(path.read_text(encoding="utf-8")))
    assert not errors, [error.formatted for error in errors]


PUSHED = {
    "externalId": "42",
    "title": "Mentorat numérique",
    "applicationUrl": "https://partner.example/missions/42",
    "description": "Accompagner des jeunes vers le numérique.",
    "remote": "FULL",
    "causes": ["education"],
    "skills": ["mentorat"],
    "hoursPerWeekMin": 1,
    "hoursPerWeekMax": 2,
    "organization": {"name": "Code Solidaire", "rna": "W751000001"},
}


def test_example_operations_run_within_the_hub_limits(
    store: Store, clients: Clients, client: TestClient, company_token: str
) -> None:
    """Each example, as its caller sends it: within the depth, alias and cost limits."""
    ids = {}
    for partner, drafts in catalogue().items():
        report = store.ingest(partner, drafts, now=INGEST_AT)
        ids.update({r.external_id: r.mission_id for r in report.batch.results})
    partner = clients.token(clients.create("partner", "Alpha", partner="alpha"))
    admin = clients.token(clients.create("admin", "Operator"))
    runs: list[tuple[str, str, dict[str, Any], str]] = [
        (
            "intranet-search.graphql",
            "IntranetSearch",
            {"filter": {"text": "numérique", "remote": ["FULL", "POSSIBLE"]}, "first": 100},
            company_token,
        ),
        ("mission-detail.graphql", "MissionDetail", {"id": ids["A1"]}, company_token),
        ("partner-push.graphql", "PushMissions", {"missions": [PUSHED]}, partner),
        ("partner-push.graphql", "CloseMissions", {"externalIds": ["42", "A2"]}, partner),
        ("operator-health.graphql", "OperatorHealth", {}, admin),
    ]
    results = {}
    for name, operation, variables, token in runs:
        document = (OPERATIONS / name).read_text(encoding="utf-8")
        response = client.post(
            "/graphql",
            json={"query": document, "operationName": operation, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, (operation, body)
        results[operation] = body["data"]
    assert results["IntranetSearch"]["missions"]["totalCount"] >= 2
    assert results["MissionDetail"]["mission"]["organization"]["name"] == "Code Solidaire"
    assert results["PushMissions"]["upsertMissions"]["counts"]["created"] == 1
    assert results["CloseMissions"]["closeMissions"]["counts"]["closed"] == 2
    assert {p["name"] for p in results["OperatorHealth"]["partners"]} == {"alpha", "beta", "gamma"}


# --- breaking changes against the last release ---------------------------------------------------

_COORDINATE = re.compile(r"@?[_A-Za-z]\w*(?:\.[_A-Za-z]\w*)?(?:\([_A-Za-z]\w*:\))?")
_VERSION = re.compile(r"^## \[(\d+\.\d+\.\d+)\]", re.MULTILINE)


def coordinate(change: BreakingChange, old: GraphQLSchema) -> str:
    """The schema coordinate a change is about, as graphql-core's description names it."""
    words = _COORDINATE.findall(change.description)
    specific = [w for w in words if "." in w or "(" in w or w.startswith("@")]
    types = [w for w in words if w in old.type_map]
    if change.type is BreakingChangeType.TYPE_REMOVED_FROM_UNION:
        return types[-1]  # "Partner was removed from union type _Entity.": the union
    return specific[0] if specific else types[0] if types else change.description


def announced(changelog: str) -> set[str]:
    """The coordinates in backticks under `### Breaking` of `## [Unreleased]`."""
    text = re.sub(r"<!--.*?-->", "", changelog, flags=re.DOTALL)
    unreleased = re.search(r"^## \[Unreleased\]\s*$(.*?)(?=^## |\Z)", text, re.M | re.S)
    if unreleased is None:
        return set()
    breaking = re.search(r"^### Breaking\s*$(.*?)(?=^##|\Z)", unreleased.group(1), re.M | re.S)
    if breaking is None:
        return set()
    items = re.findall(r"^\s*[-*] (.*)$", breaking.group(1), re.MULTILINE)
    return {name for item in items for name in re.findall(r"`([^`]+)`", item)}


def unannounced(old_sdl: str, new_sdl: str, changelog: str) -> list[str]:
    old = sdl_schema(old_sdl)
    changes = find_breaking_changes(old, sdl_schema(new_sdl))
    names = announced(changelog)
    return [
        f"`{coordinate(change, old)}`: {change.description}"
        for change in changes
        if coordinate(change, old) not in names
    ]


def releases() -> dict[str, Path]:
    """The released SDLs by version, oldest first."""
    found = {}
    for path in RELEASED.glob("v*.graphql"):
        found[path.stem[1:]] = path
    return dict(sorted(found.items(), key=lambda item: tuple(map(int, item[0].split(".")))))


def test_each_release_of_the_changelog_has_its_sdl_and_back() -> None:
    headings = set(_VERSION.findall(CHANGELOG.read_text(encoding="utf-8")))
    assert headings, "CHANGELOG.md names no release"
    assert set(releases()) == headings, (
        "each `## [X.Y.Z]` of CHANGELOG.md needs schema/released/vX.Y.Z.graphql, and back "
        "(see 'How a release is cut' in CHANGELOG.md)"
    )


def test_no_unannounced_breaking_change_since_the_last_release() -> None:
    version, path = list(releases().items())[-1]
    problems = unannounced(
        path.read_text(encoding="utf-8"),
        SDL.read_text(encoding="utf-8"),
        CHANGELOG.read_text(encoding="utf-8"),
    )
    assert not problems, (
        f"breaking changes since {version}; announce each under `### Breaking` in "
        "`## [Unreleased]` of CHANGELOG.md, naming it in backticks, or undo it:\n"
        + "\n".join(problems)
    )


OLD = """
type Query { missions(first: Int): [Mission!]! mission(id: ID!): Mission }
type Mission { id: ID! title: String! remote: Remote! }
type Organization { id: ID! size: Int }
union Entity = Mission | Organization
enum Remote { FULL POSSIBLE NONE }
"""
NEW = """
type Query { missions: [Mission!]! mission(id: ID!, partner: String!): Mission }
type Mission { id: ID! remote: Remote! }
type Organization { id: ID! size: Int }
union Entity = Mission
enum Remote { FULL NONE }
"""
CHANGES = [
    "Mission.title",
    "Entity",
    "Remote.POSSIBLE",
    "Query.missions(first:)",
    "Query.mission(partner:)",
]


def changelog(*breaking: str) -> str:
    lines = "\n".join(f"- `{name}` explained." for name in breaking)
    return f"# Changelog\n\n## [Unreleased]\n\n### Breaking\n\n{lines or 'None.'}\n\n## [0.1.0]\n"


def test_the_guard_names_each_unannounced_breaking_change() -> None:
    found = unannounced(OLD, NEW, changelog())
    assert sorted(line.split(": ")[0].strip("`") for line in found) == sorted(CHANGES)
    assert "`Mission.title`: Field Mission.title was removed." in found
    assert "`Entity`: Organization was removed from union type Entity." in found


def test_the_guard_accepts_announced_changes_only_under_unreleased_breaking() -> None:
    assert unannounced(OLD, NEW, changelog(*CHANGES)) == []
    assert len(unannounced(OLD, NEW, changelog(*CHANGES[1:]))) == 1
    elsewhere = changelog().replace("## [0.1.0]\n", "## [0.1.0]\n\n### Breaking\n\n- `Entity`\n")
    hidden = changelog(*CHANGES).replace("- `Entity`", "<!-- - `Entity` -->")
    for text in (elsewhere, hidden):
        assert [f for f in unannounced(OLD, NEW, text) if f.startswith("`Entity`")], text
    assert unannounced(OLD, OLD + "type Extra { a: Int }", changelog()) == []
