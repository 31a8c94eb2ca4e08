"""What the store hands back: plain objects, cheap to build, read field by field by GraphQL."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, get_args, get_type_hints

from hub.catalogue.model import CommitmentKind, EngagementType, GeoSource, MissionStatus, Remote

__all__ = [
    "Commitment",
    "ListingRecord",
    "LocationRecord",
    "MissionRecord",
    "OrganizationRecord",
    "Page",
    "PartnerRecord",
    "Places",
    "SkillRecord",
]


@dataclass(slots=True)
class LocationRecord:
    street: str | None
    postal_code: str | None
    city: str | None
    department_code: str | None
    region: str | None
    country: str | None
    latitude: float | None
    longitude: float | None
    geo_source: GeoSource


@dataclass(slots=True)
class OrganizationRecord:
    pk: int
    id: str
    name: str
    rna: str | None
    siren: str | None
    siret: str | None
    url: str | None
    logo: str | None


@dataclass(slots=True)
class PartnerRecord:
    pk: int
    id: str
    name: str
    display_name: str
    connector: str | None
    push_only: bool
    enabled: bool
    url: str | None = None
    mission_count: int = 0
    last_sync: dict[str, Any] | None = None
    health: str = "OK"
    last_success_at: datetime | None = None
    last_error: str | None = None
    consecutive_failures: int = 0

    @classmethod
    def from_row(cls, row: Any) -> PartnerRecord:
        """From a `partners` row (any mapping with its columns)."""
        return cls(
            pk=row["pk"],
            id=row["id"],
            name=row["name"],
            display_name=row["display_name"],
            connector=row["connector"],
            push_only=row["push_only"],
            enabled=row["enabled"],
            url=row["url"],
        )


@dataclass(slots=True)
class ListingRecord:
    """One partner's listing of a mission: where an intranet links to apply on that platform."""

    partner: PartnerRecord
    external_id: str
    application_url: str | None
    posted_at: datetime | None


@dataclass(slots=True)
class SkillRecord:
    slug: str
    label: str


@dataclass(slots=True)
class Commitment:
    hours_per_week_min: float | None
    hours_per_week_max: float | None
    total_hours: float | None
    kind: CommitmentKind | None
    schedule_label: str | None


@dataclass(slots=True)
class Places:
    total: int | None
    remaining: int | None


@dataclass(slots=True)
class MissionRecord:
    pk: int
    id: str
    partner: PartnerRecord
    external_id: str
    application_url: str | None
    title: str
    description: str | None
    description_html: str | None
    tags: list[str]
    engagement_type: EngagementType
    remote: Remote
    audience: list[str]
    start_at: datetime | None
    end_at: datetime | None
    posted_at: datetime | None
    commitment: Commitment
    places: Places
    organization: OrganizationRecord | None
    open_to_minors: bool | None
    reduced_mobility_accessible: bool | None
    status: MissionStatus
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    raw: dict[str, Any]
    locations: list[LocationRecord] = field(default_factory=list)
    causes: list[str] = field(default_factory=list)
    skills: list[SkillRecord] = field(default_factory=list)
    distance_km: float | None = None
    also_published_on: list[PartnerRecord] = field(default_factory=list)
    is_duplicate: bool = False  # another partner's older listing of it is the one shown
    listings: list[ListingRecord] = field(default_factory=list)  # every partner's, this one first

    @classmethod
    def from_row(
        cls,
        row: Mapping[str, Any],
        *,
        partner: PartnerRecord,
        organization: OrganizationRecord | None,
        locations: list[LocationRecord],
        causes: list[str],
        skills: list[SkillRecord],
        also_published_on: list[PartnerRecord],
    ) -> MissionRecord:
        """From a `missions` row: every field named as a column is read from it (an enum by its
        type, a list or dict copied), so a new mission field needs no code here."""
        values: dict[str, Any] = {}
        for name, kind in _ROW_FIELDS:
            value = row[name]
            if value is not None and isinstance(kind, type) and issubclass(kind, enum.Enum):
                value = kind(value)
            elif kind is list or kind is dict:
                value = kind(value or kind())
            values[name] = value
        kind = row["commitment_kind"]
        return cls(
            **values,
            partner=partner,
            commitment=Commitment(
                hours_per_week_min=row["hours_per_week_min"],
                hours_per_week_max=row["hours_per_week_max"],
                total_hours=row["total_hours"],
                kind=CommitmentKind(kind) if kind else None,
                schedule_label=row["schedule_label"],
            ),
            places=Places(row["places_total"], row["places_remaining"]),
            organization=organization,
            locations=locations,
            causes=causes,
            skills=skills,
            also_published_on=also_published_on,
            is_duplicate=row["canonical_pk"] is not None,
        )


# MissionRecord's fields that are not a `missions` column of the same name: built by from_row.
_NOT_COLUMNS = frozenset(
    {
        "partner",  # partner_pk, resolved
        "commitment",  # hours_per_week_min/max, total_hours, commitment_kind, schedule_label
        "places",  # places_total, places_remaining
        "organization",  # organization_pk, resolved
        "locations",  # mission_locations
        "causes",  # mission_causes
        "skills",  # mission_skills
        "distance_km",  # computed by a NEAREST search
        "also_published_on",  # other partners' listings of it
        "is_duplicate",  # canonical_pk
        "listings",  # every open listing of the mission's cluster
    }
)


def _kind(hint: Any) -> Any:
    """`Remote | None` -> Remote, `list[str]` -> list."""
    args = [arg for arg in get_args(hint) if arg is not type(None)]
    if len(args) == 1 and type(None) in get_args(hint):
        hint = args[0]
    return getattr(hint, "__origin__", hint)


_HINTS = get_type_hints(MissionRecord)
_ROW_FIELDS = tuple(
    (f.name, _kind(_HINTS[f.name]))
    for f in dataclasses.fields(MissionRecord)
    if f.name not in _NOT_COLUMNS
)


@dataclass(slots=True)
class Page:
    """One page of a keyset-paged search."""

    items: list[MissionRecord]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool
