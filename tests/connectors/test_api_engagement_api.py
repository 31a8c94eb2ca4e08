"""The API Engagement REST API connector: ids, deletions, the legacy v0 shapes."""

from __future__ import annotations

import httpx
import pytest

from connectors import Close, ConnectorConfig, get_connector
from hub.catalogue.model import EngagementType, MissionDraft
from tests.connectors.conftest import Partners
from tests.connectors.pulling import pull
from tests.partners import ApiEngagementApiPartner
from tests.partners.api_engagement_api import object_id


@pytest.fixture
def aggregator(partners: Partners) -> ApiEngagementApiPartner:
    partner = partners.get("api-engagement-api")
    assert isinstance(partner, ApiEngagementApiPartner)
    return partner


async def test_a_deleted_mission_is_closed(
    aggregator: ApiEngagementApiPartner, client: httpx.AsyncClient
) -> None:
    aggregator.deleted.add(4)

    pulled = await pull(aggregator.connector(), client)

    assert pulled.closed == [Close(object_id(4), "deleted on the partner (deletedAt is set)")]
    assert len(pulled.drafts) == aggregator.count - 1


async def test_pages_with_limit_and_skip_and_the_key_in_a_header(
    aggregator: ApiEngagementApiPartner, client: httpx.AsyncClient
) -> None:
    await pull(aggregator.connector(), client)

    assert [hit.query for hit in aggregator.hits] == [
        f"limit=7&skip={skip}" for skip in (0, 7, 14, 21, 28)
    ]
    assert {hit.headers["x-api-key"] for hit in aggregator.hits} == {"api-engagement-test-key"}


def test_reads_the_legacy_v0_shapes() -> None:
    connector = get_connector("api-engagement-api")(
        ConnectorConfig(url="https://api.example", api_key="k")
    )
    outcome = connector.normalise(
        {
            "_id": "64a1",
            "clientId": "not-unique-across-publishers",
            "title": "Mission",
            "type": "volontariat_service_civique",
            "openToMinors": "yes",
            "reducedMobilityAccessible": "false",
            "activity": "Soutien, Accompagnement",
            "addresses": [{"city": "Lyon", "zip": 69001, "department": "69"}],
            "location": {"lat": 45.76, "lon": 4.83},
            "deletedAt": None,
        }
    )
    assert isinstance(outcome, MissionDraft)
    assert outcome.external_id == "64a1"
    assert outcome.engagement_type is EngagementType.CIVIC_SERVICE
    assert (outcome.open_to_minors, outcome.reduced_mobility_accessible) == (True, False)
    assert outcome.skills == [] and outcome.tags == ["Soutien, Accompagnement"]  # an activity
    (lyon,) = outcome.locations
    assert (lyon.postal_code, lyon.department_code) == ("69001", "69")
