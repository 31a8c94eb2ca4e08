"""The API Engagement XML feed connector: the shared samples, drift, hostile XML, truncation."""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from connectors import AuthError, ConnectorConfig, DateOrder, FeedError, Refused, get_connector
from hub.catalogue.model import EngagementType, GeoSource, MissionDraft, OrganizationDraft, Remote
from tests.connectors.conftest import Partners
from tests.connectors.pulling import pull, pull_until_error
from tests.partners import ApiEngagementFeed
from tests.partners.serve import served


@pytest.fixture
def feed(partners: Partners) -> ApiEngagementFeed:
    partner = partners.get("api-engagement-xml")
    assert isinstance(partner, ApiEngagementFeed)
    return partner


def day(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


async def sample(
    feed: ApiEngagementFeed, client: httpx.AsyncClient, name: str, **changes: object
) -> MissionDraft:
    """The one mission of a shared sample, served by the partner as its feed."""
    pulled = await pull(feed.connector(url=f"{feed.url}/samples/{name}", **changes), client)
    assert len(pulled.drafts) == 1, pulled.outcomes
    return pulled.drafts[0]


async def test_reads_the_shared_correct_feed(
    feed: ApiEngagementFeed, client: httpx.AsyncClient
) -> None:
    draft = await sample(feed, client, "correct-feed.xml")

    assert draft.external_id == "32132143"
    assert draft.title == "Titre de la mission"
    assert draft.application_url == "https://www.urltomymission.org"
    # Month-first by default, as API Engagement's own importer reads 11/01/2025.
    assert (draft.posted_at, draft.start_at, draft.end_at) == (
        day(2023, 1, 1),
        day(2025, 1, 1),
        day(2025, 11, 1),
    )
    assert draft.remote is Remote.FULL
    assert draft.engagement_type is EngagementType.VOLUNTEERING
    assert draft.causes == ["environnement"]
    assert draft.skills == ["compétence 1", "compétence 2"]  # the activity is no skill...
    assert draft.tags == ["environnement", "écologie", "logistique"]  # ...but a tag
    assert draft.audience == ["Tous"]
    assert draft.schedule_label == "1 demi-journée par semaine"
    assert draft.hours_per_week_min is None  # reading hours from free text is the pipeline's job
    assert draft.places_total == 2
    assert draft.open_to_minors is True and draft.reduced_mobility_accessible is True
    assert draft.organization == OrganizationDraft(
        name="Mon asso",
        rna="W922000733",
        siren="332737394",
        url="https://www.organizationname.com",
        logo="https://www.organizationname.com/logo.jpg",
    )
    paris, orleans = draft.locations
    assert (paris.street, paris.postal_code, paris.city, paris.department_code) == (
        "46 Rue Saint-Antoine",
        "75004",
        "Paris",
        "75",
    )
    assert (paris.latitude, paris.longitude, paris.geo_source) == (
        48.8541,
        2.3643,
        GeoSource.PARTNER,
    )
    assert (orleans.city, orleans.country, orleans.region) == (
        "Orléans",
        "FR",
        "Centre-Val de Loire",
    )


async def test_a_partner_writing_day_first_is_configured_so(
    feed: ApiEngagementFeed, client: httpx.AsyncClient
) -> None:
    draft = await sample(feed, client, "correct-feed.xml", date_order=DateOrder.DAY_FIRST)

    assert draft.end_at == day(2025, 1, 11)


async def test_an_unusable_address_is_kept_for_the_pipeline_to_geocode(
    feed: ApiEngagementFeed, client: httpx.AsyncClient
) -> None:
    draft = await sample(feed, client, "invalid-address-feed.xml")

    (location,) = draft.locations
    assert (location.street, location.city, location.postal_code) == (
        "champ libre invalide",
        "Grenoble",
        None,
    )
    assert location.geo_source is GeoSource.NONE


DRIFT = """<?xml version="1.0" encoding="UTF-8"?>
<source xmlns="https://partner.example/ns">
  <mission>
    <clientId>D1</clientId><title>Adresse en français</title>
    <applicationUrl>https://p.example/d1</applicationUrl>
    <addresses><adresse><city>Bourg-en-Bresse</city><postalCode>1000</postalCode>
      <lonlat>5.2255,46.2052</lonlat></adresse></addresses>
    <organizationName>Asso</organizationName><organizationRna>w 691 055 287</organizationRna>
    <organizationSiren>33986341700418</organizationSiren>
    <domain>mémoire et citoyenneté</domain><remote>local</remote>
    <startAt>25/12/2026</startAt>
    <softSkills><value>Écoute, bienveillance</value><value>Rigueur</value></softSkills>
    <activity>Animation, Valorisation</activity>
    <description><p>Du <b>HTML</b> sans CDATA</p></description>
  </mission>
  <mission>
    <clientId>D2</clientId><title>Coordonnées inversées</title>
    <adresse><city>Paris</city><location><lat>2,3522</lat><lon>48,8566</lon></location></adresse>
    <type>benevolat</type><domain>benevolat-competences</domain><remote>possible</remote>
    <organizationName>Asso</organizationName><organizationRNA>ABC</organizationRNA>
    <organizationSiren>12</organizationSiren>
  </mission>
  <mission>
    <clientId>D3</clientId><title>Service civique</title><type>volontariat_service_civique</type>
    <postalCode>69001</postalCode><city>Lyon</city><startAt>2026-03-04T10:30:00+01:00</startAt>
  </mission>
  <mission>
    <clientId>D4</clientId><title>Pompiers</title><type>volontariat_sapeurs_pompiers</type>
  </mission>
  <mission><clientId>D5</clientId><title>Date impossible</title><endAt>30/02/2026</endAt></mission>
</source>
"""


async def test_reads_the_drift_real_partners_produce(
    feed: ApiEngagementFeed, client: httpx.AsyncClient
) -> None:
    feed.document = DRIFT.encode()

    pulled = await pull(feed.connector(), client)

    d1, d2, d3, d4 = pulled.drafts
    (bourg,) = d1.locations
    assert (bourg.postal_code, bourg.latitude, bourg.longitude) == ("01000", 46.2052, 5.2255)
    assert d1.organization == OrganizationDraft(
        "Asso", rna="W691055287", siren="339863417", siret="33986341700418"
    )
    assert d1.causes == ["mémoire et citoyenneté"]  # a label: the pipeline maps it
    assert d1.remote is Remote.NONE
    assert d1.start_at == day(2026, 12, 25)  # a part above 12 settles it
    assert d1.skills == ["Écoute, bienveillance", "Rigueur"]
    assert "Animation, Valorisation" in d1.tags  # the activity, one value although it has a comma
    assert d1.description_html == "<p>Du <b>HTML</b> sans CDATA</p>"
    (paris,) = d2.locations
    assert (paris.latitude, paris.longitude) == (48.8566, 2.3522)
    assert paris.geo_source is GeoSource.PARTNER_SWAPPED
    assert d2.organization == OrganizationDraft("Asso")  # malformed ids dropped, not refused
    assert (d2.engagement_type, d2.remote) == (EngagementType.SKILLS_VOLUNTEERING, Remote.POSSIBLE)
    assert d3.engagement_type is EngagementType.CIVIC_SERVICE
    assert d3.start_at == datetime(2026, 3, 4, 9, 30, tzinfo=UTC)
    assert [(loc.city, loc.postal_code) for loc in d3.locations] == [("Lyon", "69001")]
    assert d4.engagement_type is EngagementType.OTHER
    assert pulled.refused == [Refused("D5", "endAt: impossible date '30/02/2026'")]


@pytest.mark.parametrize("bomb", ["billion-laughs", "external-entity"])
async def test_refuses_a_feed_that_declares_entities(
    feed: ApiEngagementFeed, client: httpx.AsyncClient, bomb: str
) -> None:
    feed.faults.bomb = bomb

    pulled = await pull_until_error(feed.connector(), client)

    assert isinstance(pulled.error, FeedError)
    assert "DTD" in str(pulled.error)
    assert pulled.outcomes == [] and pulled.result is None


@pytest.mark.parametrize(
    "document",
    [
        # After a comment the byte scan stops; the parser's docinfo check still sees the DTD.
        b'<?xml version="1.0"?><!-- <x> --><!DOCTYPE source SYSTEM "http://evil.example/a.dtd">'
        b"<source><mission><clientId>1</clientId><title>t</title></mission></source>",
        # UTF-16: invisible to a byte scan.
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE source [<!ENTITY e "x">]>'
        "<source><mission><clientId>1</clientId><title>&e;</title></mission></source>".encode(
            "utf-16"
        ),
    ],
)
async def test_refuses_a_dtd_however_it_is_hidden(
    feed: ApiEngagementFeed, client: httpx.AsyncClient, document: bytes
) -> None:
    feed.document = document

    pulled = await pull_until_error(feed.connector(), client)

    assert isinstance(pulled.error, FeedError) and "DTD" in str(pulled.error)
    assert pulled.outcomes == []


async def test_a_truncated_feed_is_an_error_and_not_a_snapshot(
    feed: ApiEngagementFeed, client: httpx.AsyncClient
) -> None:
    feed.faults.truncate = True

    pulled = await pull_until_error(feed.connector(), client)

    assert isinstance(pulled.error, FeedError)
    assert "ends early" in str(pulled.error)
    assert len(pulled.drafts) == feed.count // 2  # delivered, valid, but...
    assert pulled.result is None  # ...not a complete snapshot: nothing may be closed


async def test_an_html_page_served_as_the_feed_is_not_an_empty_snapshot(
    feed: ApiEngagementFeed, client: httpx.AsyncClient
) -> None:
    feed.document = b"<html><body><p>Maintenance en cours</p></body></html>"

    pulled = await pull_until_error(feed.connector(), client)

    assert isinstance(pulled.error, FeedError)
    assert "expected a <source> document, got <html>" in str(pulled.error)


async def test_basic_auth_is_sent_when_configured_and_only_then(
    feed: ApiEngagementFeed, client: httpx.AsyncClient
) -> None:
    feed.require_auth = True

    pulled = await pull(feed.connector(), client)
    anonymous = await pull_until_error(feed.connector(username=None, password=None), client)

    assert len(pulled.drafts) == feed.count
    assert feed.hits[0].headers["authorization"].startswith("Basic ")
    assert isinstance(anonymous.error, AuthError)
    assert "authorization" not in feed.hits[-1].headers


def test_normalise_refuses_what_is_not_a_mission_and_never_raises() -> None:
    connector = get_connector("api-engagement-xml")(ConnectorConfig(url="https://p.example/f"))
    unreadable: list[object] = [None, "text", [], {"clientId": {"nested": "x"}}, {"clientId": "1"}]
    for raw in unreadable:
        outcome = connector.normalise(raw)
        assert isinstance(outcome, Refused), outcome
    assert isinstance(
        connector.normalise({"clientId": "1", "title": "t", "places": "beaucoup"}), MissionDraft
    )


STATM = Path("/proc/self/statm")


def resident_bytes() -> int:
    return int(STATM.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.fixture
def big_feed() -> Iterator[str]:
    """A 20,000-mission feed served from its own process: only the client is measured."""
    with served("api-engagement-xml", "--count", "20000") as url:
        yield f"{url}/feed.xml"


@pytest.mark.skipif(not STATM.exists(), reason="resident memory is read from Linux's /proc")
async def test_memory_stays_flat_as_the_feed_grows(
    big_feed: str, client: httpx.AsyncClient
) -> None:
    """20,000 missions streamed from the partner through the parser: memory far below the feed.

    Two measures, because each is blind where the other sees: tracemalloc sees the Python heap
    (a body read whole, records kept) but not libxml2's own malloc, where a tree that is never
    cleared grows (190 MB here); resident memory sees both, with some allocator slack, hence its
    looser bound. The parse is measured through `fetch`, the pull's streaming half: `normalise`
    keeps nothing, and tracing it too would only make the test slow.
    """
    connector = get_connector("api-engagement-xml")(ConnectorConfig(url=big_feed))
    feed_bytes = sum([len(chunk) async for chunk in _download(client, big_feed)])
    assert feed_bytes > 30_000_000

    baseline = peak_resident = resident_bytes()
    tracemalloc.start()
    try:
        records = 0
        async for _raw in connector.fetch(client, {}):
            records += 1
            if records % 250 == 0:
                peak_resident = max(peak_resident, resident_bytes())
        _, peak_traced = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert records == 20_000
    assert peak_traced < feed_bytes / 5, (peak_traced, feed_bytes)
    assert peak_resident - baseline < feed_bytes / 4, (peak_resident - baseline, feed_bytes)


async def _download(client: httpx.AsyncClient, url: str) -> AsyncIterator[bytes]:
    async with client.stream("GET", url) as response:
        async for chunk in response.aiter_bytes():
            yield chunk
