"""Trust between partners, through the real app with two partner clients: one partner's writes
never change how another partner's missions appear, nor which listing shows a merged mission."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from hub.cli import main
from hub.settings import Settings
from tests.conftest import Clients, GraphQL
from tests.test_push import Partner, item


@pytest.fixture
def alpha(clients: Clients, client: TestClient) -> Partner:
    return Partner(client, clients.token(clients.create("partner", "Alpha", partner="alpha")))


@pytest.fixture
def beta(clients: Clients, client: TestClient) -> Partner:
    return Partner(client, clients.token(clients.create("partner", "Beta", partner="beta")))


ORG = "organization { name url logo rna }"
SHOWN = f"""{{ missions {{ totalCount nodes {{ externalId partner {{ name }} applicationUrl {ORG}
    listings {{ partner {{ name }} externalId applicationUrl }} }} }} }}"""


def mission(ext: str, **changes: Any) -> dict[str, Any]:
    """The same mission as both partners publish it (no identifiers unless given)."""
    values: dict[str, Any] = {
        "title": "Tri des dons",
        "organization": {"name": "Association X"},
        "postedAt": "2026-11-01",
    }
    values.update(changes)
    return item(ext, **values)


def test_a_name_never_lets_a_partner_restyle_anothers_organization(
    alpha: Partner, beta: Partner, data: GraphQL
) -> None:
    beta.upsert(mission("b1", organization={"name": "Association X"}))
    # alpha publishes another mission of "Association X", with its own url and logo.
    alpha.upsert(
        mission(
            "a1",
            title="Collecte de jouets",
            locations=[{"postalCode": "69003", "city": "Lyon"}],
            organization={
                "name": "Association X",
                "url": "https://alpha.example/x",
                "logo": "https://alpha.example/x.png",
                "rna": "W999999999",
            },
        )
    )
    nodes = {n["externalId"]: n for n in data(SHOWN)["missions"]["nodes"]}
    assert nodes["b1"]["organization"] == {
        "name": "Association X",
        "url": None,
        "logo": None,
        "rna": None,
    }
    assert nodes["a1"]["organization"]["url"] == "https://alpha.example/x"


def test_an_identified_organization_is_shared_but_only_its_creator_changes_it(
    alpha: Partner, beta: Partner, data: GraphQL
) -> None:
    beta.upsert(mission("b1", organization={"name": "Association X", "rna": "W351234567"}))
    alpha.upsert(
        mission(
            "a1",
            title="Collecte de jouets",
            locations=[{"postalCode": "69003", "city": "Lyon"}],
            organization={
                "name": "Association X",
                "rna": "W351234567",
                "url": "https://alpha.example/x",
                "logo": "https://alpha.example/x.png",
            },
        )
    )
    nodes = {n["externalId"]: n for n in data(SHOWN)["missions"]["nodes"]}
    assert nodes["b1"]["organization"]["url"] is None
    assert nodes["b1"]["organization"]["logo"] is None
    # One legal entity, one record: alpha's mission links to it, and shows it as beta wrote it.
    assert nodes["a1"]["organization"] == nodes["b1"]["organization"]
    # Its creator may still fill what it left empty.
    beta.upsert(
        mission(
            "b1",
            organization={"name": "Association X", "rna": "W351234567", "url": "https://x.org"},
        )
    )
    nodes = {n["externalId"]: n for n in data(SHOWN)["missions"]["nodes"]}
    assert nodes["b1"]["organization"]["url"] == "https://x.org"


def test_a_copy_never_takes_over_after_a_close_and_republish(
    alpha: Partner, beta: Partner, data: GraphQL
) -> None:
    beta.upsert(mission("b1", applicationUrl="https://beta.example/b1"))
    alpha.upsert(mission("a1", applicationUrl="https://alpha.example/a1", postedAt="2026-11-10"))
    [node] = data(SHOWN)["missions"]["nodes"]
    assert (node["externalId"], node["applicationUrl"]) == ("b1", "https://beta.example/b1")
    assert [x["externalId"] for x in node["listings"]] == ["b1", "a1"]

    beta.close("b1")
    [node] = data(SHOWN)["missions"]["nodes"]
    assert node["externalId"] == "a1"  # while beta's listing is closed, alpha's copy shows it

    beta.upsert(mission("b1", applicationUrl="https://beta.example/b1"))
    result = data(SHOWN)["missions"]
    assert result["totalCount"] == 1
    [node] = result["nodes"]
    assert (node["externalId"], node["applicationUrl"]) == ("b1", "https://beta.example/b1")
    assert node["listings"] == [
        {
            "partner": {"name": "beta"},
            "externalId": "b1",
            "applicationUrl": "https://beta.example/b1",
        },
        {
            "partner": {"name": "alpha"},
            "externalId": "a1",
            "applicationUrl": "https://alpha.example/a1",
        },
    ]


def test_the_operators_partner_order_decides_which_listing_shows(
    alpha: Partner,
    beta: Partner,
    data: GraphQL,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    beta.upsert(mission("b1", applicationUrl="https://beta.example/b1", postedAt="2026-11-05"))
    alpha.upsert(mission("a1", applicationUrl="https://alpha.example/a1", postedAt="2026-11-01"))
    [node] = data(SHOWN)["missions"]["nodes"]
    assert node["externalId"] == "a1"  # unranked partners: the earliest posted shows it
    monkeypatch.setenv("HUB_DATABASE_URL", settings.database_url)
    assert main(["partners", "priority", "beta", "1"]) == 0  # the operator ranks beta first
    assert main(["partners", "priority", "gamma", "1"]) == 2  # no such partner: a clear error
    assert "no partner 'gamma'" in capsys.readouterr().err
    alpha.upsert(mission("a1", applicationUrl="https://alpha.example/a1", title="Tri de dons"))
    [node] = data(SHOWN)["missions"]["nodes"]
    assert node["externalId"] == "b1"  # the operator ranks beta first
