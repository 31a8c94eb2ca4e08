"""API Engagement's mission fields, read once for its XML feed and its REST API alike.

The French aggregator's vocabulary is the hub's (DESIGN.md, Names): clientId → external id,
domain → causes (kept raw: a slug or a label such as "mémoire et citoyenneté", the pipeline maps
it), remote full/possible/no (and local) → FULL/POSSIBLE/NONE, type → engagement type. The field
names drift between partners and versions (adresse, organizationRna, zip, lonlat "lon,lat"):
each field is read under every name it is known to travel under.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from connectors._identifiers import identifiers
from connectors._parse import (
    DateOrder,
    Fields,
    Malformed,
    country_code,
    parse_lonlat,
    place_point,
    postal_code,
)
from connectors.contract import Close, Outcome, Refused
from hub.catalogue.model import EngagementType, Location, MissionDraft, OrganizationDraft, Remote

__all__ = ["mission_outcome"]

_REMOTE = {"full": Remote.FULL, "possible": Remote.POSSIBLE, "no": Remote.NONE}
_DEPARTMENT = re.compile(r"(?:\d{2,3}|2[AB])", re.IGNORECASE)
_ADDRESS_ITEMS = ("address", "adresse")


def mission_outcome(
    raw: object, *, id_fields: tuple[str, ...], order: DateOrder, deleted_field: str | None = None
) -> Outcome:
    """One API Engagement mission as a draft, a closure (`deleted_field` set) or a refusal."""
    try:
        record = Fields(raw, "mission")
        external_id = record.required(*id_fields)
    except Malformed as exc:
        return Refused(None, str(exc))
    if deleted_field and record.get(deleted_field) is not None:
        return Close(external_id, f"deleted on the partner ({deleted_field} is set)")
    try:
        return _draft(record, external_id, order)
    except Malformed as exc:
        return Refused(external_id, str(exc))


def _draft(record: Fields, external_id: str, order: DateOrder) -> MissionDraft:
    causes = record.texts("domain", "domaine")
    # The kind of activity ("Animation, Valorisation": one value, commas too) says what is done,
    # not what skill it takes: a tag, never a skill.
    activities = record.texts("activities") or record.texts("activity")
    return MissionDraft(
        external_id=external_id,
        title=record.required("title", "titre"),
        application_url=record.text("applicationUrl", "url"),
        description_html=record.text("description"),
        tags=_unique(record.texts("tags", split_commas=True) + activities),
        engagement_type=_engagement_type(record.text("type"), causes),
        remote=_REMOTE.get((record.text("remote") or "").lower(), Remote.NONE),
        locations=_locations(record),
        causes=causes,
        skills=record.texts("softSkills", split_commas=True),
        audience=record.texts("audience", split_commas=True),
        start_at=record.date("startAt", order=order),
        end_at=record.date("endAt", order=order),
        posted_at=record.date("postedAt", "createdAt", order=order),
        schedule_label=record.text("schedule"),
        places_total=record.integer("places"),
        organization=_organization(record),
        open_to_minors=record.flag("openToMinors"),
        reduced_mobility_accessible=record.flag("reducedMobilityAccessible"),
    )


def _engagement_type(kind: str | None, causes: list[str]) -> EngagementType:
    folded = _fold(kind or "benevolat")
    if folded == "benevolat":
        skilled = "benevolat-competences" in causes
        return EngagementType.SKILLS_VOLUNTEERING if skilled else EngagementType.VOLUNTEERING
    if folded == "volontariat_service_civique":
        return EngagementType.CIVIC_SERVICE
    return EngagementType.OTHER  # sapeurs-pompiers, réserve opérationnelle, and the unknown


def _fold(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[\s\-]+", "_", plain.strip().lower())


def _locations(record: Fields) -> list[Location]:
    found = record.subs("addresses", "adresses", items=_ADDRESS_ITEMS)
    if not found:  # one address at mission level: <adresse>, or <address> with children
        found = record.subs(*_ADDRESS_ITEMS)
    if not found:  # older feeds: postalCode, city, lonlat... directly on the mission
        found = [record]
    locations = [_location(address) for address in found]
    return [location for location in locations if location is not None]


def _location(address: Fields) -> Location | None:
    named = address.text("country", "pays")
    country = country_code(named) if named else "FR"
    french = country == "FR"
    latitude, longitude = _coordinates(address)
    point = place_point(latitude, longitude, in_france=french)
    department = address.text("departmentCode", "department", "codeDepartement")
    location = Location(
        street=address.text("street", "rue", "address", "adresse"),
        postal_code=postal_code(
            address.get("postalCode", "zip", "postcode", "codePostal"), french=french
        ),
        city=address.text("city", "ville"),
        department_code=department.upper()
        if department and _DEPARTMENT.fullmatch(department)
        else None,
        region=address.text("region"),
        country=country,
    )
    if point is not None:
        location.latitude, location.longitude, location.geo_source = point
    if all(
        value is None
        for value in (location.street, location.postal_code, location.city, location.latitude)
    ):
        return None
    return location


def _coordinates(address: Fields) -> tuple[float | None, float | None]:
    nested = address.sub("location", "geoloc", "coordinates")
    for source in (nested, address):
        if source is None:
            continue
        latitude, longitude = source.number("lat", "latitude"), source.number("lon", "lng")
        if longitude is None:
            longitude = source.number("longitude")
        if latitude is not None and longitude is not None:
            return latitude, longitude
    pair = parse_lonlat(address.get("lonlat", "lonLat"))
    return pair if pair is not None else (None, None)


def _organization(record: Fields) -> OrganizationDraft | None:
    name = record.text("organizationName", "associationName")
    if name is None:
        return None  # identifiers without a name cannot make an organization
    # Identifiers travel under many names (organizationRNA, a nested organization's
    # governmentId, a generic identifier...): each is known by its shape, wherever it is.
    nested = record.get("organization", "association", "structure")
    found = identifiers(nested if isinstance(nested, Mapping) else None, record.raw)
    return OrganizationDraft(
        name=name,
        rna=found.rna,
        siren=found.siren,
        siret=found.siret,
        url=record.text("organizationUrl"),
        logo=record.text("organizationLogo"),
    )


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
