"""What the store hands back: plain objects, cheap to build, read field by field by GraphQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hub.catalogue.model import CommitmentKind, EngagementType, GeoSource, MissionStatus, Remote

__all__ = [
    "Commitment",
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


@dataclass(slots=True)
class Page:
    """One page of a keyset-paged search."""

    items: list[MissionRecord]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool
