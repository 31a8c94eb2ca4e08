"""A partner speaking Idealist's listings API: a since-cursor list, then one GET per listing.

GET /api/v1/listings/volops?since=T returns the listings updated after T, oldest first, ten at
a time, with `hasMore`; GET /api/v1/listings/volops/{id} returns {"volop": {...}}. The API key
is the Basic username. Listings change between pulls through `touch`, `unpublish` and `grow`,
so tests can check that the cursor a pull saved brings back only what changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors import ConnectorConfig, Coverage
from tests.partners.base import FAST_RETRIES, SimulatedPartner, basic_auth_ok
from tests.partners.catalogue import Mission, mission

__all__ = ["IdealistPartner"]

API_KEY = "idealist-test-key"


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Listing:
    mission: Mission
    updated: datetime
    published: bool = True
    broken: str | None = None  # "not-an-object", "no-name", "bad-date"


class IdealistPartner(SimulatedPartner):
    connector_name = "idealist-json"
    coverage = Coverage.INCREMENTAL
    us = True
    page_size: ClassVar[int] = 10

    def __init__(self) -> None:
        super().__init__()
        self.listings: dict[str, Listing] = {}
        self.gone: set[str] = set()  # listed, but GET details answers 404
        self.reset()

    def reset(self) -> None:
        super().reset()
        self.listings = {}
        self.gone = set()
        self.grow(self.count)

    # -- changes between pulls ----------------------------------------------------------------

    def grow(self, count: int) -> None:
        """Publish catalogue missions up to `count`."""
        for index in range(len(self.listings), count):
            m = mission(index, us=True)
            self.listings[m.id] = Listing(m, m.updated)
        self.count = count

    def resize(self, count: int) -> None:
        self.grow(count)

    def touch(self, listing_id: str) -> None:
        """The organization edited the listing: it moves to the end of the update order."""
        self.listings[listing_id].updated = self._latest() + timedelta(minutes=1)

    def unpublish(self, listing_id: str) -> None:
        self.listings[listing_id].published = False
        self.touch(listing_id)

    def _latest(self) -> datetime:
        return max(listing.updated for listing in self.listings.values())

    # -- the contract -------------------------------------------------------------------------

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/api/v1/listings/volops", self._list),
                Route("/api/v1/listings/volops/{id}", self._detail),
            ]
        )

    def config(self) -> ConnectorConfig:
        return ConnectorConfig(
            url=f"{self.url}/api/v1", api_key=API_KEY, timeout=5.0, retry=FAST_RETRIES
        )

    def bad_credentials(self) -> ConnectorConfig:
        return ConnectorConfig(url=f"{self.url}/api/v1", api_key="revoked", retry=FAST_RETRIES)

    def external_id(self, mission: Mission) -> str:
        return mission.id

    @property
    def malformed_count(self) -> int:
        return len(range(4, self.count, 10))

    def _refused(self, request: Request) -> Response | None:
        if self.require_auth and not basic_auth_ok(request, API_KEY, ""):
            return JSONResponse({"detail": "Invalid API key"}, status_code=401)
        return None

    def _ordered(self) -> list[tuple[Listing, dict[str, Any] | str]]:
        """(listing, summary) in update order, with the switched-on faults mixed in."""
        out: list[tuple[Listing, dict[str, Any] | str]] = []
        for listing in sorted(self.listings.values(), key=lambda item: item.updated):
            out.append((listing, _summary(listing)))
            index = listing.mission.index
            if self.faults.malformed and index % 10 == 4:
                later = listing.updated + timedelta(seconds=30)  # between two good ones
                bad = Listing(mission(10_000 + index, us=True), later)
                bad.broken = ("not-an-object", "no-name", "bad-date")[index // 10 % 3]
                summary = "volop M0?" if bad.broken == "not-an-object" else _summary(bad)
                out.append((bad, summary))
        if self.faults.duplicates:  # edited while we paged: listed again, later
            again = self.listings["M000003"]
            copy = Listing(again.mission, self._latest() + timedelta(minutes=1))
            out.append((copy, _summary(copy)))
        return out

    async def _list(self, request: Request) -> Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        ordered = self._ordered()
        since = request.query_params.get("since")
        if since and not self.faults.loop:  # a looping partner ignores the cursor
            after = datetime.fromisoformat(since)
            ordered = [(listing, s) for listing, s in ordered if listing.updated > after]
        page = ordered[: self.page_size]
        return JSONResponse(
            {"volops": [s for _, s in page], "hasMore": len(ordered) > self.page_size}
        )

    async def _detail(self, request: Request) -> Response:
        refused = self._refused(request)
        if refused is not None:
            return refused
        wanted = request.path_params["id"]
        found = {listing.mission.id: listing for listing, _ in self._ordered()}.get(wanted)
        if found is None or wanted in self.gone:
            return JSONResponse({"detail": "Not found"}, status_code=404)
        return JSONResponse({"volop": self._volop(found)})

    def _volop(self, listing: Listing) -> dict[str, Any]:
        m = listing.mission
        city = m.city
        volop: dict[str, Any] = {
            "id": m.id,
            "name": m.title,
            "description": m.description_html,
            "url": {"en": m.url, "es": m.url + "?lang=es"},
            "applyUrl": m.url + "/apply",
            "org": {
                "id": f"ORG{m.org_rna}",
                "name": m.org_name,
                "url": {"en": "https://org.example"},
                "logo": "https://org.example/logo.png",
                "governmentId": "12-3456789",  # an EIN: nine digits that are not a SIREN
            },
            "address": {
                "full": f"{m.street}, {city.name}, {city.region} {city.postal_code}",
                "line1": m.street,
                "line2": None,
                "city": city.name,
                "state": city.region,
                "zipcode": city.postal_code,
                "country": city.country,
                "latitude": city.latitude,
                "longitude": city.longitude,
            },
            "locationType": {"no": "ONSITE", "possible": "HYBRID", "full": "REMOTE"}[m.remote],
            "areasOfFocus": [m.domain_english],
            "functions": list(m.soft_skills),
            "expectedTime": m.schedule,
            "numVolunteersNeeded": m.places,
            "startDate": f"{m.start.isoformat()}T09:00:00Z",
            "endDate": f"{m.end.isoformat()}T17:00:00Z",
            "firstPublished": f"{m.posted.isoformat()}T08:00:00Z",
            "updated": _iso(listing.updated),
            "isPublished": listing.published,
        }
        if self.faults.renamed:  # a newer API version calls the name a title
            volop["title"] = volop.pop("name")
        if listing.broken == "no-name":
            del volop["name"]
        if listing.broken == "bad-date":
            volop["startDate"] = "2026-02-30T09:00:00Z"
        return volop


def _summary(listing: Listing) -> dict[str, Any]:
    m = listing.mission
    summary = {
        "id": m.id,
        "firstPublished": f"{m.posted.isoformat()}T08:00:00Z",
        "updated": _iso(listing.updated),
        "name": m.title,
        "url": {"en": m.url},
        "isPublished": listing.published,
    }
    if listing.broken == "no-name":
        del summary["name"]
    return summary
