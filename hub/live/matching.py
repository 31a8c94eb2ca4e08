"""MissionFilter in memory: the subscriptions' matcher, held to the SQL search's answers.

It reads the `MatchState` the writer stores with each mission and each change event, and
must say exactly what hub/storage/search.py's compile_filter says in SQL (a property test
generates missions and filters and compares the two on SQLite and PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hub.catalogue.filters import COMPARISONS, MissionFilter, Policy
from hub.catalogue.geo import distance_km
from hub.catalogue.match_state import MatchState
from hub.catalogue.model import EventType
from hub.catalogue.text import tokens

if TYPE_CHECKING:
    from hub.storage.repository import MissionRepository

__all__ = ["Matcher"]


@dataclass(frozen=True, slots=True)
class Matcher:
    """One subscriber's filter and policy, with organization ids already turned into keys."""

    filter: MissionFilter
    policy: Policy | None = None
    organization_pks: frozenset[int] = frozenset()  # the filter's organizations
    excluded_organization_pks: frozenset[int] = frozenset()  # the policy's exclusions

    @classmethod
    async def build(
        cls, repository: MissionRepository, flt: MissionFilter, policy: Policy | None
    ) -> Matcher:
        """The one way to make a matcher: one lookup turns the organization ids that the filter
        names, and those the policy excludes, into the keys that match states carry."""
        excluded = policy.excluded_organizations if policy is not None else ()
        found = await repository.organizations_by_ids([*flt.organizations, *excluded])

        def keys(ids: Iterable[str]) -> frozenset[int]:
            return frozenset(found[i].pk for i in ids if i in found)

        return cls(flt, policy, keys(flt.organizations), keys(excluded))

    @property
    def collapses_duplicates(self) -> bool:
        """As in SQL: a duplicate listing shows only when the filter or policy names partners."""
        policy_partners = self.policy is not None and bool(self.policy.partners)
        return not self.filter.partners and not policy_partners

    def matches(
        self, state: MatchState | Mapping[str, Any] | None, duplicate: bool = False
    ) -> bool:
        """Whether a mission in `state` (as stored: JSON is read with MatchState.from_json)
        passes this filter and policy."""
        if not state:
            return False
        if not isinstance(state, MatchState):
            state = MatchState.from_json(state)
        if duplicate and self.collapses_duplicates:
            return False
        return self._filter(state) and self._policy(state)

    def judge(
        self,
        previous: Mapping[str, Any] | None,
        state: Mapping[str, Any] | None,
        duplicate: bool = False,
    ) -> EventType | None:
        """What a change means for this filter: entering it is PUBLISHED, staying in it
        UPDATED, leaving it CLOSED; None when the mission was never in it."""
        before = self.matches(previous, duplicate)
        if self.matches(state, duplicate):
            return EventType.UPDATED if before else EventType.PUBLISHED
        return EventType.CLOSED if before else None

    def _filter(self, s: MatchState) -> bool:
        f = self.filter
        if f.status and s.status not in {v.value for v in f.status}:
            return False
        if f.text is not None:
            words = tokens(f.text)
            if words and not set(words) <= set(s.search_text.split()):
                return False
        if f.causes and not set(f.causes) & set(s.causes):
            return False
        if f.skills and not set(f.skills) & set(s.skills):
            return False
        if f.remote and s.remote not in {r.value for r in f.remote}:
            return False
        if f.near is not None:
            near = f.near
            within = any(
                lat is not None
                and lon is not None
                and distance_km(near.latitude, near.longitude, lat, lon) <= near.radius_km
                for lat, lon, _, _ in s.locations
            )
            if not within and not (near.include_fully_remote and s.remote == "FULL"):
                return False
        if f.postal_codes and not {loc.postal_code for loc in s.locations} & set(f.postal_codes):
            return False
        departments = {loc.department_code for loc in s.locations}
        if f.department_codes and not departments & set(f.department_codes):
            return False
        if f.partners and s.partner not in f.partners:
            return False
        if f.organizations and s.organization_pk not in self.organization_pks:
            return False
        if f.engagement_types and s.engagement_type not in {e.value for e in f.engagement_types}:
            return False
        end, start = s.end_at, s.start_at
        if f.available_from is not None and end is not None and end < f.available_from:
            return False
        if f.available_until is not None and start is not None and start > f.available_until:
            return False
        for comparison in COMPARISONS:
            wanted = getattr(f, comparison.criterion)
            if wanted is not None and not comparison.holds(
                getattr(s, comparison.attribute), wanted
            ):
                return False
        return True

    def _policy(self, s: MatchState) -> bool:
        p = self.policy
        if p is None or p.is_open:
            return True
        if p.causes and not set(p.causes) & set(s.causes):
            return False
        if p.partners and s.partner not in p.partners:
            return False
        if p.engagement_types and s.engagement_type not in {e.value for e in p.engagement_types}:
            return False
        org = s.organization_pk
        return not (org is not None and org in self.excluded_organization_pks)
