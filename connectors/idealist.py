"""Idealist's listings API: opportunities changed since a cursor, then each one's details."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from connectors._errors import FatalError
from connectors._http import Http
from connectors._identifiers import identifiers
from connectors._paging import SinceCursor
from connectors._parse import (
    DateOrder,
    Fields,
    Malformed,
    country_code,
    place_point,
    postal_code,
    scalar_text,
)
from connectors.contract import Auth, Close, Connector, Outcome, PartnerFormat, RawRecord, Refused
from hub.catalogue.model import Location, MissionDraft, OrganizationDraft, Remote

__all__ = ["Idealist"]

_REMOTE = {"ONSITE": Remote.NONE, "HYBRID": Remote.POSSIBLE, "REMOTE": Remote.FULL}


class Idealist(Connector):
    """GET .../volops?since= lists {id, updated, isPublished} in update order with `hasMore`;
    GET .../volops/{id} gives the details. The cursor (the last `updated` read) is the pull's
    state, so a restart resumes where the last complete pull ended; the coverage is INCREMENTAL.
    An unpublished listing (or one whose details are gone) closes its mission. The API key is
    the Basic username, as Idealist asks.
    """

    name = "idealist-json"
    title = "Idealist listings API"
    format = PartnerFormat.JSON_REST
    auth = Auth.API_KEY_BASIC
    path = "/listings/volops"
    paginator = SinceCursor(param="since", cursor_field="updated", more=("hasMore",))
    records = ("volops",)
    default_date_order = DateOrder.MONTH_FIRST

    async def expand(self, http: Http, page: list[RawRecord]) -> list[RawRecord]:
        """Details for the page's published listings, a few requests at a time, in order."""
        gate = asyncio.Semaphore(max(1, self.config.concurrency))

        async def one(listing: RawRecord) -> RawRecord:
            async with gate:
                return await self._details(http, listing)

        results = await asyncio.gather(*(one(item) for item in page), return_exceptions=True)
        for result in results:  # every request has finished; raise the first failure
            if isinstance(result, BaseException):
                raise result
        return results

    async def _details(self, http: Http, listing: RawRecord) -> RawRecord:
        if not isinstance(listing, Mapping) or listing.get("isPublished") is False:
            return listing  # normalise closes or refuses it; no details to ask for
        listing_id = scalar_text(listing.get("id"))
        if listing_id is None:
            return listing
        try:
            body = await http.get_json(f"{self.endpoint}/{quote(listing_id, safe='')}")
        except FatalError as exc:
            if exc.status in (404, 410):  # gone between the list and now: unpublished
                return {**listing, "isPublished": False}
            raise
        details = body.get("volop") if isinstance(body, Mapping) else None
        if not isinstance(details, Mapping):
            return {**listing, "details": body}  # refused by normalise, with its id
        return {**listing, **details}

    def normalise(self, raw: RawRecord) -> Outcome:
        try:
            listing = Fields(raw, "listing")
            external_id = listing.required("id")
        except Malformed as exc:
            return Refused(None, str(exc))
        if listing.flag("isPublished") is False:
            return Close(external_id, "unpublished on Idealist")
        try:
            return self._draft(listing, external_id)
        except Malformed as exc:
            return Refused(external_id, str(exc))

    def _draft(self, listing: Fields, external_id: str) -> MissionDraft:
        order = self.date_order
        address = listing.sub("address")
        location = _location(address) if address is not None else None
        french = location is not None and location.country == "FR"
        return MissionDraft(
            external_id=external_id,
            title=listing.required("name", "title"),
            application_url=_url(listing.get("applyUrl", "url")),
            description_html=listing.text("description"),
            remote=_REMOTE.get((listing.text("locationType") or "").upper(), Remote.NONE),
            locations=[location] if location is not None else [],
            causes=listing.texts("areasOfFocus"),
            skills=listing.texts("functions"),
            start_at=listing.date("startDate", "startTime", order=order),
            end_at=listing.date("endDate", "endTime", order=order),
            posted_at=listing.date("firstPublished", order=order),
            schedule_label=listing.text("expectedTime"),
            places_total=listing.integer("numVolunteersNeeded", "volunteersNeeded"),
            organization=_organization(listing.sub("org", "organization"), french=french),
        )


def _url(value: Any) -> str | None:
    """Idealist gives one URL per language ({"en": ..., "es": ...}); English first."""
    if isinstance(value, Mapping):
        for language in ("en", "es", "pt", "fr"):
            if scalar_text(value.get(language)):
                return scalar_text(value.get(language))
        return next((text for text in map(scalar_text, value.values()) if text), None)
    return scalar_text(value)


def _location(address: Fields) -> Location | None:
    country = country_code(address.text("countryCode", "country"))
    french = country == "FR"
    street = ", ".join(t for t in (address.text("line1"), address.text("line2")) if t) or None
    location = Location(
        street=street or address.text("full"),
        postal_code=postal_code(address.get("zipcode", "postalCode", "zip"), french=french),
        city=address.text("city"),
        region=address.text("state", "stateCode"),
        country=country,
    )
    point = place_point(address.number("latitude"), address.number("longitude"), in_france=french)
    if point is not None:
        location.latitude, location.longitude, location.geo_source = point
    return None if location.city is None and location.latitude is None else location


def _organization(org: Fields | None, *, french: bool) -> OrganizationDraft | None:
    name = org.text("name") if org is not None else None
    if org is None or name is None:
        return None
    # governmentId is a US EIN (9 digits, like a SIREN) unless the organization is French; an
    # RNA is known by its shape in any of the organization's id fields.
    found = identifiers(org.raw, business=french)
    return OrganizationDraft(
        name=name,
        rna=found.rna,
        siren=found.siren,
        siret=found.siret,
        url=_url(org.get("url")),
        logo=org.text("logo"),
    )
