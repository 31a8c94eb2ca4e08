"""The unified mission model: plain, typed values shared by connectors, pipeline and storage.

Connectors produce `MissionDraft`s; the pipeline validates and enriches them; storage writes them;
the GraphQL layer reads `MissionRecord`s. Nothing here touches I/O.
"""

from __future__ import annotations

import enum
import operator
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, TypeVar

__all__ = [
    "CommitmentKind",
    "EngagementType",
    "EventType",
    "GeoSource",
    "Location",
    "MissionDraft",
    "MissionStatus",
    "OrganizationDraft",
    "Prepared",
    "Refusal",
    "Remote",
]


class Remote(enum.StrEnum):
    FULL = "FULL"
    POSSIBLE = "POSSIBLE"
    NONE = "NONE"


class EngagementType(enum.StrEnum):
    VOLUNTEERING = "VOLUNTEERING"
    SKILLS_VOLUNTEERING = "SKILLS_VOLUNTEERING"
    CIVIC_SERVICE = "CIVIC_SERVICE"
    OTHER = "OTHER"


class MissionStatus(enum.StrEnum):
    OPEN = "OPEN"
    CLOSED = "CLOSED"
    EXPIRED = "EXPIRED"


class CommitmentKind(enum.StrEnum):
    ONE_OFF = "ONE_OFF"
    RECURRING = "RECURRING"


class GeoSource(enum.StrEnum):
    """How a location's point was found."""

    PARTNER = "PARTNER"  # coordinates given by the partner
    PARTNER_SWAPPED = "PARTNER_SWAPPED"  # given swapped (lon, lat) and put right
    POSTAL_CODE = "POSTAL_CODE"  # geocoded offline from the postal code
    CITY = "CITY"  # geocoded offline from the commune name
    NONE = "NONE"  # no point


class EventType(enum.StrEnum):
    PUBLISHED = "PUBLISHED"
    UPDATED = "UPDATED"
    CLOSED = "CLOSED"


_C = TypeVar("_C", bound=type)


def _pickled_by_position(cls: _C) -> _C:
    """Pickle instances of a plain dataclass (every field given to `__init__` by position, in
    order) as the class and a tuple of its values, `cls(*values)` on loading, instead of
    slots dataclasses' own state (a list made by calling `fields()` on every instance, set
    back one `object.__setattr__` at a time). A sync's pull process sends every mission to the
    writing process pickled: 37 -> 11 us a mission to pickle, 40 -> 9 to load."""
    members = fields(cls)
    assert len(members) > 1 and all(f.init and not f.kw_only for f in members), cls
    values: Callable[[Any], tuple[Any, ...]] = operator.attrgetter(*(f.name for f in members))

    def reduce(self: Any) -> tuple[type, tuple[Any, ...]]:
        if type(self) is not cls:  # its own fields would be lost: refuse rather than drop them
            raise TypeError(f"{type(self).__name__} must be @_pickled_by_position itself")
        return cls, values(self)

    cls.__reduce__ = reduce  # type: ignore[assignment,method-assign]
    return cls


@dataclass(frozen=True, slots=True)
class Refusal:
    """A record that cannot become a mission, and why: the one refusal type, from a connector's
    `normalise` (there named `connectors.Refused`) through the pipeline to the partner's reading
    of it. `reason` is shown to the partner and operators."""

    external_id: str | None
    reason: str


@_pickled_by_position
@dataclass(slots=True)
class Location:
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    department_code: str | None = None
    region: str | None = None
    country: str | None = "FR"
    latitude: float | None = None
    longitude: float | None = None
    geo_source: GeoSource = GeoSource.NONE


@_pickled_by_position
@dataclass(slots=True)
class OrganizationDraft:
    name: str
    rna: str | None = None
    siren: str | None = None
    siret: str | None = None
    url: str | None = None
    logo: str | None = None


@_pickled_by_position
@dataclass(slots=True)
class MissionDraft:
    """One partner record turned into the hub's vocabulary, before validation and enrichment.

    `causes` and `skills` may hold the partner's raw labels; the pipeline maps them onto the
    canonical taxonomies and keeps the raw labels in `raw_causes` / `raw_skills`.
    """

    external_id: str
    title: str
    application_url: str | None = None
    description_html: str | None = None
    description: str | None = None
    tags: list[str] = field(default_factory=list)
    engagement_type: EngagementType = EngagementType.VOLUNTEERING
    remote: Remote = Remote.NONE
    locations: list[Location] = field(default_factory=list)
    causes: list[str] = field(default_factory=list)
    skills: list[str] = field(default_factory=list)
    audience: list[str] = field(default_factory=list)
    start_at: datetime | None = None
    end_at: datetime | None = None
    posted_at: datetime | None = None
    hours_per_week_min: float | None = None
    hours_per_week_max: float | None = None
    total_hours: float | None = None
    commitment_kind: CommitmentKind | None = None
    schedule_label: str | None = None
    places_total: int | None = None
    places_remaining: int | None = None
    organization: OrganizationDraft | None = None
    open_to_minors: bool | None = None
    reduced_mobility_accessible: bool | None = None
    raw_causes: list[str] = field(default_factory=list)
    raw_skills: list[str] = field(default_factory=list)


@_pickled_by_position
@dataclass(slots=True)
class Prepared:
    """A valid mission with everything the store derives from it (made by hub.ingest.pipeline)."""

    draft: MissionDraft
    causes: list[str]  # canonical slugs
    skills: list[str]  # canonical slugs
    search_text: str
    title_terms: str
    content_hash: str
    raw: dict[str, Any] = field(default_factory=dict)
