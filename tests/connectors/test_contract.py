"""One contract test for every registered connector, against its simulated partner (STYLE 6).

Each test runs once per connector in the registry; a new connector is covered by registering
it and giving it a partner in tests/partners. The faults are the ones real partners produce:
slow responses, 500s, 429 with Retry-After, refused credentials, unreadable records, a renamed
field, duplicate ids, a pagination that loops.
"""

from __future__ import annotations

import copy
import json

import httpx
import pytest

from connectors import (
    CONNECTORS,
    AuthError,
    Close,
    Coverage,
    FeedError,
    GraphQLError,
    Refused,
    RetriableError,
    get_connector,
)
from hub.catalogue.model import MissionDraft
from tests.connectors.conftest import Partners
from tests.connectors.pulling import pull, pull_until_error, summary
from tests.partners import FAST_RETRIES, PARTNERS, SimulatedPartner

NAMES = sorted(CONNECTORS)
PAGED = [name for name in NAMES if PARTNERS[name].paged]


def test_every_registered_connector_has_a_simulated_partner() -> None:
    assert sorted(PARTNERS) == NAMES


@pytest.fixture(params=NAMES)
def connector_name(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def partner(connector_name: str, partners: Partners) -> SimulatedPartner:
    return partners.get(connector_name)


class TestConnectorContract:
    async def test_pulls_every_mission_as_the_partner_published_it(
        self, partner: SimulatedPartner, client: httpx.AsyncClient
    ) -> None:
        pulled = await pull(partner.connector(), client)

        assert all(isinstance(o, MissionDraft | Refused | Close) for o in pulled.outcomes)
        assert pulled.refused == [] and pulled.closed == []
        drafts = {draft.external_id: draft for draft in pulled.drafts}
        assert len(drafts) == len(pulled.drafts) == partner.count
        for mission in partner.missions():
            assert summary(drafts[partner.external_id(mission)]) == partner.expected(mission)
        result = pulled.result
        assert result is not None
        assert (result.fetched, result.drafts, result.refused) == (partner.count, partner.count, 0)

    async def test_says_whether_the_pull_is_a_complete_snapshot(
        self, partner: SimulatedPartner, client: httpx.AsyncClient
    ) -> None:
        pulled = await pull(partner.connector(), client)

        assert pulled.result is not None
        assert pulled.result.coverage is partner.coverage
        assert pulled.result.complete_snapshot is (partner.coverage is Coverage.SNAPSHOT)

    async def test_the_state_it_returns_resumes_the_next_pull(
        self, partner: SimulatedPartner, client: httpx.AsyncClient
    ) -> None:
        first = await pull(partner.connector(), client)
        assert first.result is not None
        saved = json.loads(json.dumps(first.result.state))  # what the hub stores

        again = await pull(partner.connector(), client, saved)  # a fresh connector: a restart

        assert again.result is not None
        if partner.coverage is Coverage.INCREMENTAL:
            assert again.outcomes == []  # nothing changed since the cursor
        else:
            assert again.drafts == first.drafts

    async def test_normalise_is_pure(
        self, partner: SimulatedPartner, client: httpx.AsyncClient
    ) -> None:
        connector = partner.connector()
        raws = [raw async for raw in connector.fetch(client, {})]
        untouched = copy.deepcopy(raws)

        first = [connector.normalise(raw) for raw in raws]

        assert raws == untouched
        assert [connector.normalise(raw) for raw in raws] == first

    async def test_unreadable_records_are_refused_and_the_rest_goes_on(
        self, partner: SimulatedPartner, client: httpx.AsyncClient
    ) -> None:
        partner.faults.malformed = True

        pulled = await pull(partner.connector(), client)

        assert pulled.result is not None
        assert len(pulled.drafts) == partner.count
        assert len(pulled.refused) == partner.malformed_count > 0
        assert all(refusal.reason for refusal in pulled.refused)
        reasons = " | ".join(refusal.reason for refusal in pulled.refused)
        assert "missing" in reasons and "date" in reasons, reasons

    async def test_recovers_from_server_errors(
        self, partner: SimulatedPartner, client: httpx.AsyncClient
    ) -> None:
        partner.faults.errors = 2

        pulled = await pull(partner.connector(), client)

        assert len(pulled.drafts) == partner.count
        assert [hit.status for hit in partner.hits[:3]] == [500, 500, 200]

    async def test_waits_as_long_as_retry_after_asks(
        self, partner: SimulatedPartner, client: httpx.AsyncClient
    ) -> None:
        partner.faults.rate_limit = 1
        partner.faults.retry_after = "1"

        pulled = await pull(partner.connector(), client)

        assert len(pulled.drafts) == partner.count
        limited, after = partner.hits[0], partner.hits[1]
        assert limited.status == 429
        assert after.arrived - limited.sent >= 1.0  # measured by the server; no upper bound

    async def test_a_slow_response_times_out_and_is_retried(
        self, partner: SimulatedPartner, client: httpx.AsyncClient
    ) -> None:
        partner.faults.slow = 1
        partner.faults.delay = 1.0

        pulled = await pull(partner.connector(timeout=0.3), client)

        assert len(pulled.drafts) == partner.count
        assert len(partner.hits) >= 2  # the first request was given up on, and sent again

    async def test_gives_up_with_a_retriable_error_when_failures_persist(
        self, partner: SimulatedPartner, client: httpx.AsyncClient
    ) -> None:
        partner.faults.errors = 100

        pulled = await pull_until_error(partner.connector(), client)

        assert isinstance(pulled.error, RetriableError)
        assert "HTTP 500" in str(pulled.error) and "gave up after 4" in str(pulled.error)
        assert len(partner.hits) == FAST_RETRIES.attempts
        assert pulled.result is None

    async def test_refused_credentials_are_fatal_with_a_clear_message(
        self, partner: SimulatedPartner, client: httpx.AsyncClient
    ) -> None:
        partner.require_auth = True
        connector = get_connector(partner.connector_name)(partner.bad_credentials())

        pulled = await pull_until_error(connector, client)

        assert isinstance(pulled.error, AuthError)
        assert "HTTP 401" in str(pulled.error) and "credentials" in str(pulled.error)
        assert partner.connector_name in str(pulled.error)
        assert len(partner.hits) == 1  # never retried
        assert pulled.outcomes == [] and pulled.result is None

    async def test_a_renamed_field_is_read_or_fails_loudly(
        self, partner: SimulatedPartner, client: httpx.AsyncClient
    ) -> None:
        baseline = await pull(partner.connector(), client)
        partner.faults.renamed = True

        if partner.renamed_is_fatal:  # the partner's schema changed under our query
            pulled = await pull_until_error(partner.connector(), client)
            assert isinstance(pulled.error, GraphQLError)
            assert partner.renamed_field and partner.renamed_field in str(pulled.error)
        else:  # drift the connector knows: the same drafts
            pulled = await pull(partner.connector(), client)
            assert pulled.drafts == baseline.drafts

    async def test_a_duplicate_id_is_refused_after_the_first_copy(
        self, partner: SimulatedPartner, client: httpx.AsyncClient
    ) -> None:
        partner.faults.duplicates = True

        pulled = await pull(partner.connector(), client)

        assert len(pulled.drafts) == partner.count
        duplicate_id = partner.external_id(partner.missions()[3])
        assert pulled.refused == [
            Refused(duplicate_id, f"duplicate id {duplicate_id!r} in this pull; the first copy "
                    "was kept")
        ]  # fmt: skip
        assert pulled.result is not None and pulled.result.duplicates == 1

    @pytest.mark.parametrize("connector_name", PAGED)
    async def test_a_pagination_loop_is_a_feed_error(
        self, partner: SimulatedPartner, client: httpx.AsyncClient
    ) -> None:
        partner.faults.loop = True

        pulled = await pull_until_error(partner.connector(), client)

        assert isinstance(pulled.error, FeedError)
        assert "pagination loop" in str(pulled.error)
        assert pulled.result is None
        assert len(pulled.drafts) < partner.count + 1

    async def test_stopping_early_releases_the_pull(
        self, partner: SimulatedPartner, client: httpx.AsyncClient
    ) -> None:
        async with partner.connector().run(client) as run:
            async for _outcome in run:
                break

        assert run.result is None  # not read to the end: not a snapshot, no new state
