"""GraphQL over HTTP: content negotiation and status codes, then graphql-http's own audit suite
(npm graphql-http, serverAudits) against a real hub on loopback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

import pytest
from starlette.testclient import TestClient

from hub.clock import ManualClock
from hub.settings import Settings
from hub.web.app import create_app
from tests.conftest import ROOT, require
from tests.servers import serve

GRAPHQL_RESPONSE = "application/graphql-response+json"
NODE_TOOLS = ROOT / "tests" / "node"


def post(client: TestClient, token: str | None, accept: str | None, **body: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if accept is not None:
        headers["Accept"] = accept
    return client.post("/graphql", json=body, headers=headers)


# --- content negotiation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),  # Apollo, urql
        (f"application/json, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", "application/json"),
        (f"{GRAPHQL_RESPONSE};q=0", "application/json"),
        ("application/json, multipart/mixed", "application/json"),  # GraphiQL
    ],
)
def test_the_response_media_type_follows_accept(
    client: TestClient, company_token: str, accept: str | None, media_type: str
) -> None:
    response = post(client, company_token, accept, query="{ __typename }")
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    assert "Accept" in response.headers["vary"]
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"query": "{"}, "GRAPHQL_PARSE_FAILED"),
        ({"query": "{ noSuchField }"}, None),
        (
            {
                "query": "query($n: Int!) { missions(first: $n) { totalCount } }",
                "variables": {"n": 1.5},
            },
            None,
        ),
        ({"query": "query A { __typename } query B { __typename }", "operationName": "C"}, None),
    ],
    ids=["parse", "validation", "variables", "no-such-operation"],
)
def test_request_errors_are_400_without_data_in_graphql_response_json(
    client: TestClient, company_token: str, body: dict[str, Any], code: str | None
) -> None:
    response = post(client, company_token, GRAPHQL_RESPONSE, **body)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    answer = response.json()
    assert "data" not in answer and answer["errors"], answer
    if code:
        assert answer["errors"][0]["extensions"]["code"] == code


@pytest.mark.parametrize("name", [{"obj": "ect"}, 0, False, ["array"]])
def test_an_operation_name_that_is_not_a_string_is_refused(
    client: TestClient, company_token: str, name: Any
) -> None:
    response = post(client, company_token, None, query="{ __typename }", operationName=name)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_legacy_json_keeps_data_null_on_request_errors(
    client: TestClient, company_token: str
) -> None:
    response = post(client, company_token, "application/json", query="{ noSuchField }")
    assert response.status_code == 200  # the spec's SHOULD for application/json
    assert response.json()["data"] is None


def test_field_errors_are_200_with_data_in_graphql_response_json(
    client: TestClient, company_token: str
) -> None:
    response = post(
        client, company_token, GRAPHQL_RESPONSE, query='{ missions(after: "bad") { totalCount } }'
    )
    assert response.status_code == 200
    body = response.json()
    assert body["data"] is None and body["errors"][0]["path"] == ["missions"]


def test_refusals_are_graphql_response_json_too(client: TestClient, company_token: str) -> None:
    bad_token = post(client, "not-a-jwt", GRAPHQL_RESPONSE, query="{ __typename }")
    assert bad_token.status_code == 401
    assert bad_token.headers["content-type"] == GRAPHQL_RESPONSE
    mutation = client.get(
        "/graphql",
        params={"query": 'mutation { closeMissions(externalIds: ["x"]) { externalId } }'},
        headers={"Authorization": f"Bearer {company_token}", "Accept": GRAPHQL_RESPONSE},
    )
    assert mutation.status_code == 405
    assert mutation.headers["content-type"] == GRAPHQL_RESPONSE
    assert "data" not in mutation.json()


# --- graphql-http's audit suite ---------------------------------------------------------------


def test_graphql_http_audit_has_no_must_failure(
    settings: Settings, company_token: str, clock: ManualClock
) -> None:
    node = shutil.which("node")
    require(node is not None, "Node.js is not installed")
    installed = (NODE_TOOLS / "node_modules" / "graphql-http" / "package.json").exists()
    require(installed, "the Node test tools are not installed: run `npm ci` in tests/node")
    assert node is not None
    with serve(create_app(settings, clock)) as origin:
        run = subprocess.run(
            [node, str(NODE_TOOLS / "audit.mjs"), f"{origin}/graphql"],
            cwd=NODE_TOOLS,
            env={**os.environ, "HUB_TOKEN": company_token},
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert run.returncode == 0, run.stderr
    results: list[dict[str, Any]] = json.loads(run.stdout)
    counts: dict[str, dict[str, int]] = {}
    for result in results:
        level = result["name"].split()[0]
        counts.setdefault(level, {}).setdefault(result["status"], 0)
        counts[level][result["status"]] += 1
        if result["status"] != "ok":
            print(f"{result['status']:6} {result['id']} {result['name']}: {result['reason']}")
            print(f"       {json.dumps(result['detail'], ensure_ascii=False)[:300]}")
    print("graphql-http audit:", json.dumps(counts, sort_keys=True))
    assert len(results) > 50, "the audit suite ran only in part"
    failed = [r for r in results if r["status"] == "error"]
    assert failed == [], "\n".join(f"{r['id']} {r['name']}: {r['reason']}" for r in failed)
