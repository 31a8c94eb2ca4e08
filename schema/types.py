"""GraphQL object types; resolvers read plain attributes of hub.catalogue.records objects."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar, cast

import strawberry
from graphql import GraphQLResolveInfo
from strawberry.types import Info

from hub.auth.caller import READ
from hub.catalogue import taxonomy
from hub.catalogue.model import CommitmentKind, EngagementType, GeoSource, MissionStatus, Remote
from hub.catalogue.records import MissionRecord, OrganizationRecord, PartnerRecord
from hub.catalogue.skill_relations import related_skills
from schema.context import Context

__all__ = [
    "Cause",
    "CauseInfo",
    "Commitment",
    "CommitmentKindEnum",
    "EngagementTypeEnum",
    "GeoSourceEnum",
    "Location",
    "Mission",
    "MissionStatusEnum",
    "Node",
    "Organization",
    "Partner",
    "Places",
    "RemoteEnum",
    "Skill",
    "SyncRun",
    "describe_values",
]


_E = TypeVar("_E")


def describe_values(enum_type: _E, descriptions: Mapping[str, str]) -> _E:
    """Give every value of a strawberry enum its description: the SDL documents each one.

    For enums defined outside the schema (hub.catalogue.model), whose members cannot carry
    strawberry.enum_value; a member without a description fails here, at import.
    """
    values = cast(Any, enum_type).__strawberry_definition__.values
    names = {value.name for value in values}
    if names != set(descriptions):
        raise ValueError(f"{enum_type}: describe exactly {sorted(names)}")
    for value in values:
        value.description = descriptions[value.name]
    return enum_type


RemoteEnum = describe_values(
    strawberry.enum(
        Remote,
        name="RemoteMode",
        description="Whether a mission can be done from home.",
    ),
    {
        "FULL": "Entirely remote.",
        "POSSIBLE": "Remote in part, or by arrangement with the organization.",
        "NONE": "On site only.",
    },
)
EngagementTypeEnum = describe_values(
    strawberry.enum(
        EngagementType,
        name="EngagementType",
        description="The kind of engagement: volunteering, skills-based volunteering, civic "
        "service.",
    ),
    {
        "VOLUNTEERING": "Volunteering (bénévolat).",
        "SKILLS_VOLUNTEERING": "Skills-based volunteering (mécénat de compétences).",
        "CIVIC_SERVICE": "French civic service (service civique).",
        "OTHER": "Another kind of volunteering (other volontariat programmes).",
    },
)
MissionStatusEnum = describe_values(
    strawberry.enum(
        MissionStatus,
        name="MissionStatus",
        description="OPEN missions take volunteers; CLOSED ones were withdrawn; EXPIRED ones "
        "ended.",
    ),
    {
        "OPEN": "Takes volunteers.",
        "CLOSED": "Withdrawn by its partner, or gone from the partner's catalogue.",
        "EXPIRED": "Its end date has passed.",
    },
)
CommitmentKindEnum = describe_values(
    strawberry.enum(
        CommitmentKind,
        name="CommitmentKind",
        description="A one-off engagement or a recurring one.",
    ),
    {
        "ONE_OFF": "Once, or over a few days (an event, a one-off task).",
        "RECURRING": "Regularly, some hours a week.",
    },
)
GeoSourceEnum = describe_values(
    strawberry.enum(
        GeoSource,
        name="GeoSource",
        description="How a location's point was found.",
    ),
    {
        "PARTNER": "Coordinates given by the partner.",
        "PARTNER_SWAPPED": "Given by the partner as (longitude, latitude), and put right.",
        "POSTAL_CODE": "Geocoded offline from the postal code.",
        "CITY": "Geocoded offline from the commune's name.",
        "NONE": "No point: latitude and longitude are null.",
    },
)

_CauseValues = enum.Enum(  # type: ignore[misc]
    "_CauseValues", {c.slug.replace("-", "_").upper(): c.slug for c in taxonomy.CAUSES}
)
Cause = describe_values(
    strawberry.enum(
        _CauseValues,
        name="Cause",
        description="The 20 causes of API Engagement, the French public volunteering aggregator.",
    ),
    {c.slug.replace("-", "_").upper(): f"{c.label} ({c.slug})." for c in taxonomy.CAUSES},
)


def cause_enum(slug: str) -> Any:
    """The Cause enum member for a slug."""
    return Cause(slug)


@strawberry.interface(description="An object with a global, stable id.")
class Node:
    id: strawberry.ID = strawberry.field(description="Global, stable identifier.")


@strawberry.type(description="A cause a mission serves, with its French label.")
class CauseInfo:
    value: Cause = strawberry.field(description="The cause.")  # type: ignore[valid-type]
    label: str = strawberry.field(description="French display label.")


@strawberry.type(description="A skill of the hub's canonical skills taxonomy.")
class Skill:
    slug: str = strawberry.field(description="Stable identifier, used in filters.")
    label: str = strawberry.field(description="French display label.")

    @strawberry.field(description='The family it is listed under ("Numérique"...).')
    def family(self) -> str:
        return taxonomy.skill_family(self.slug)

    @strawberry.field(
        description="Skills explicitly related to it: the professions overlap, so "
        "recommendations count one for the other."
    )
    def related(self) -> list[Skill]:
        return [Skill(slug=s, label=taxonomy.skill_label(s)) for s in related_skills(self.slug)]


@strawberry.type(description="Where a mission takes place.")
class Location:
    street: str | None = strawberry.field(description="Street address.")
    postal_code: str | None = strawberry.field(description="Postal code.")
    city: str | None = strawberry.field(description="Commune or city.")
    department_code: str | None = strawberry.field(
        description="French department code (2A, 75, 971...)."
    )
    region: str | None = strawberry.field(description="Region name.")
    country: str | None = strawberry.field(description="ISO 3166-1 alpha-2 country code.")
    latitude: float | None = strawberry.field(description="WGS 84 latitude.")
    longitude: float | None = strawberry.field(description="WGS 84 longitude.")
    geo_source: GeoSourceEnum = strawberry.field(  # type: ignore[valid-type]
        description="How the point was found."
    )


@strawberry.type(description="How much time a mission asks for.")
class Commitment:
    hours_per_week_min: float | None = strawberry.field(description="Fewest hours per week.")
    hours_per_week_max: float | None = strawberry.field(description="Most hours per week.")
    total_hours: float | None = strawberry.field(description="Total hours, for one-off missions.")
    kind: CommitmentKindEnum | None = strawberry.field(  # type: ignore[valid-type]
        description="One-off or recurring."
    )
    schedule_label: str | None = strawberry.field(
        description="The partner's own wording of the schedule."
    )


@strawberry.type(description="Volunteer places of a mission.")
class Places:
    total: int | None = strawberry.field(description="Places offered.")
    remaining: int | None = strawberry.field(description="Places still free.")


@strawberry.type(description="What one sync run did.")
class SyncCounts:
    seen: int = strawberry.field(
        description="Records processed: created + updated + unchanged + refused + withdrawn."
    )
    created: int = strawberry.field(description="Missions created.")
    updated: int = strawberry.field(description="Missions changed.")
    unchanged: int = strawberry.field(description="Records identical to what the hub held.")
    refused: int = strawberry.field(description="Records refused, with reasons.")
    withdrawn: int = strawberry.field(description="Records the partner marked deleted.")
    expired: int = strawberry.field(description="Missions found past their end date.")
    closed: int = strawberry.field(description="Missions closed (withdrawn, absent, stale).")


@strawberry.type(description="The last synchronisation run of a partner.")
class SyncRun:
    status: str = strawberry.field(
        description="RUNNING, SUCCEEDED, FAILED, or SUSPICIOUS (an empty or much smaller pull: "
        "nothing was closed)."
    )
    started_at: datetime = strawberry.field(description="When the run started.")
    finished_at: datetime | None = strawberry.field(description="When it ended.")
    error: str | None = strawberry.field(description="Why it failed, when it did.")
    counts: SyncCounts = strawberry.field(description="What it did.")


@strawberry.enum(description="How a partner's syncs go.")
class PartnerHealth(enum.Enum):
    OK = strawberry.enum_value("OK", description="Its syncs succeed.")
    DEGRADED = strawberry.enum_value(
        "DEGRADED", description="A sync failed lately, or a pull looked suspicious."
    )
    FAILING = strawberry.enum_value(
        "FAILING", description="Its syncs fail repeatedly, or its circuit breaker is open."
    )
    PENDING = strawberry.enum_value(
        "PENDING", description="A partner the hub pulls, not synced yet."
    )


@strawberry.type(description="A platform the hub gathers missions from.")
class Partner(Node):
    id: strawberry.ID = strawberry.field(description="Global, stable identifier.")
    name: str = strawberry.field(description="Short name, used in filters.")
    display_name: str = strawberry.field(description="Human-readable name.")
    connector: str | None = strawberry.field(
        description="The connector that pulls its catalogue; null for push-only partners."
    )
    push_only: bool = strawberry.field(description="True when the partner pushes its offers.")

    @strawberry.field(description="Open missions from this partner.")
    async def mission_count(self, info: Info[Context, None]) -> int:
        # Wherever a partner appears (partners, node, a mission's partner or alsoPublishedOn),
        # counted alike, in one query a request.
        return await info.context.partner_counts.load(int(getattr(self, "pk")))  # noqa: B009

    @strawberry.field(description="The partner's most recent sync run, if any.")
    def last_sync(self) -> SyncRun | None:
        run = getattr(self, "last_sync", None)
        if not run:
            return None
        counts = {k: int(run["counts"].get(k, 0)) for k in SyncCounts.__annotations__}
        return SyncRun(
            status=run["status"],
            started_at=run["started_at"],
            finished_at=run["finished_at"],
            error=run["error"],
            counts=SyncCounts(**counts),
        )

    @strawberry.field(description="OK, DEGRADED, FAILING, or PENDING before its first sync.")
    def health(self) -> PartnerHealth:
        return PartnerHealth(getattr(self, "health", "OK"))

    @strawberry.field(description="When a sync last succeeded.")
    def last_success_at(self) -> datetime | None:
        return getattr(self, "last_success_at", None)

    @strawberry.field(description="The last sync error, until a sync succeeds.")
    def last_error(self) -> str | None:
        return getattr(self, "last_error", None)

    @classmethod
    def is_type_of(cls, obj: Any, _info: GraphQLResolveInfo[Any]) -> bool:
        return isinstance(obj, PartnerRecord | cls)


@strawberry.type(description="One partner's listing of a mission: where to apply on that platform.")
class Listing:
    partner: Partner = strawberry.field(description="The partner publishing it.")
    external_id: str = strawberry.field(description="The partner's own id for it.")
    application_url: str | None = strawberry.field(
        description="Where volunteers apply on that partner."
    )
    posted_at: datetime | None = strawberry.field(description="When that partner published it.")


@strawberry.federation.type(keys=["id"], description="An association or organization.")
class Organization(Node):
    id: strawberry.ID = strawberry.field(description="Global, stable identifier.")
    name: str = strawberry.field(description="Name.")
    rna: str | None = strawberry.field(
        description="RNA number of a French association (W + 9 characters)."
    )
    siren: str | None = strawberry.field(description="SIREN (9 digits).")
    siret: str | None = strawberry.field(description="SIRET (14 digits).")
    url: str | None = strawberry.field(description="Website.")
    logo: str | None = strawberry.field(description="Logo URL.")

    @classmethod
    async def resolve_reference(
        cls, info: Info[Context, None], id: strawberry.ID
    ) -> OrganizationRecord | None:
        """Federation `_entities`: batched by the request's loader (one query a batch)."""
        return await info.context.organizations.load(str(id))

    @classmethod
    def is_type_of(cls, obj: Any, _info: GraphQLResolveInfo[Any]) -> bool:
        return isinstance(obj, OrganizationRecord | cls)


def _causes(root: Any) -> list[CauseInfo]:
    return [CauseInfo(value=cause_enum(c), label=taxonomy.cause_label(c)) for c in root.causes]


@strawberry.federation.type(
    keys=["id"], description="A volunteering mission, merged from a partner's record."
)
class Mission(Node):
    id: strawberry.ID = strawberry.field(description="Global, stable identifier.")
    partner: Partner = strawberry.field(description="The partner that published it.")
    external_id: str = strawberry.field(description="The partner's own id for it.")
    application_url: str | None = strawberry.field(description="Where volunteers apply.")
    title: str = strawberry.field(description="Title.")
    description: str | None = strawberry.field(description="Description as plain text.")
    description_html: str | None = strawberry.field(
        description="Description as sanitised HTML (paragraphs, lists, links)."
    )
    tags: list[str] = strawberry.field(description="The partner's tags.")
    engagement_type: EngagementTypeEnum = strawberry.field(  # type: ignore[valid-type]
        description="Kind of engagement."
    )
    remote: RemoteEnum = strawberry.field(  # type: ignore[valid-type]
        description="Whether it can be done remotely."
    )
    locations: list[Location] = strawberry.field(description="Where it takes place.")
    causes: list[CauseInfo] = strawberry.field(
        resolver=_causes, description="Causes it serves (canonical)."
    )
    skills: list[Skill] = strawberry.field(description="Skills it asks for (canonical).")
    audience: list[str] = strawberry.field(description="Who it is for, as the partner says.")
    start_at: datetime | None = strawberry.field(description="When it starts.")
    end_at: datetime | None = strawberry.field(description="When it ends.")
    posted_at: datetime | None = strawberry.field(description="When the partner published it.")
    commitment: Commitment = strawberry.field(description="Time it asks for.")
    places: Places = strawberry.field(description="Volunteer places.")
    organization: Organization | None = strawberry.field(description="Who runs it.")
    open_to_minors: bool | None = strawberry.field(description="Open to volunteers under 18.")
    reduced_mobility_accessible: bool | None = strawberry.field(
        description="Accessible to people with reduced mobility."
    )
    status: MissionStatusEnum = strawberry.field(  # type: ignore[valid-type]
        description="Life-cycle status."
    )
    created_at: datetime = strawberry.field(description="When the hub first saw it.")
    updated_at: datetime = strawberry.field(description="When the hub last changed it.")
    closed_at: datetime | None = strawberry.field(description="When it was closed.")

    @strawberry.field(
        description="Distance in km to the nearest location, when ordered by NEAREST "
        "(to the metre: 3 decimals)."
    )
    def distance_km(self) -> float | None:
        distance: float | None = getattr(self, "distance_km", None)
        return None if distance is None else round(distance, 3)

    @strawberry.field(
        description="Other partners publishing the same mission; empty for a partner's own "
        "token, which sees nothing of other partners' catalogues.",
        deprecation_reason="Use `listings`: each partner's listing, with its URL.",
    )
    def also_published_on(self, info: Info[Context, None]) -> list[Partner]:
        caller = info.context.caller
        if caller is None or not caller.has(READ):
            return []
        return list(getattr(self, "also_published_on", []))

    @strawberry.field(
        description="Every partner's listing of this mission, this one first, then by age: "
        "where to apply on each. A partner's own token sees its own listing only."
    )
    def listings(self, info: Info[Context, None]) -> list[Listing]:
        own: list[Any] = list(getattr(self, "listings", []))
        caller = info.context.caller
        if caller is None or not caller.has(READ):
            return own[:1]
        return own

    @strawberry.field(description="The partner's own labels for causes, before mapping.")
    def raw_causes(self) -> list[str]:
        return list(getattr(self, "raw", {}).get("causes", []))

    @strawberry.field(description="The partner's own labels for skills, before mapping.")
    def raw_skills(self) -> list[str]:
        return list(getattr(self, "raw", {}).get("skills", []))

    @classmethod
    async def resolve_reference(
        cls, info: Info[Context, None], id: strawberry.ID
    ) -> MissionRecord | None:
        """Federation `_entities`: batched by the request's loader, under the caller's policy
        (a mission the policy hides is null, as in `mission(id)`)."""
        return await info.context.missions.load(str(id))

    @classmethod
    def is_type_of(cls, obj: Any, _info: GraphQLResolveInfo[Any]) -> bool:
        return isinstance(obj, MissionRecord | cls)
