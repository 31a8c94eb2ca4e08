"""The hub as an Apollo Federation v2 subgraph: `_service`, `_entities` (batched, under the
caller's scope and policy), and composition with a company's subgraph by both composers."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from starlette.testclient import TestClient

from hub.catalogue.filters import Policy
from hub.catalogue.model import MissionDraft, OrganizationDraft, Remote
from tests.catalogue import INGEST_AT, catalogue
from tests.conftest import ROOT, Clients, GraphQL, Store, require

NODE_DIR = ROOT / "tests" / "node"
FEDERATION_DIR = ROOT / "tests" / "federation"
COMPOSERS = ("@apollo/composition", "@theguild/federation-composition")

ENTITIES = """
query Entities($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on Mission {
      id title remote
      partner { name }
      organization { id name }
      locations { city }
      causes { value }
      skills { slug }
      alsoPublishedOn { name }
    }
    ... on Organization { id name rna }
  }
}
"""


def missions(ids: list[str]) -> dict[str, Any]:
    return {"representations": [{"__typename": "Mission", "id": i} for i in ids]}


@pytest.fixture
def seeded(store: Store) -> dict[str, str]:
    """The handcrafted catalogue; returns each mission's id by its externalId."""
    ids = {}
    for partner, drafts in catalogue().items():
        report = store.ingest(partner, drafts, now=INGEST_AT)
        ids.update({r.external_id: r.mission_id or "" for r in report.batch.results})
    return ids


# --- _service --------------------------------------------------------------------------------


def test_service_sdl_is_the_published_file(data: GraphQL) -> None:
    sdl = data("{ _service { sdl } }")["_service"]["sdl"]
    committed = (ROOT / "schema" / "schema.graphql").read_text(encoding="utf-8")
    assert sdl.rstrip() == committed.rstrip()
    assert '@link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])' in sdl
    assert 'type Mission implements Node @key(fields: "id")' in sdl
    assert 'type Organization implements Node @key(fields: "id")' in sdl


# --- _entities -------------------------------------------------------------------------------


def test_entities_resolve_missions_and_organizations_in_order(
    seeded: dict[str, str], data: GraphQL
) -> None:
    a1 = data(ENTITIES, missions([seeded["A1"]]))["_entities"][0]
    org = a1["organization"]
    representations = [
        {"__typename": "Organization", "id": org["id"]},
        {"__typename": "Mission", "id": seeded["B2"]},
        {"__typename": "Mission", "id": "mis_unknown"},
        {"__typename": "Organization", "id": "org_unknown"},
        {"__typename": "Mission", "id": seeded["A1"]},
    ]
    found = data(ENTITIES, {"representations": representations})["_entities"]
    assert found == [
        {
            "__typename": "Organization",
            "id": org["id"],
            "name": "Code Solidaire",
            "rna": "W751000001",
        },
        {
            "__typename": "Mission",
            "id": seeded["B2"],
            "title": "Service civique dans les écoles",
            "remote": "NONE",
            "partner": {"name": "beta"},
            "organization": None,
            "locations": [{"city": "Marseille"}],
            "causes": [{"value": "EDUCATION"}],
            "skills": [],
            "alsoPublishedOn": [],
        },
        None,
        None,
        a1,
    ]
    assert a1["title"] == "Développeur web pour une association"


def test_entities_follow_the_company_policy(
    seeded: dict[str, str], clients: Clients, gql: GraphQL
) -> None:
    created = clients.create("company", "Alpha only")
    clients.store(lambda store: store.set_policy(created.client_id, Policy(partners=("alpha",))))
    token = clients.token(created)
    body = gql(ENTITIES, missions([seeded["A1"], seeded["B1"]]), token=token)
    assert "errors" not in body, body
    assert [m and m["id"] for m in body["data"]["_entities"]] == [seeded["A1"], None]


def test_entities_need_the_read_scope(
    seeded: dict[str, str], client: TestClient, clients: Clients
) -> None:
    partner = clients.token(clients.create("partner", "Alpha", partner="alpha"))
    # Without a token, refused before the document is read; without the scope, as it runs.
    for token, status, code in ((None, 401, "UNAUTHENTICATED"), (partner, 200, "FORBIDDEN")):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = client.post(
            "/graphql",
            json={"query": ENTITIES, "variables": missions([seeded["A1"]])},
            headers=headers,
        )
        assert response.status_code == status, response.text
        body = response.json()
        assert body.get("data") is None, body
        assert [e["extensions"]["code"] for e in body["errors"]] == [code], body


@pytest.mark.parametrize(
    "representation",
    [{"id": "mis_x"}, {"__typename": "Partner", "id": "ptn_x"}, {"__typename": "Mission"}, "mis_x"],
)
def test_a_malformed_representation_is_refused(representation: Any, gql: GraphQL) -> None:
    body = gql(ENTITIES, {"representations": [representation]})
    assert body["data"] is None, body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["message"].startswith("representations[0]: expected {__typename, id}")


# --- batching: one query a type, whatever the number of representations -----------------------

CATALOGUE_TABLES = re.compile(r"\bFROM (missions|organizations|partners|mission_\w+)\b")
MISSIONS_BY_ID = re.compile(r"\bFROM missions\s+WHERE missions\.id IN\b")
ORGANIZATIONS_BY_ID = re.compile(r"\bFROM organizations\s+WHERE organizations\.id IN\b")


@pytest.fixture
def statements(client: TestClient) -> Iterator[list[str]]:
    """The SQL statements the app's engine runs on the catalogue tables (auth lookups aside)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statement = " ".join(statement.split())
        if CATALOGUE_TABLES.search(statement):
            seen.append(statement)

    engine = client.app.state.engine.sync_engine  # type: ignore[attr-defined]
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def hundred(store: Store) -> list[str]:
    drafts = [
        MissionDraft(
            external_id=f"E{i:03d}",
            title=f"Mission {i}",
            application_url=f"https://partner.example/missions/E{i:03d}",
            remote=Remote.FULL,
            causes=["autre"],
            organization=OrganizationDraft(name=f"Association numéro {i}"),
        )
        for i in range(100)
    ]
    report = store.ingest("alpha", drafts, now=INGEST_AT)
    return [r.mission_id or "" for r in report.batch.results]


def test_hundred_entities_cost_one_query_a_type(
    store: Store, data: GraphQL, statements: list[str]
) -> None:
    ids = hundred(store)
    costs = {}
    for count in (1, 100):
        statements.clear()
        found = data(ENTITIES, missions(ids[:count]))["_entities"]
        assert [m["id"] for m in found] == ids[:count]
        assert [m["organization"]["name"] for m in found][-1] == f"Association numéro {count - 1}"
        assert len([s for s in statements if MISSIONS_BY_ID.search(s)]) == 1, statements
        costs[count] = len(statements)
    # The missions by id, then the page loader's child lookups, once a batch (organizations,
    # locations, causes, skills, other listings; partners until cached): a fixed number.
    assert costs[100] <= costs[1] <= 10, (costs, statements)

    organizations = [m["organization"]["id"] for m in found]
    statements.clear()
    representations = [{"__typename": "Organization", "id": i} for i in organizations]
    found = data(ENTITIES, {"representations": representations})["_entities"]
    assert [o["id"] for o in found] == organizations
    # Besides the response cache's read of the log position, before the operation runs.
    read = [s for s in statements if not s.startswith("SELECT max(mission_events.seq)")]
    assert len(read) == 1 and ORGANIZATIONS_BY_ID.search(read[0]), statements


# --- composition with a company's subgraph, by both composers ----------------------------------


def node_tooling() -> str:
    """The node executable, when it and tests/node's packages are there; else skip, or fail
    in CI (where .ci/run installs them)."""
    node = shutil.which("node")
    reason = None
    if node is None or shutil.which("npm") is None:
        reason = "node and npm are not installed"
    else:
        absent = [p for p in COMPOSERS if not (NODE_DIR / "node_modules" / p).is_dir()]
        if absent:
            reason = f"{', '.join(absent)} missing: run `npm ci` in tests/node"
    if reason is not None:
        require(False, reason)
    assert node is not None
    return node


def compose(node: str, *subgraphs: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [node, str(FEDERATION_DIR / "compose.mjs"), *subgraphs],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_hub_composes_with_a_company_subgraph(data: GraphQL, tmp_path: Path) -> None:
    node = node_tooling()
    hub_sdl = tmp_path / "hub.graphql"
    hub_sdl.write_text(data("{ _service { sdl } }")["_service"]["sdl"], encoding="utf-8")
    result = compose(node, f"hub={hub_sdl}", str(FEDERATION_DIR / "employees.graphql"))
    print(result.stdout)  # the composers' hints, for whoever reads the log
    assert result.returncode == 0, result.stdout + result.stderr
    for composer in ("apollo", "guild"):
        assert f"{composer}: ok, 2 subgraphs (hub, employees)" in result.stdout


def test_a_composition_error_fails(tmp_path: Path) -> None:
    """The script is the judge above: it must say no when a subgraph conflicts with the hub."""
    node = node_tooling()
    clash = tmp_path / "clash.graphql"
    clash.write_text(
        'extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])\n'
        'type Mission @key(fields: "id") { id: ID! title: Int }\n'
        "type Query { clash: Int }\n",
        encoding="utf-8",
    )
    result = compose(node, f"hub={ROOT / 'schema' / 'schema.graphql'}", str(clash))
    assert result.returncode == 1, result.stdout + result.stderr
    for composer in ("apollo", "guild"):
        assert f"{composer}: error [FIELD_TYPE_MISMATCH]" in result.stderr, result.stderr
