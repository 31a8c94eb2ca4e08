"""VolunteerMatch's GraphQL API: searchOpportunities, paged by number, key in X-api-key."""

from __future__ import annotations

from connectors._paging import PageNumber
from connectors._parse import (
    DateOrder,
    Fields,
    Malformed,
    country_code,
    place_point,
    postal_code,
)
from connectors.contract import Auth, Connector, Outcome, PartnerFormat, RawRecord, Refused
from hub.catalogue.model import CommitmentKind, Location, MissionDraft, OrganizationDraft, Remote

__all__ = ["VolunteerMatch"]

QUERY = """
query Opportunities($input: SearchOpportunitiesInput!) {
  searchOpportunities(input: $input) {
    resultsSize
    opportunities {
      id
      title
      description
      plaintextDescription
      url
      virtual
      volunteersNeeded
      categories
      skillsNeeded
      greatFor
      datePosted
      availability { startDate endDate ongoing singleDayOpportunity }
      location { street1 street2 city region postalCode country geoLocation { lat lon } }
      parentOrg { id name url }
    }
  }
}
"""


class VolunteerMatch(Connector):
    """Opportunities page by page (`pageNumber`, `numberOfResults`, stopping at `resultsSize`).

    Page-number paging can skip or repeat items when the catalogue changes mid-pull, so a pull
    read to the end is a FULL_PASS, not a snapshot. `ConnectorConfig.options` go into the search
    input as they are (e.g. {"virtual": True} for remote opportunities only). A schema change
    under our query (a renamed field) comes back as GraphQL errors: a fatal `GraphQLError`
    naming the field, never an empty result.
    """

    name = "volunteermatch-graphql"
    title = "VolunteerMatch GraphQL API"
    format = PartnerFormat.GRAPHQL
    auth = Auth.API_KEY_HEADER
    api_key_header = "X-api-key"
    path = "/graphql"
    paginator = PageNumber(
        page="pageNumber", size="numberOfResults", total=("searchOpportunities", "resultsSize")
    )
    records = ("searchOpportunities", "opportunities")
    page_size = 50
    query = QUERY
    default_date_order = DateOrder.MONTH_FIRST

    def normalise(self, raw: RawRecord) -> Outcome:
        try:
            opportunity = Fields(raw, "opportunity")
            external_id = opportunity.required("id")
        except Malformed as exc:
            return Refused(None, str(exc))
        try:
            return self._draft(opportunity, external_id)
        except Malformed as exc:
            return Refused(external_id, str(exc))

    def _draft(self, opportunity: Fields, external_id: str) -> MissionDraft:
        order = self.date_order
        availability = opportunity.sub("availability") or Fields({})
        where = opportunity.sub("location")
        location = _location(where) if where is not None else None
        kind = None
        if availability.flag("singleDayOpportunity"):
            kind = CommitmentKind.ONE_OFF
        elif availability.flag("ongoing"):
            kind = CommitmentKind.RECURRING
        return MissionDraft(
            external_id=external_id,
            title=opportunity.required("title"),
            application_url=opportunity.text("url"),
            description_html=opportunity.text("description"),
            description=opportunity.text("plaintextDescription"),
            remote=Remote.FULL if opportunity.flag("virtual") else Remote.NONE,
            locations=[location] if location is not None else [],
            causes=opportunity.texts("categories"),
            skills=opportunity.texts("skillsNeeded", split_commas=True),
            audience=opportunity.texts("greatFor"),
            start_at=availability.date("startDate", order=order),
            end_at=availability.date("endDate", order=order),
            posted_at=opportunity.date("datePosted", order=order),
            commitment_kind=kind,
            places_total=opportunity.integer("volunteersNeeded"),
            organization=_organization(opportunity.sub("parentOrg")),
        )


def _location(where: Fields) -> Location | None:
    country = country_code(where.text("country"))
    french = country == "FR"
    street = ", ".join(t for t in (where.text("street1"), where.text("street2")) if t) or None
    location = Location(
        street=street,
        postal_code=postal_code(where.get("postalCode"), french=french),
        city=where.text("city"),
        region=where.text("region"),
        country=country,
    )
    point = where.sub("geoLocation")
    if point is not None:
        placed = place_point(point.number("lat"), point.number("lon"), in_france=french)
        if placed is not None:
            location.latitude, location.longitude, location.geo_source = placed
    return None if location.city is None and location.latitude is None else location


def _organization(org: Fields | None) -> OrganizationDraft | None:
    name = org.text("name") if org is not None else None
    if org is None or name is None:
        return None
    return OrganizationDraft(name=name, url=org.text("url"))
