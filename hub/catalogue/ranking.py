"""Recommending missions to an employee: the profile, the weights and the reasons of a score.

Hard constraints (remote preference, radius, availability, status) decide which missions are
candidates; soft ones add to a score. The database computes the score's terms (hub/storage/
recommendations.py) so that it can order and page the whole candidate set; this module says
what each term is worth and turns the terms of one result into reasons a person can read,
whose weights add up to the score.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hub.catalogue import taxonomy
from hub.catalogue.filters import Near
from hub.catalogue.model import Remote
from hub.catalogue.records import MissionRecord
from hub.catalogue.skill_relations import Closeness, closeness
from hub.catalogue.text import tokens
from hub.errors import FilterError

__all__ = [
    "ENGLISH_AT_LEAST",
    "ENGLISH_MARKERS",
    "LANGUAGE_NAMES",
    "Affinity",
    "EmployeeProfile",
    "Reason",
    "ReasonKind",
    "RecommendationPage",
    "Recommended",
    "RemotePreference",
    "Terms",
    "Weights",
    "explain",
    "named_in",
    "remote_weight",
    "skill_affinities",
    "skill_phrases",
    "skill_reasons",
    "soon_window",
]


class RemotePreference(enum.StrEnum):
    REMOTE_ONLY = "REMOTE_ONLY"
    ON_SITE_ONLY = "ON_SITE_ONLY"
    ANY = "ANY"


class ReasonKind(enum.StrEnum):
    SKILL = "SKILL"
    RELATED_SKILL = "RELATED_SKILL"
    CAUSE = "CAUSE"
    DISTANCE = "DISTANCE"
    REMOTE = "REMOTE"
    TIME_FITS = "TIME_FITS"
    STARTS_SOON = "STARTS_SOON"
    LANGUAGE = "LANGUAGE"


@dataclass(frozen=True, slots=True)
class EmployeeProfile:
    """What an employee offers and wants; every field is optional."""

    skills: tuple[str, ...] = ()
    causes: tuple[str, ...] = ()
    near: Near | None = None
    remote: RemotePreference = RemotePreference.ANY
    hours_per_week: float | None = None
    available_from: datetime | None = None
    available_until: datetime | None = None
    languages: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = [s for s in self.skills if s not in taxonomy.SKILL_SLUGS]
        if unknown:
            raise FilterError(
                f"profile.skills: unknown skill {unknown[0]!r}; the `skills` query lists them"
            )
        if self.hours_per_week is not None and not 0 < self.hours_per_week <= 168:
            raise FilterError(
                f"profile.hoursPerWeek must be above 0 and at most 168, got {self.hours_per_week}"
            )
        if (
            self.available_from is not None
            and self.available_until is not None
            and self.available_until < self.available_from
        ):
            raise FilterError("profile.availableUntil must not be before availableFrom")

    def fingerprint(self) -> str:
        """Short digest of the profile: a cursor is refused for another profile's ranking."""
        return hashlib.sha256(repr(self).encode()).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class Weights:
    """What each reason adds to a score (from the HUB_RECOMMEND_* settings)."""

    skill: float = 3.0
    related_skill_share: float = 0.6
    family_skill_share: float = 0.25
    extra_skill_share: float = 0.25
    named_skill_share: float = 0.6
    cause: float = 1.5
    distance: float = 1.0
    remote: float = 1.0
    remote_possible: float = 0.5
    time_fits: float = 0.5
    starts_soon: float = 0.3
    language: float = 0.5
    starts_soon_days: int = 30


@dataclass(frozen=True, slots=True)
class Affinity:
    """What a mission's skill is worth to this employee, and through which of their skills."""

    weight: float
    closeness: Closeness | None  # None: the employee has this very skill
    via: str | None = None


def skill_affinities(skills: tuple[str, ...], weights: Weights) -> dict[str, Affinity]:
    """Every skill worth something to an employee with `skills`: theirs at the full skill weight,
    explicitly related ones and same-family ones at their shares. The best affinity wins; ties
    go to the employee's first skill, so the reason names one skill, always the same."""
    share = {
        Closeness.RELATED: weights.related_skill_share,
        Closeness.FAMILY: weights.family_skill_share,
    }
    found: dict[str, Affinity] = {s: Affinity(weights.skill, None) for s in skills}
    for own in skills:
        for skill in taxonomy.SKILLS:
            if skill.slug in skills:
                continue
            close = closeness(own, skill.slug)
            if close is None or share[close] <= 0:
                continue
            weight = weights.skill * share[close]
            best = found.get(skill.slug)
            if best is None or weight > best.weight:
                found[skill.slug] = Affinity(weight, close, own)
    return found


def skill_phrases(slug: str) -> tuple[str, ...]:
    """A skill's label and synonyms as the title index writes words (" accueil du public "),
    to be looked for in a mission's `title_terms`."""
    return _PHRASES[slug]


def named_in(slug: str, title_terms: str) -> bool:
    """Whether a title (as indexed) names the skill by its label or one of its synonyms."""
    return any(phrase in title_terms for phrase in skill_phrases(slug))


_PHRASES = {
    skill.slug: tuple(
        dict.fromkeys(
            f" {' '.join(words)} " for words in map(tokens, (skill.label, *skill.synonyms)) if words
        )
    )
    for skill in taxonomy.SKILLS
}


# The hub's partners write in French or in English. A text is English when it has at least two
# of English's commonest short words, none of them French (as the search index writes them:
# folded, between spaces); else French. One is not enough: an English word shows up in French.
ENGLISH_MARKERS = (" the ", " and ", " for ", " with ", " you ", " your ", " we ", " of ", " to ")
ENGLISH_AT_LEAST = 2
LANGUAGE_NAMES = {"fr": "French", "en": "English"}


def soon_window(
    profile: EmployeeProfile, now: datetime, weights: Weights
) -> tuple[datetime, datetime]:
    """A mission starting within this window "starts soon": from when the employee is free."""
    start = max(now, profile.available_from) if profile.available_from else now
    return start, start + timedelta(days=weights.starts_soon_days)


@dataclass(frozen=True, slots=True)
class Terms:
    """The score's terms as the database computed them for one mission."""

    skill: float
    named: float  # one of the employee's skills named in the title
    cause: float
    reach: float  # distance or remote, whichever is worth more
    distance_km: float | None  # to the nearest located address, when the profile has a point
    time: float
    soon: float
    score: float
    title_terms: str = ""
    language: float = 0.0
    written_in: str = ""


@dataclass(frozen=True, slots=True)
class Reason:
    kind: ReasonKind
    detail: str
    weight: float


@dataclass(slots=True)
class Recommended:
    mission: MissionRecord
    score: float
    reasons: list[Reason] = field(default_factory=list)


@dataclass(slots=True)
class RecommendationPage:
    items: list[Recommended]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool


def _hours(low: float | None, high: float | None) -> str:
    if low is not None and high is not None and high != low:
        return f"{low:g}-{high:g} h"
    return f"{low if low is not None else high:g} h"


def explain(
    mission: MissionRecord, terms: Terms, profile: EmployeeProfile, weights: Weights
) -> list[Reason]:
    """The reasons of one result's score, best first; their weights add up to the score."""
    reasons: list[Reason] = []
    if terms.skill > 0:
        reasons += skill_reasons(mission, profile, weights)
    if terms.named > 0:
        named = next(s for s in profile.skills if named_in(s, terms.title_terms))
        detail = f"{taxonomy.skill_label(named)}, named in the title"
        reasons.append(Reason(ReasonKind.SKILL, detail, terms.named))
    if terms.cause > 0:
        matched = [taxonomy.cause_label(c) for c in mission.causes if c in profile.causes]
        reasons.append(Reason(ReasonKind.CAUSE, ", ".join(matched), terms.cause))
    if terms.reach > 0:
        reasons.append(_reach(mission, terms, profile, weights))
    if terms.time > 0:
        commitment = mission.commitment
        asked = _hours(commitment.hours_per_week_min, commitment.hours_per_week_max)
        detail = f"asks {asked} a week; you offer {profile.hours_per_week:g} h"
        reasons.append(Reason(ReasonKind.TIME_FITS, detail, terms.time))
    if terms.soon > 0 and mission.start_at is not None:
        detail = f"starts on {mission.start_at.date().isoformat()}"
        reasons.append(Reason(ReasonKind.STARTS_SOON, detail, terms.soon))
    if terms.language > 0:
        name = LANGUAGE_NAMES.get(terms.written_in, terms.written_in)
        reasons.append(Reason(ReasonKind.LANGUAGE, f"written in {name}", terms.language))
    reasons.sort(key=lambda r: -r.weight)
    return reasons


def skill_reasons(
    mission: MissionRecord, profile: EmployeeProfile, weights: Weights
) -> list[Reason]:
    """One reason for each of the mission's skills close to the employee's: the best counts
    whole, each other one `extra_skill_share` of its weight (the SQL term says the same)."""
    affinities = skill_affinities(profile.skills, weights)
    close = [
        (skill, affinities[skill.slug]) for skill in mission.skills if skill.slug in affinities
    ]
    close.sort(key=lambda pair: -pair[1].weight)  # stable: the mission's order on a tie
    reasons: list[Reason] = []
    for rank, (skill, found) in enumerate(close):
        weight = found.weight if rank == 0 else found.weight * weights.extra_skill_share
        if found.closeness is None:
            reasons.append(Reason(ReasonKind.SKILL, skill.label, weight))
            continue
        own = taxonomy.skill_label(found.via or "")
        how = (
            f"related to your skill {own}"
            if found.closeness is Closeness.RELATED
            else f"same family as your skill {own}"
        )
        reasons.append(Reason(ReasonKind.RELATED_SKILL, f"{skill.label}, {how}", weight))
    return reasons


def _reach(
    mission: MissionRecord, terms: Terms, profile: EmployeeProfile, weights: Weights
) -> Reason:
    """DISTANCE or REMOTE: the one of the two the database counted (the larger)."""
    near = profile.near
    distance = terms.distance_km
    if near is not None and distance is not None and distance <= near.radius_km:
        by_distance = weights.distance * (1 - distance / near.radius_km)
        remote = remote_weight(mission.remote, profile.remote, weights)
        if by_distance >= remote:
            return Reason(ReasonKind.DISTANCE, f"{distance:.1f} km away", terms.reach)
    detail = "fully remote" if mission.remote is Remote.FULL else "can partly be done remotely"
    return Reason(ReasonKind.REMOTE, detail, terms.reach)


def remote_weight(remote: Remote, preference: RemotePreference, weights: Weights) -> float:
    """What working from home is worth: nothing to an employee who wants to be on site."""
    if preference is RemotePreference.ON_SITE_ONLY:
        return 0.0
    return {
        Remote.FULL: weights.remote,
        Remote.POSSIBLE: weights.remote_possible,
        Remote.NONE: 0.0,
    }[remote]
