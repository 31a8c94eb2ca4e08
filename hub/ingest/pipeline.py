"""The one place that decides what a valid mission is: validate, sanitise, map, geocode, hash.

Pull (connectors) and push (GraphQL mutations) both hand `MissionDraft`s to `prepare`; what comes
out is either a `Prepared` mission, ready for the store, or a `Refusal` with its reason.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import operator
import re
from collections.abc import Callable
from typing import Any, TypeVar

import nh3
import orjson

from hub.catalogue import geo, taxonomy
from hub.catalogue.hours import hours_per_week, schedule_hours
from hub.catalogue.identifiers import compact_identifiers, identifier_problem
from hub.catalogue.model import (
    EngagementType,
    GeoSource,
    Location,
    MissionDraft,
    OrganizationDraft,
    Prepared,
    Refusal,
)
from hub.catalogue.text import search_text, tokens

__all__ = ["MAX_DESCRIPTION", "Prepared", "Refusal", "prepare"]

MAX_DESCRIPTION = 20_000
_ALLOWED_TAGS = {
    "p",
    "br",
    "ul",
    "ol",
    "li",
    "a",
    "strong",
    "em",
    "b",
    "i",
    "h3",
    "h4",
    "blockquote",
}
_BLOCK_END = re.compile(r"</(p|li|h3|h4|blockquote)>|<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


def sanitise_html(value: str) -> str:
    """Keep paragraphs, lists and links; drop scripts, styles, event handlers and the rest."""
    return nh3.clean(
        value,
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    ).strip()


def html_to_text(value: str) -> str:
    """Plain text of sanitised HTML, one line per block."""
    text = _BLOCK_END.sub("\n", value)
    text = html.unescape(_TAG.sub("", text))
    # Runs of spaces never span a line break: folded once over the text, not line by line.
    lines = (line.strip() for line in _SPACES.sub(" ", text).split("\n"))
    return "\n".join(line for line in lines if line)


_T = TypeVar("_T")
_COPIERS: dict[type, Callable[[Any], tuple[Any, ...]] | None] = {}


def replace(obj: _T, /, **changes: Any) -> _T:
    """`dataclasses.replace`, cheaper for the model's plain dataclasses (not frozen, every field
    taken by `__init__` by position, no `__post_init__`): the fields read at once and given in
    order, then the changes set (prepare makes four copies a mission)."""
    cls = type(obj)
    try:
        getter = _COPIERS[cls]
    except KeyError:
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]
        plain = (
            all(f.init and not f.kw_only for f in fields)
            and not hasattr(cls, "__post_init__")
            and not cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
        )
        getter = operator.attrgetter(*(f.name for f in fields)) if plain and fields else None
        names = {f.name for f in fields}
        _COPIERS[cls] = getter
        _FIELD_NAMES[cls] = names
    if getter is None or not changes.keys() <= _FIELD_NAMES[cls]:
        return dataclasses.replace(obj, **changes)  # type: ignore[type-var]
    new = cls(*getter(obj))
    for name, value in changes.items():
        setattr(new, name, value)
    return new


_FIELD_NAMES: dict[type, set[str]] = {}


def _in_france(lat: float, lon: float) -> bool:
    """Metropolitan France and Corsica, where a swapped pair is easy to tell."""
    return 41.0 <= lat <= 51.5 and -5.5 <= lon <= 10.0


def _repair(location: Location) -> Location:
    """French postal codes that lost their leading zero; coordinates given as (lon, lat)."""
    french = (location.country or "FR").upper() in ("FR", "FRANCE")
    postal = (location.postal_code or "").strip() or None
    if french and postal and postal.isdigit() and len(postal) == 4:
        postal = "0" + postal
    if postal != location.postal_code:  # dataclasses.replace is dear: only when it changes
        location = replace(location, postal_code=postal)
    lat, lon = location.latitude, location.longitude
    swapped = lat is not None and lon is not None and not _in_france(lat, lon)
    if french and swapped and _in_france(lon, lat):  # type: ignore[arg-type]
        return replace(location, latitude=lon, longitude=lat, geo_source=GeoSource.PARTNER_SWAPPED)
    return location


def _geocode(location: Location) -> Location:
    location = _repair(location)
    if location.latitude is not None and location.longitude is not None:
        if location.geo_source is GeoSource.NONE:
            return replace(location, geo_source=GeoSource.PARTNER)
        return location
    commune = geo.locate(location.postal_code, location.city)
    if commune is None:
        return location
    return replace(
        location,
        latitude=commune.latitude,
        longitude=commune.longitude,
        postal_code=location.postal_code or commune.postal_code,
        city=location.city or commune.name,
        department_code=location.department_code or commune.department_code,
        region=location.region or commune.region,
        geo_source=GeoSource.POSTAL_CODE if location.postal_code else GeoSource.CITY,
    )


def _check(draft: MissionDraft) -> str | None:
    if not draft.external_id or not draft.external_id.strip():
        return "missing id (externalId)"
    if not draft.title or not draft.title.strip():
        return "missing title"
    if not draft.application_url:
        return "missing application URL"
    if not _URL.match(draft.application_url):
        return f"application URL is not an http(s) URL: {draft.application_url[:80]!r}"
    if draft.description_html and len(draft.description_html) > MAX_DESCRIPTION:
        return f"description over {MAX_DESCRIPTION} characters"
    if draft.description and len(draft.description) > MAX_DESCRIPTION:
        return f"description over {MAX_DESCRIPTION} characters"
    if draft.places_total is not None and draft.places_total <= 0:
        return f"places must be above 0, got {draft.places_total}"
    if draft.places_remaining is not None and draft.places_remaining < 0:
        return f"remaining places must not be negative, got {draft.places_remaining}"
    if draft.start_at and draft.end_at and draft.end_at < draft.start_at:
        return "end date before start date"
    for hours in (draft.hours_per_week_min, draft.hours_per_week_max):
        if hours is not None and not 0 <= hours <= 168:
            return f"hours per week out of range: {hours}"
    if draft.organization is not None:
        org = draft.organization
        problem = identifier_problem(org.rna, org.siren, org.siret)
        if problem is not None:
            return problem
    for location in draft.locations:
        if location.latitude is not None and not -90 <= location.latitude <= 90:
            return f"latitude out of range: {location.latitude}"
        if location.longitude is not None and not -180 <= location.longitude <= 180:
            return f"longitude out of range: {location.longitude}"
    return None


def _hash(draft: MissionDraft, causes: list[str], skills: list[str]) -> str:
    payload = orjson.dumps(
        {"draft": draft, "causes": causes, "skills": skills}, option=orjson.OPT_SORT_KEYS
    )
    return hashlib.sha256(payload).hexdigest()


def prepare(draft: MissionDraft, labels: taxonomy.LabelMap | None = None) -> Prepared | Refusal:
    """Validate and enrich one draft; never raises for bad data, refuses with a reason. Labels
    go through the operator's `labels` (the partner's map, then global synonyms) first."""
    if draft.organization is not None:
        draft = replace(draft, organization=compact_identifiers(draft.organization))
    problem = _check(draft)
    if problem is not None:
        return Refusal(draft.external_id or None, problem)
    description_html = sanitise_html(draft.description_html) if draft.description_html else None
    description = draft.description or (
        html_to_text(description_html) if description_html else None
    )
    labels = labels or taxonomy.LabelMap()
    causes, unmapped_causes = taxonomy.map_labels(draft.causes, labels.cause)
    skills, unmapped_skills = taxonomy.map_labels(draft.skills, labels.skill)
    engagement_type = draft.engagement_type
    if engagement_type is EngagementType.VOLUNTEERING and "benevolat-competences" in causes:
        engagement_type = EngagementType.SKILLS_VOLUNTEERING
    hours_min, hours_max = draft.hours_per_week_min, draft.hours_per_week_max
    if hours_min is None and hours_max is None:
        # The schedule first; many platforms state the weekly time in the description only
        # ("2 heures par semaine"); a bare amount in the schedule ("entre 2 et 4 h") comes
        # after a description's explicit amount per period.
        parsed = (
            hours_per_week(draft.schedule_label)
            or hours_per_week(description)
            or schedule_hours(draft.schedule_label)
        )
        if parsed is not None:
            hours_min, hours_max = parsed
    organization = draft.organization
    if organization is not None:
        organization = replace(organization, name=organization.name.strip())
    clean = replace(
        draft,
        external_id=draft.external_id.strip(),
        title=" ".join(draft.title.split()),
        description=description,
        description_html=description_html,
        engagement_type=engagement_type,
        hours_per_week_min=hours_min,
        hours_per_week_max=hours_max,
        locations=[_geocode(location) for location in draft.locations],
        organization=organization,
        raw_causes=draft.raw_causes or list(draft.causes),
        raw_skills=draft.raw_skills or list(draft.skills),
    )
    org_name = organization.name if isinstance(organization, OrganizationDraft) else None
    return Prepared(
        draft=clean,
        causes=causes,
        skills=skills,
        search_text=search_text(clean.title, org_name, description),
        title_terms=" " + " ".join(tokens(clean.title)) + " ",
        content_hash=_hash(clean, causes, skills),
        raw={
            "causes": clean.raw_causes,
            "skills": clean.raw_skills,
            "unmapped_causes": unmapped_causes,
            "unmapped_skills": unmapped_skills,
            # The name this listing published: organizations shared through an identifier keep
            # one record (and its first spelling); the merged mission picks among these names.
            "organization_name": organization.name if organization is not None else None,
        },
    )
