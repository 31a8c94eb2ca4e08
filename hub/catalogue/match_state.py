"""What a subscription filter reads of a mission: one typed value, written with every mission and
every change event, read by the in-memory matcher (hub.live.matching).

Its fields are named as the mission's own (`MissionDraft`, the `missions` columns): `derive`
copies every field of that name, so a filter on a field the state already carries needs nothing
here. Adding a field changes `FINGERPRINT`, and `hub.storage.match_states` recomputes the stored
states from the missions as they are at the next `migrate`: nobody backfills by hand. States in
the event log from before a field existed read it as None, an unknown value, which matches no
filter on that field (as in SQL).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, get_type_hints

__all__ = ["FINGERPRINT", "MatchState", "Spot"]


class Spot(NamedTuple):
    """One location, as filters read it (a list of four in JSON)."""

    latitude: float | None
    longitude: float | None
    postal_code: str | None
    department_code: str | None


@dataclass(frozen=True, slots=True)
class MatchState:
    # Given by the hub, not copied from the mission's own fields.
    partner: str
    organization_pk: int | None = None
    causes: tuple[str, ...] = ()  # canonical slugs
    skills: tuple[str, ...] = ()  # canonical slugs
    locations: tuple[Spot, ...] = ()
    search_text: str = ""
    # Copied by name from the mission (enums kept as their values).
    status: str | None = None
    remote: str | None = None
    engagement_type: str | None = None
    start_at: datetime | None = None
    end_at: datetime | None = None
    posted_at: datetime | None = None
    updated_at: datetime | None = None
    hours_per_week_min: float | None = None
    hours_per_week_max: float | None = None
    total_hours: float | None = None
    commitment_kind: str | None = None
    places_total: int | None = None
    places_remaining: int | None = None
    open_to_minors: bool | None = None
    reduced_mobility_accessible: bool | None = None

    @classmethod
    def derive(
        cls,
        mission: Any,
        *,
        partner: str,
        organization_pk: int | None,
        causes: Iterable[str],
        skills: Iterable[str],
        locations: Iterable[Any],
        search_text: str,
        **values: Any,
    ) -> MatchState:
        """The state of `mission` (a draft, a row mapping or any object with the fields' names);
        `values` (status, updated_at...) win over the mission's own."""
        copied: dict[str, Any] = {}
        get = mission.get if isinstance(mission, Mapping) else None  # asked once, not per field
        for name in _COPIED:
            if name in values:
                value = values[name]
            elif get is not None:
                value = get(name)
            else:
                value = getattr(mission, name, None)
            copied[name] = getattr(value, "value", value)  # an enum's value
        return cls(
            partner=partner,
            organization_pk=organization_pk,
            causes=tuple(causes),
            skills=tuple(skills),
            locations=tuple(_spot(loc) for loc in locations),
            search_text=search_text,
            **copied,
        )

    @classmethod
    def derive_json(
        cls,
        mission: Any,
        *,
        partner: str,
        organization_pk: int | None,
        causes: Iterable[str],
        skills: Iterable[str],
        locations: Iterable[Any],
        search_text: str,
        **values: Any,
    ) -> dict[str, Any]:
        """`derive(...).to_json()` of an object `mission` (not a mapping), without the state in
        between: the writer makes one for every mission it writes."""
        if not _GIVEN_FIRST or isinstance(mission, Mapping):
            return cls.derive(
                mission,
                partner=partner,
                organization_pk=organization_pk,
                causes=causes,
                skills=skills,
                locations=locations,
                search_text=search_text,
                **values,
            ).to_json()
        out: dict[str, Any] = {
            "partner": partner,
            "organization_pk": organization_pk,
            "causes": [list(v) if isinstance(v, tuple) else v for v in causes],
            "skills": [list(v) if isinstance(v, tuple) else v for v in skills],
            "locations": [list(_spot(loc)) for loc in locations],
            "search_text": search_text,
        }
        for name in _COPIED:
            value = values[name] if name in values else getattr(mission, name, None)
            value = getattr(value, "value", value)  # an enum's value
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = [list(v) if isinstance(v, tuple) else v for v in value]
            out[name] = value
        return out

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in _FIELDS:
            value = getattr(self, name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = [list(v) if isinstance(v, tuple) else v for v in value]
            out[name] = value
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MatchState:
        """Read back what `to_json` wrote; a field it did not hold yet is None (unknown)."""
        values: dict[str, Any] = {}
        for name in _FIELDS:
            if name not in data:
                continue
            value = data[name]
            if name in _MOMENTS:
                value = datetime.fromisoformat(value) if isinstance(value, str) else None
            elif name == "locations":
                value = tuple(Spot(*loc) for loc in value or ())
            elif name in ("causes", "skills"):
                value = tuple(value or ())
            values[name] = value
        values.setdefault("partner", "")
        return cls(**values)

    def replace(self, **changes: Any) -> MatchState:
        return dataclasses.replace(self, **changes)


def _spot(location: Any) -> Spot:
    if isinstance(location, Spot):
        return location
    if isinstance(location, Mapping):
        return Spot(*(location.get(name) for name in Spot._fields))
    return Spot(*(getattr(location, name, None) for name in Spot._fields))


_HINTS = get_type_hints(MatchState)
_FIELDS = tuple(f.name for f in dataclasses.fields(MatchState))
_GIVEN = frozenset(("partner", "organization_pk", "causes", "skills", "locations", "search_text"))
_COPIED = tuple(name for name in _FIELDS if name not in _GIVEN)
# The fields given to `derive` come first in a state's JSON (derive_json writes them first).
_GIVEN_FIRST = _FIELDS[:6] == (
    "partner",
    "organization_pk",
    "causes",
    "skills",
    "locations",
    "search_text",
)
_MOMENTS = frozenset(name for name in _FIELDS if "datetime" in str(_HINTS[name]))
# Changes whenever a field is added, removed or retyped: the stored states are then recomputed.
FINGERPRINT = hashlib.sha256(
    ";".join(f"{name}:{_HINTS[name]}" for name in _FIELDS).encode()
).hexdigest()[:16]
