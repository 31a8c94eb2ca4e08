"""`recommendedMissions`: missions ranked for an employee's profile, each with its reasons."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry
from strawberry.types import Info

from hub.catalogue.filters import Near
from hub.catalogue.ranking import (
    EmployeeProfile,
    ReasonKind,
    RecommendationPage,
    RemotePreference,
    Weights,
)
from hub.settings import Settings
from hub.storage.repository import check_first
from schema.connection import After, PageInfo, PageSize
from schema.context import Context
from schema.inputs import day_end, day_start
from schema.permissions import CanRead
from schema.types import Cause, Mission, describe_values

__all__ = ["EmployeeProfileInput", "RecommendQuery", "to_profile", "weights_of"]

RemotePreferenceEnum = describe_values(
    strawberry.enum(
        RemotePreference,
        name="RemotePreference",
        description="Whether the employee wants to work from home, on site, or either.",
    ),
    {
        "REMOTE_ONLY": "From home only: on-site-only missions are left out.",
        "ON_SITE_ONLY": "On site only: fully remote missions are left out.",
        "ANY": "Either; remote missions are not held to the radius.",
    },
)

ReasonKindEnum = describe_values(
    strawberry.enum(ReasonKind, name="MatchReasonKind", description="Why a mission scored."),
    {
        "SKILL": "It asks for a skill the employee has.",
        "RELATED_SKILL": "It asks for a skill close to one the employee has (the detail says "
        "which, and whether explicitly related or of the same family).",
        "CAUSE": "It serves one of the employee's causes.",
        "DISTANCE": "It takes place within the radius (the detail gives the km).",
        "REMOTE": "It can be done from home.",
        "TIME_FITS": "It asks at most the hours per week the employee offers.",
        "STARTS_SOON": "It starts soon after the employee is available.",
        "LANGUAGE": "It is written in a language the employee gave (French or English, told "
        "from the text).",
    },
)


@strawberry.input(description="Where the employee is, and how far they would travel.")
class ProfileNearInput:
    latitude: float = strawberry.field(description="WGS 84 latitude, -90 to 90.")
    longitude: float = strawberry.field(description="WGS 84 longitude, -180 to 180.")
    radius_km: float = strawberry.field(description="How far on-site missions may be, in km.")


@strawberry.input(description="What an employee offers and wants; every field is optional.")
class EmployeeProfileInput:
    skills: list[str] | None = strawberry.field(
        default=None, description="Their skills (slugs of the `skills` query)."
    )
    causes: list[Cause] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Causes they care about."
    )
    near: ProfileNearInput | None = strawberry.field(
        default=None, description="Where they are: on-site missions must be within the radius."
    )
    remote: RemotePreferenceEnum = strawberry.field(  # type: ignore[valid-type]
        default=RemotePreference.ANY, description="Remote, on site, or either."
    )
    hours_per_week: float | None = strawberry.field(
        default=None, description="Hours a week they can give."
    )
    available_from: date | None = strawberry.field(
        default=None, description="Missions ending before this day are left out."
    )
    available_until: date | None = strawberry.field(
        default=None, description="Missions starting after this day are left out."
    )
    languages: list[str] | None = strawberry.field(
        default=None,
        description="Languages they read (ISO 639-1 codes: fr, en): a mission written in one "
        "of them scores higher.",
    )


def to_profile(value: EmployeeProfileInput) -> EmployeeProfile:
    """Check and translate the GraphQL profile; raises FilterError naming the field to fix."""
    near = None
    if value.near is not None:
        near = Near(value.near.latitude, value.near.longitude, value.near.radius_km)
    return EmployeeProfile(
        skills=tuple(dict.fromkeys(value.skills or ())),
        causes=tuple(dict.fromkeys(str(getattr(c, "value", c)) for c in value.causes or ())),
        near=near,
        remote=RemotePreference(value.remote),
        hours_per_week=value.hours_per_week,
        available_from=day_start(value.available_from),
        available_until=day_end(value.available_until),
        languages=tuple(dict.fromkeys(code.strip().lower() for code in value.languages or ())),
    )


def weights_of(settings: Settings) -> Weights:
    """The ranking weights, from the HUB_RECOMMEND_* settings."""
    return Weights(
        skill=settings.recommend_skill_weight,
        related_skill_share=settings.recommend_related_skill_share,
        family_skill_share=settings.recommend_family_skill_share,
        extra_skill_share=settings.recommend_extra_skill_share,
        named_skill_share=settings.recommend_named_skill_share,
        cause=settings.recommend_cause_weight,
        distance=settings.recommend_distance_weight,
        remote=settings.recommend_remote_weight,
        remote_possible=settings.recommend_remote_possible_weight,
        time_fits=settings.recommend_time_fits_weight,
        starts_soon=settings.recommend_starts_soon_weight,
        starts_soon_days=settings.recommend_starts_soon_days,
        language=settings.recommend_language_weight,
    )


@strawberry.type(description="One reason a mission scored, and what it added.")
class MatchReason:
    kind: ReasonKindEnum = strawberry.field(description="What matched.")  # type: ignore[valid-type]
    detail: str = strawberry.field(description="Which skill, cause, distance... in words.")
    weight: float = strawberry.field(description="What it added to the score.")


@strawberry.type(description="How well a mission fits the profile.")
class Match:
    score: float = strawberry.field(description="The sum of the reasons' weights.")
    reasons: list[MatchReason] = strawberry.field(description="Why, largest weight first.")


@strawberry.type(description="A recommended mission and why.")
class Recommendation:
    mission: Mission = strawberry.field(description="The mission.")
    match: Match = strawberry.field(description="Its score and reasons.")


@strawberry.type(description="One recommendation and its cursor.")
class RecommendationEdge:
    cursor: str = strawberry.field(description="Opaque position of this result.")
    node: Recommendation = strawberry.field(description="The recommendation.")


@strawberry.type(description="A page of recommendations, best first.")
class RecommendationConnection:
    page: strawberry.Private[RecommendationPage]

    def _nodes(self) -> list[Recommendation]:
        return [
            Recommendation(
                mission=item.mission,  # type: ignore[arg-type]
                match=Match(
                    score=item.score,
                    reasons=[
                        MatchReason(kind=r.kind, detail=r.detail, weight=r.weight)
                        for r in item.reasons
                    ],
                ),
            )
            for item in self.page.items
        ]

    @strawberry.field(description="Results with their cursors.")
    def edges(self) -> list[RecommendationEdge]:
        return [
            RecommendationEdge(cursor=c, node=n)
            for c, n in zip(self.page.cursors, self._nodes(), strict=True)
        ]

    @strawberry.field(description="Results, without cursors.")
    def nodes(self) -> list[Recommendation]:
        return self._nodes()

    @strawberry.field(description="Relay page information.")
    def page_info(self) -> PageInfo:
        return PageInfo.of(self.page)


@strawberry.type
class RecommendQuery:
    @strawberry.field(
        permission_classes=[CanRead],
        description="Missions ranked for an employee's profile, best first, each with its "
        "score and reasons; under the company's policy, like `missions`.",
    )
    async def recommended_missions(
        self,
        info: Info[Context, None],
        profile: Annotated[
            EmployeeProfileInput, strawberry.argument(description="The employee's profile.")
        ],
        first: PageSize = None,
        after: After = None,
    ) -> RecommendationConnection:
        ctx = info.context
        size = check_first(first, ctx.settings.page_size_default, ctx.settings.page_size_max)
        page = await ctx.repository.recommend(
            to_profile(profile), weights_of(ctx.settings), size, after, ctx.policy
        )
        return RecommendationConnection(page=page)
