"""The VolunteerMatch connector: GraphQL errors inside a 200, virtual opportunities, options."""

from __future__ import annotations

import httpx
import pytest

from connectors import AuthError, GraphQLError, RetriableError
from hub.catalogue.model import CommitmentKind, Remote
from tests.connectors.conftest import Partners
from tests.connectors.pulling import pull, pull_until_error
from tests.partners import VolunteerMatchPartner


@pytest.fixture
def volunteermatch(partners: Partners) -> VolunteerMatchPartner:
    partner = partners.get("volunteermatch-graphql")
    assert isinstance(partner, VolunteerMatchPartner)
    return partner


async def test_maps_opportunities(
    volunteermatch: VolunteerMatchPartner, client: httpx.AsyncClient
) -> None:
    pulled = await pull(volunteermatch.connector(), client)

    virtual = [draft for draft in pulled.drafts if draft.remote is Remote.FULL]
    onsite = [draft for draft in pulled.drafts if draft.remote is Remote.NONE]
    assert virtual and onsite and len(virtual) + len(onsite) == volunteermatch.count
    assert all(draft.locations == [] for draft in virtual)
    draft = onsite[0]
    assert len(draft.skills) == 2  # "skillsNeeded" is one comma-separated string
    assert draft.audience == ["Teens", "Seniors"]
    assert draft.commitment_kind is CommitmentKind.RECURRING
    assert draft.description == draft.title  # plaintextDescription, kept as the partner's text
    assert draft.posted_at is not None  # month-first "%m/%d/%Y"


async def test_options_go_into_the_search_input(
    volunteermatch: VolunteerMatchPartner, client: httpx.AsyncClient
) -> None:
    pulled = await pull(volunteermatch.connector(options={"virtual": True}), client)

    assert pulled.drafts and all(draft.remote is Remote.FULL for draft in pulled.drafts)


@pytest.mark.parametrize(
    ("code", "error"),
    [("UNAUTHENTICATED", AuthError), ("GRAPHQL_VALIDATION_FAILED", GraphQLError)],
)
async def test_errors_inside_a_200_are_raised_not_read_as_no_data(
    volunteermatch: VolunteerMatchPartner,
    client: httpx.AsyncClient,
    code: str,
    error: type[Exception],
) -> None:
    volunteermatch.error_codes = [code]

    pulled = await pull_until_error(volunteermatch.connector(), client)

    assert type(pulled.error) is error
    assert f"{code.lower()} (simulated)" in str(pulled.error)
    assert len(volunteermatch.hits) == 1 and volunteermatch.hits[0].status == 200


async def test_a_rate_limit_inside_a_200_is_retried(
    volunteermatch: VolunteerMatchPartner, client: httpx.AsyncClient
) -> None:
    volunteermatch.error_codes = ["RATE_LIMITED", "INTERNAL_SERVER_ERROR"]

    pulled = await pull(volunteermatch.connector(), client)

    assert len(pulled.drafts) == volunteermatch.count


async def test_a_rate_limit_that_lasts_gives_up_retriably(
    volunteermatch: VolunteerMatchPartner, client: httpx.AsyncClient
) -> None:
    volunteermatch.error_codes = ["RATE_LIMITED"] * 10

    pulled = await pull_until_error(volunteermatch.connector(), client)

    assert isinstance(pulled.error, RetriableError)
