"""What a mission search or subscription asks for, independent of GraphQL and SQL.

One definition: the SQL compiler (hub/storage/search.py) and the in-memory matcher read the same
object, and tests hold them to the same answers.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from hub.catalogue.model import EngagementType, MissionStatus, Remote
from hub.errors import FilterError

__all__ = [
    "COMPARISONS",
    "Comparison",
    "FilterError",
    "MissionFilter",
    "MissionOrder",
    "Near",
    "Policy",
]


class MissionOrder(enum.StrEnum):
    RELEVANCE = "RELEVANCE"
    RECENT = "RECENT"
    STARTING_SOON = "STARTING_SOON"
    NEAREST = "NEAREST"


@dataclass(frozen=True, slots=True)
class Near:
    latitude: float
    longitude: float
    radius_km: float
    include_fully_remote: bool = False

    def __post_init__(self) -> None:
        if not -90 <= self.latitude <= 90:
            raise FilterError(f"near.latitude must be between -90 and 90, got {self.latitude}")
        if not -180 <= self.longitude <= 180:
            raise FilterError(f"near.longitude must be between -180 and 180, got {self.longitude}")
        if not 0 < self.radius_km <= 20000:
            raise FilterError(
                f"near.radiusKm must be above 0 and at most 20000, got {self.radius_km}"
            )


@dataclass(frozen=True, slots=True)
class MissionFilter:
    """Every criterion is optional; lists mean "any of"; all given criteria must hold."""

    text: str | None = None
    causes: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()
    remote: tuple[Remote, ...] = ()
    near: Near | None = None
    postal_codes: tuple[str, ...] = ()
    department_codes: tuple[str, ...] = ()
    partners: tuple[str, ...] = ()
    organizations: tuple[str, ...] = ()
    engagement_types: tuple[EngagementType, ...] = ()
    available_from: datetime | None = None
    available_until: datetime | None = None
    max_hours_per_week: float | None = None
    open_to_minors: bool | None = None
    updated_since: datetime | None = None
    status: tuple[MissionStatus, ...] = (MissionStatus.OPEN,)

    def __post_init__(self) -> None:
        if (
            self.available_from is not None
            and self.available_until is not None
            and self.available_until < self.available_from
        ):
            raise FilterError("availableUntil must not be before availableFrom")
        if self.max_hours_per_week is not None and self.max_hours_per_week < 0:
            raise FilterError("maxHoursPerWeek must not be negative")


@dataclass(frozen=True, slots=True)
class Comparison:
    """A criterion that compares one attribute of the mission with the filter's value.

    `attribute` names both the `missions` column and the `MatchState` field, so the SQL compiler
    and the in-memory matcher each read this table once, in one loop: a new criterion of this
    kind is a field of `MissionFilter` and a row of `COMPARISONS`. As everywhere, a mission whose
    attribute is unknown (None) never matches.
    """

    criterion: str  # the MissionFilter field holding the wanted value
    attribute: str
    op: Literal["at_most", "at_least", "is"]

    def holds(self, actual: Any, wanted: Any) -> bool:
        """The in-memory reading; SQL's `column <= value`, `>=`, `IS` say the same."""
        if actual is None:
            return False
        if self.op == "at_most":
            return bool(actual <= wanted)
        if self.op == "at_least":
            return bool(actual >= wanted)
        return actual is wanted


COMPARISONS: tuple[Comparison, ...] = (
    Comparison("max_hours_per_week", "hours_per_week_min", "at_most"),
    Comparison("open_to_minors", "open_to_minors", "is"),
    Comparison("updated_since", "updated_at", "at_least"),
)


@dataclass(frozen=True, slots=True)
class Policy:
    """A company's standing restriction: applied to every read, never widened by a request."""

    causes: tuple[str, ...] = ()
    partners: tuple[str, ...] = ()
    engagement_types: tuple[EngagementType, ...] = ()
    excluded_organizations: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_open(self) -> bool:
        return not (
            self.causes or self.partners or self.engagement_types or self.excluded_organizations
        )
