"""The Idealist connector: the since-cursor across restarts, unpublished listings, details."""

from __future__ import annotations

import json

import httpx
import pytest

from connectors import Close, ConfigError, ConnectorConfig, Coverage, get_connector
from hub.catalogue.model import MissionDraft, OrganizationDraft, Remote
from tests.connectors.conftest import Partners
from tests.connectors.pulling import pull
from tests.partners import IdealistPartner


@pytest.fixture
def idealist(partners: Partners) -> IdealistPartner:
    partner = partners.get("idealist-json")
    assert isinstance(partner, IdealistPartner)
    return partner


async def test_the_cursor_survives_a_restart_and_brings_back_only_what_changed(
    idealist: IdealistPartner, client: httpx.AsyncClient
) -> None:
    first = await pull(idealist.connector(), client)
    assert first.result is not None and first.result.coverage is Coverage.INCREMENTAL
    stored = json.dumps(first.result.state)  # the hub persists it; the process restarts
    assert json.loads(stored) == {"since": "2026-01-05T09:29:00Z"}

    idealist.touch("M000005")
    idealist.unpublish("M000007")
    idealist.grow(32)
    second = await pull(idealist.connector(), client, json.loads(stored))

    assert [d.external_id for d in second.drafts] == ["M000005", "M000030", "M000031"]
    assert second.closed == [Close("M000007", "unpublished on Idealist")]
    assert second.result is not None
    assert second.result.state["since"] > json.loads(stored)["since"]
    detail_requests = [hit for hit in idealist.hits if hit.path.count("/") == 5]
    assert len(detail_requests) == 30 + 3  # an unpublished listing needs no details

    third = await pull(idealist.connector(), client, second.result.state)
    assert third.outcomes == []


async def test_a_listing_whose_details_are_gone_is_closed(
    idealist: IdealistPartner, client: httpx.AsyncClient
) -> None:
    idealist.gone.add("M000002")

    pulled = await pull(idealist.connector(), client)

    assert pulled.closed == [Close("M000002", "unpublished on Idealist")]
    assert len(pulled.drafts) == idealist.count - 1


async def test_maps_idealist_fields(idealist: IdealistPartner, client: httpx.AsyncClient) -> None:
    pulled = await pull(idealist.connector(), client)

    by_remote = {draft.remote for draft in pulled.drafts}
    assert by_remote == {Remote.NONE, Remote.POSSIBLE, Remote.FULL}  # ONSITE, HYBRID, REMOTE
    draft = pulled.drafts[0]
    assert draft.application_url == "https://partner.example/missions/M000000/apply"
    assert draft.causes and draft.causes[0][0].isupper()  # raw English labels: pipeline maps
    assert draft.skills and draft.schedule_label
    assert draft.organization is not None
    assert draft.organization.siren is None  # governmentId is a US EIN, not a SIREN
    (where,) = draft.locations
    assert where.country == "US"


def test_a_french_organizations_government_id_is_its_siret() -> None:
    connector = get_connector("idealist-json")(
        ConnectorConfig(url="https://idealist.example/api/v1", api_key="k")
    )
    outcome = connector.normalise(
        {
            "id": "F1",
            "name": "Mentorat",
            "locationType": "HYBRID",
            "address": {"city": "Lyon", "zipcode": "1000", "country": "FR"},
            "org": {"name": "Asso", "governmentId": "339 863 417 00418"},
            "numVolunteersNeeded": "3",
        }
    )
    assert isinstance(outcome, MissionDraft), outcome
    assert outcome.organization == OrganizationDraft(
        "Asso", siren="339863417", siret="33986341700418"
    )
    assert outcome.locations[0].postal_code == "01000"
    assert outcome.places_total == 3


async def test_a_saved_state_that_is_not_json_is_refused(
    idealist: IdealistPartner, client: httpx.AsyncClient
) -> None:
    with pytest.raises(ConfigError, match="not JSON"):
        idealist.connector().run(client, {"since": object()})


def test_an_api_key_is_required() -> None:
    with pytest.raises(ConfigError, match="needs an api key"):
        get_connector("idealist-json")(ConnectorConfig(url="https://idealist.example/api/v1"))
