"""Automatic persisted queries as Apollo clients send them, and trusted documents per client,
through the real ASGI app and the real command line."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from hub.cli import main
from hub.settings import Settings
from hub.storage.db import make_engine
from hub.storage.tables import persisted_documents
from tests.conftest import Clients

QUERY = "query Count { missions(first: 1) { totalCount } }"
COUNTED = {"data": {"missions": {"totalCount": 0}}}


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def apq(digest: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


def send(
    http: TestClient, token: str | None, query: str | None = None, **body: Any
) -> httpx.Response:
    payload = {**({"query": query} if query is not None else {}), **body}
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return http.post("/graphql", json=payload, headers=headers)


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["errors"][0]["extensions"]["code"]
    return code


def stored(settings: Settings) -> list[tuple[str, int | None]]:
    async def go() -> list[tuple[str, int | None]]:
        engine = make_engine(settings)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    select(persisted_documents.c.sha256, persisted_documents.c.client_pk)
                )
                return [(row.sha256, row.client_pk) for row in rows]
        finally:
            await engine.dispose()

    return asyncio.run(go())


# --- automatic persisted queries ------------------------------------------------------------


def test_apollo_round_trip(client: TestClient, company_token: str, settings: Settings) -> None:
    digest = sha(QUERY)
    unknown = send(client, company_token, extensions=apq(digest))
    assert unknown.status_code == 200  # a 400 would turn APQ off in Apollo clients
    assert unknown.json()["errors"] == [
        {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
    ]
    registered = send(client, company_token, QUERY, extensions=apq(digest))
    assert registered.json() == COUNTED
    assert stored(settings) == [(digest, None)]
    assert send(client, company_token, extensions=apq(digest)).json() == COUNTED
    send(client, company_token, QUERY, extensions=apq(digest))
    assert stored(settings) == [(digest, None)]  # kept once


def test_apq_over_get(client: TestClient, company_token: str) -> None:
    digest = sha(QUERY)
    params = {"extensions": json.dumps(apq(digest))}
    # Accept: text/html would show the explorer for a bare GET; a hash is an operation.
    headers = {"Authorization": f"Bearer {company_token}", "Accept": "text/html, */*"}
    unknown = client.get("/graphql", params=params, headers=headers)
    assert error_code(unknown) == "PERSISTED_QUERY_NOT_FOUND"
    assert "no-store" in unknown.headers["cache-control"]
    registered = client.get("/graphql", params={**params, "query": QUERY}, headers=headers)
    assert registered.json() == COUNTED
    assert client.get("/graphql", params=params, headers=headers).json() == COUNTED


def test_hash_must_match_the_query(client: TestClient, company_token: str) -> None:
    response = send(client, company_token, QUERY, extensions=apq(sha(QUERY + " ")))
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "provided sha does not match query"
    assert error_code(response) == "PERSISTED_QUERY_HASH_MISMATCH"


def test_malformed_persisted_query_extension(client: TestClient, company_token: str) -> None:
    for extension, code in (
        ({"persistedQuery": {"version": 2, "sha256Hash": "0" * 64}}, "NOT_SUPPORTED"),
        ({"persistedQuery": {"version": 1, "sha256Hash": "not-a-digest"}}, "BAD_REQUEST"),
        ({"persistedQuery": "yes"}, "NOT_SUPPORTED"),
    ):
        response = send(client, company_token, extensions=extension)
        assert response.status_code == 400
        assert error_code(response).endswith(code)


def test_only_documents_that_ran_are_kept(
    client: TestClient, company_token: str, settings: Settings
) -> None:
    invalid = "{ missionz }"
    send(client, company_token, invalid, extensions=apq(sha(invalid)))
    anonymous = "{ __typename }"
    assert send(client, None, anonymous, extensions=apq(sha(anonymous))).json() == {
        "data": {"__typename": "Query"}
    }
    assert stored(settings) == []  # neither the invalid one nor the anonymous caller's
    assert error_code(send(client, None, extensions=apq(sha(anonymous)))) == (
        "PERSISTED_QUERY_NOT_FOUND"
    )


def test_limits_apply_to_persisted_documents(client: TestClient, company_token: str) -> None:
    deep = "{" + "missions {" * 20 + "id" + "}" * 20 + "}"
    response = send(client, company_token, deep, extensions=apq(sha(deep)))
    assert error_code(response) == "DEPTH_LIMIT_EXCEEDED"


# --- trusted documents ----------------------------------------------------------------------

DOCUMENT = """query Count { missions(first: 1) { totalCount } }
query Partners { partners { name } }
"""


def register(tmp_path: Path, client_id: str, text: str, capsys: pytest.CaptureFixture[str]) -> str:
    path = tmp_path / "intranet.graphql"
    path.write_text(text, encoding="utf-8")
    assert main(["documents", "add", "--client", client_id, str(path)]) == 0
    out, err = capsys.readouterr()
    assert f"for {client_id} (operations: Count, Partners)" in err
    return out.strip()


@pytest.fixture
def cli_database(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("HUB_DATABASE_URL", settings.database_url)
    return settings


def test_trusted_client_runs_only_its_registered_documents(
    client: TestClient,
    clients: Clients,
    cli_database: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    trusted = clients.create("company", "Locked")
    other = clients.create("company", "Other")
    clients.store(lambda store: store.set_trusted_documents_only(trusted.client_id, True))
    token, other_token = clients.token(trusted), clients.token(other)

    digest = register(tmp_path, trusted.client_id, DOCUMENT, capsys)
    assert digest == sha(DOCUMENT)

    # By hash, with the operation's name; or as the exact text.
    by_hash = send(client, token, operationName="Count", extensions=apq(digest))
    assert by_hash.json() == COUNTED
    by_text = send(client, token, DOCUMENT, operationName="Partners")
    assert by_text.json() == {"data": {"partners": []}}

    # Anything else is refused, whoever else registered it.
    for refused in (
        send(client, token, QUERY),  # not registered
        send(client, token, DOCUMENT + " "),  # not the exact text
        send(client, token, extensions=apq(sha(QUERY))),
    ):
        assert refused.status_code == 403, refused.text
        assert error_code(refused) == "PERSISTED_QUERY_NOT_IN_LIST"
        assert "documents add" in refused.json()["errors"][0]["message"]
    send(client, other_token, QUERY, extensions=apq(sha(QUERY)))  # an APQ anyone may use
    assert error_code(send(client, token, extensions=apq(sha(QUERY)))) == (
        "PERSISTED_QUERY_NOT_IN_LIST"
    )

    # Other clients are not restricted, and may not use another client's documents as APQs.
    assert send(client, other_token, QUERY).json() == COUNTED
    assert error_code(send(client, other_token, extensions=apq(digest))) == (
        "PERSISTED_QUERY_NOT_FOUND"
    )


def test_documents_cli(
    clients: Clients,
    cli_database: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    company = clients.create("company", "ACME")
    digest = register(tmp_path, company.client_id, DOCUMENT, capsys)
    assert register(tmp_path, company.client_id, DOCUMENT, capsys) == digest  # idempotent
    assert main(["documents", "list"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(d["sha256"], d["client_id"], d["name"]) for d in listed] == [
        (digest, company.client_id, "intranet")
    ]

    bad = tmp_path / "bad.graphql"
    for text, says in (
        ("{ missionz }", "not valid"),
        ("query {", "does not parse"),
        ("fragment F on Query { __typename }", "not valid"),
    ):
        bad.write_text(text, encoding="utf-8")
        assert main(["documents", "add", "--client", company.client_id, str(bad)]) == 2
        assert says in capsys.readouterr().err
    assert main(["documents", "add", "--client", "nobody", str(bad)]) == 2
    assert "no client 'nobody'" in capsys.readouterr().err
