"""What partners push: the MissionInput document, read item by item.

Values whose format can be wrong (dates, remote mode, engagement type) are strings checked per
item, so that one bad item is refused with its reason and never sinks the rest of the batch.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time
from typing import Any

import strawberry

from hub.catalogue.model import (
    CommitmentKind,
    EngagementType,
    Location,
    MissionDraft,
    OrganizationDraft,
    Refusal,
    Remote,
)

__all__ = ["LocationInput", "MissionInput", "OrganizationInput", "to_draft"]


@strawberry.input(description="Where a pushed mission takes place.")
class LocationInput:
    street: str | None = strawberry.field(default=None, description="Street address.")
    postal_code: str | None = strawberry.field(default=None, description="Postal code.")
    city: str | None = strawberry.field(default=None, description="Commune or city.")
    department_code: str | None = strawberry.field(default=None, description="Department code.")
    region: str | None = strawberry.field(default=None, description="Region.")
    country: str | None = strawberry.field(
        default="FR", description="ISO 3166-1 alpha-2 country code."
    )
    latitude: float | None = strawberry.field(default=None, description="WGS 84 latitude.")
    longitude: float | None = strawberry.field(default=None, description="WGS 84 longitude.")


@strawberry.input(description="The organization running a pushed mission.")
class OrganizationInput:
    name: str = strawberry.field(description="Name.")
    rna: str | None = strawberry.field(default=None, description="RNA (W + 9 characters).")
    siren: str | None = strawberry.field(default=None, description="SIREN (9 digits).")
    siret: str | None = strawberry.field(default=None, description="SIRET (14 digits).")
    url: str | None = strawberry.field(default=None, description="Website.")
    logo: str | None = strawberry.field(default=None, description="Logo URL.")


@strawberry.input(
    description="A whole mission document: a push replaces what the hub holds for its "
    "(partner, externalId)."
)
class MissionInput:
    external_id: str = strawberry.field(description="Your id for the mission; the upsert key.")
    title: str = strawberry.field(description="Title.")
    application_url: str = strawberry.field(description="Where volunteers apply (http or https).")
    description: str | None = strawberry.field(default=None, description="Plain-text description.")
    description_html: str | None = strawberry.field(
        default=None, description="HTML description; sanitised (paragraphs, lists, links kept)."
    )
    tags: list[str] = strawberry.field(default_factory=list, description="Free tags.")
    engagement_type: str = strawberry.field(
        default="VOLUNTEERING",
        description="VOLUNTEERING, SKILLS_VOLUNTEERING, CIVIC_SERVICE or OTHER.",
    )
    remote: str = strawberry.field(default="NONE", description="FULL, POSSIBLE or NONE.")
    locations: list[LocationInput] = strawberry.field(
        default_factory=list, description="Where it takes place."
    )
    causes: list[str] = strawberry.field(
        default_factory=list, description="Causes: slugs or your own labels (mapped by the hub)."
    )
    skills: list[str] = strawberry.field(
        default_factory=list, description="Skills: slugs or your own labels (mapped by the hub)."
    )
    audience: list[str] = strawberry.field(default_factory=list, description="Who it is for.")
    start_at: str | None = strawberry.field(
        default=None, description="ISO 8601 date or date-time; UTC when no offset is given."
    )
    end_at: str | None = strawberry.field(default=None, description="ISO 8601, as startAt.")
    posted_at: str | None = strawberry.field(default=None, description="ISO 8601, as startAt.")
    hours_per_week_min: float | None = strawberry.field(default=None, description="Hours/week.")
    hours_per_week_max: float | None = strawberry.field(default=None, description="Hours/week.")
    total_hours: float | None = strawberry.field(default=None, description="Total hours.")
    commitment_kind: str | None = strawberry.field(
        default=None, description="ONE_OFF or RECURRING."
    )
    schedule_label: str | None = strawberry.field(
        default=None, description="Your wording of the schedule ('2h par semaine')."
    )
    places_total: int | None = strawberry.field(default=None, description="Places offered.")
    places_remaining: int | None = strawberry.field(default=None, description="Places free.")
    organization: OrganizationInput | None = strawberry.field(
        default=None, description="Who runs it."
    )
    open_to_minors: bool | None = strawberry.field(default=None, description="Open under 18.")
    reduced_mobility_accessible: bool | None = strawberry.field(
        default=None, description="Accessible with reduced mobility."
    )


class _Bad(ValueError):
    pass


def _moment(field: str, value: str | None) -> datetime | None:
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time.min, UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise _Bad(f"{field}: not an ISO 8601 date: {value[:40]!r}") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _choice(field: str, value: str, kind: type[Remote | EngagementType | CommitmentKind]) -> str:
    normal = value.strip().upper()
    if normal not in kind.__members__:
        raise _Bad(f"{field}: unknown value {value[:40]!r} (one of {', '.join(kind.__members__)})")
    return normal


def _as_is(value: object) -> dict[str, Any]:
    """The fields of an input that the draft takes as they are (lists copied), by name."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(value):  # type: ignore[arg-type]
        if f.name not in _CONVERTED:
            given = getattr(value, f.name)
            out[f.name] = list(given) if isinstance(given, list) else given
    return out


# Input fields read into another type (dates, enums) or another object; the others are copied.
_CONVERTED = frozenset(
    (
        "engagement_type",
        "remote",
        "commitment_kind",
        "start_at",
        "end_at",
        "posted_at",
        "locations",
        "organization",
    )
)


def to_draft(item: MissionInput) -> MissionDraft | Refusal:
    """The draft the pipeline takes, or a refusal naming the field that cannot be read."""
    try:
        return MissionDraft(
            **_as_is(item),
            engagement_type=EngagementType(
                _choice("engagementType", item.engagement_type, EngagementType)
            ),
            remote=Remote(_choice("remote", item.remote, Remote)),
            locations=[Location(**_as_is(loc)) for loc in item.locations],
            start_at=_moment("startAt", item.start_at),
            end_at=_moment("endAt", item.end_at),
            posted_at=_moment("postedAt", item.posted_at),
            commitment_kind=(
                CommitmentKind(_choice("commitmentKind", item.commitment_kind, CommitmentKind))
                if item.commitment_kind
                else None
            ),
            organization=(
                OrganizationDraft(**_as_is(item.organization)) if item.organization else None
            ),
        )
    except _Bad as exc:
        return Refusal(item.external_id or None, str(exc))
