"""GraphQL inputs, and their translation to hub.catalogue.filters (where values are checked)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import strawberry

from hub.catalogue import taxonomy
from hub.catalogue.filters import MissionFilter, MissionOrder, Near
from hub.catalogue.model import EngagementType, MissionStatus, Remote
from hub.errors import FilterError
from schema.types import (
    Cause,
    EngagementTypeEnum,
    MissionStatusEnum,
    RemoteEnum,
    describe_values,
)

__all__ = [
    "MissionFilterInput",
    "MissionOrderEnum",
    "NearInput",
    "day_end",
    "day_start",
    "to_filter",
]

MissionOrderEnum = describe_values(
    strawberry.enum(
        MissionOrder,
        name="MissionOrder",
        description="RELEVANCE needs filter.text; NEAREST needs filter.near.",
    ),
    {
        "RELEVANCE": "Most words of filter.text in the title first, then the most recent.",
        "RECENT": "Most recently posted first.",
        "STARTING_SOON": "Soonest start first; missions already started count as starting now.",
        "NEAREST": "Nearest location to filter.near first.",
    },
)


@strawberry.input(description="A point and a radius.")
class NearInput:
    latitude: float = strawberry.field(description="WGS 84 latitude, -90 to 90.")
    longitude: float = strawberry.field(description="WGS 84 longitude, -180 to 180.")
    radius_km: float = strawberry.field(description="Radius in km, above 0.")
    include_fully_remote: bool = strawberry.field(
        default=False, description="Also match FULL-remote missions wherever they are."
    )


@strawberry.input(description="Criteria a mission must all meet; a list means any of its values.")
class MissionFilterInput:
    text: str | None = strawberry.field(
        default=None,
        description="Words that must all appear in the title, description or organization "
        "(case, accents and plurals ignored).",
    )
    causes: list[Cause] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Any of these causes."
    )
    skills: list[str] | None = strawberry.field(
        default=None, description="Any of these skills (slugs of the `skills` query)."
    )
    remote: list[RemoteEnum] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Any of these remote modes."
    )
    near: NearInput | None = strawberry.field(
        default=None, description="A location within this radius."
    )
    postal_code: str | None = strawberry.field(
        default=None, description="A location with this postal code."
    )
    department_code: str | None = strawberry.field(
        default=None, description="A location in this department (75, 2A, 971...)."
    )
    partners: list[str] | None = strawberry.field(
        default=None, description="Published by any of these partners (names)."
    )
    organization: strawberry.ID | None = strawberry.field(
        default=None, description="Run by this organization."
    )
    engagement_types: list[EngagementTypeEnum] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Any of these kinds of engagement."
    )
    available_from: date | None = strawberry.field(
        default=None,
        description="Runs on or after this day (a mission without an end date is open-ended).",
    )
    available_until: date | None = strawberry.field(
        default=None,
        description="Runs on or before this day (a mission without a start date starts now).",
    )
    max_hours_per_week: float | None = strawberry.field(
        default=None, description="Asks for at most this many hours per week (at its lowest)."
    )
    open_to_minors: bool | None = strawberry.field(
        default=None, description="Open (or not) to volunteers under 18."
    )
    updated_since: datetime | None = strawberry.field(
        default=None, description="Changed at or after this instant."
    )
    status: list[MissionStatusEnum] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Any of these statuses; OPEN when omitted."
    )


def day_start(day: date | None) -> datetime | None:
    """The first instant of a day (UTC): where an availability window opens."""
    return datetime.combine(day, time.min, UTC) if day else None


def day_end(day: date | None) -> datetime | None:
    """The last instant of a day (UTC): where an availability window closes."""
    return datetime.combine(day, time.max, UTC) if day else None


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def to_filter(value: MissionFilterInput | None) -> MissionFilter:
    """Check and translate the GraphQL filter; raises FilterError with the field to fix."""
    if value is None:
        return MissionFilter()
    skills = tuple(value.skills or ())
    unknown = [s for s in skills if s not in taxonomy.SKILL_SLUGS]
    if unknown:
        raise FilterError(
            f"filter.skills: unknown skill {unknown[0]!r}; the `skills` query lists them"
        )
    near = None
    if value.near is not None:
        near = Near(
            latitude=value.near.latitude,
            longitude=value.near.longitude,
            radius_km=value.near.radius_km,
            include_fully_remote=value.near.include_fully_remote,
        )
    if value.max_hours_per_week is not None and value.max_hours_per_week < 0:
        raise FilterError("filter.maxHoursPerWeek must not be negative")
    return MissionFilter(
        text=value.text,
        causes=tuple(str(getattr(c, "value", c)) for c in value.causes or ()),
        skills=skills,
        remote=tuple(Remote(r) for r in value.remote or ()),
        near=near,
        postal_codes=(value.postal_code,) if value.postal_code else (),
        department_codes=(value.department_code.upper(),) if value.department_code else (),
        partners=tuple(value.partners or ()),
        organizations=(str(value.organization),) if value.organization else (),
        engagement_types=tuple(EngagementType(e) for e in value.engagement_types or ()),
        available_from=day_start(value.available_from),
        available_until=day_end(value.available_until),
        max_hours_per_week=value.max_hours_per_week,
        open_to_minors=value.open_to_minors,
        updated_since=_utc(value.updated_since) if value.updated_since else None,
        status=(
            tuple(MissionStatus(s) for s in value.status) if value.status else (MissionStatus.OPEN,)
        ),
    )
