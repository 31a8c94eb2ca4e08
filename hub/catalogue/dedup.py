"""Is this the same mission published on another partner? One pure decision, used by the writer

Two listings are one mission when they come from different partners, belong to the same
organization (merged across partners by RNA, SIREN, SIRET or normalised name), have nearly the
same title once case, accents, plurals and partner decorations are set aside, take place at the
same place (within a few km, or both fully remote), and start within two days of each other.
Distinguishing words (a school level, a number, a session) must agree: "Soutien scolaire CM1"
and "Soutien scolaire 3e" are two missions of one organization.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from hub.catalogue.geo import distance_km
from hub.catalogue.text import fold, stem, tokens

__all__ = ["NEAR_KM", "Comparable", "same_mission", "title_key"]

NEAR_KM = 15.0
MAX_START_GAP_DAYS = 2
MIN_TITLE_SIMILARITY = 0.75

# Words partners add around a title that say nothing about the mission itself.
_DECORATIONS = frozenset(
    stem(fold(word))
    for word in [
        "h",
        "f",
        "hf",
        "bénévole",
        "bénévoles",
        "bénévolat",
        "volontaire",
        "volontaires",
        "mission",
        "missions",
        "urgent",
        "nouveau",
        "nouvelle",
        "new",
        "mécénat",
        "compétences",
        "volunteer",
        "volunteering",
        "de",
        "du",
        "des",
        "la",
        "le",
        "les",
        "l",
        "d",
        "un",
        "une",
        "et",
        "à",
        "au",
        "aux",
        "en",
        "pour",
        "par",
        "sur",
        "avec",
        "the",
        "for",
        "of",
        "and",
        "to",
        "in",
        "a",
        "an",
        "with",
    ]
)
# Words whose disagreement means two different missions (levels, sessions, audiences).
_DISTINGUISHING_WORDS = frozenset(
    stem(fold(word))
    for word in [
        "cp",
        "ce1",
        "ce2",
        "cm1",
        "cm2",
        "seconde",
        "première",
        "terminale",
        "collège",
        "lycée",
        "maternelle",
        "primaire",
        "élémentaire",
        "seniors",
        "adolescents",
        "enfants",
        "adultes",
        "juniors",
        "matin",
        "soir",
        "soirée",
        "weekend",
        "samedi",
        "dimanche",
        "lundi",
        "mardi",
        "mercredi",
        "jeudi",
        "vendredi",
    ]
)
_NUMBERED = re.compile(r"^\d+\w*$")


def _distinguishing(token: str) -> bool:
    return token in _DISTINGUISHING_WORDS or bool(_NUMBERED.match(token))


def title_key(title: str) -> frozenset[str]:
    """The title's meaningful stems: no decorations, no punctuation, no case or accents."""
    return frozenset(t for t in tokens(fold(title)) if t not in _DECORATIONS)


@dataclass(frozen=True, slots=True)
class Comparable:
    """What the decision reads of a mission."""

    partner_pk: int
    organization_pk: int | None
    title: frozenset[str]
    remote_only: bool  # FULL remote with no location
    points: tuple[tuple[float, float], ...]
    places: frozenset[str]  # postal codes and folded city names, for points-less locations
    start_at: datetime | None


def _similar_titles(a: frozenset[str], b: frozenset[str]) -> bool:
    if not a or not b:
        return False
    if {t for t in a if _distinguishing(t)} != {t for t in b if _distinguishing(t)}:
        return False
    return len(a & b) / len(a | b) >= MIN_TITLE_SIMILARITY


def _same_place(a: Comparable, b: Comparable) -> bool:
    if a.remote_only or b.remote_only:
        return a.remote_only and b.remote_only
    if a.points and b.points:
        return any(
            distance_km(p[0], p[1], q[0], q[1]) <= NEAR_KM for p in a.points for q in b.points
        )
    return bool(a.places & b.places)


def _close_starts(a: datetime | None, b: datetime | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs((a - b).total_seconds()) <= MAX_START_GAP_DAYS * 86400


def same_mission(a: Comparable, b: Comparable) -> bool:
    """True when `a` and `b` are one mission published on two partners."""
    return (
        a.partner_pk != b.partner_pk
        and a.organization_pk is not None
        and a.organization_pk == b.organization_pk
        and _close_starts(a.start_at, b.start_at)
        and _same_place(a, b)
        and _similar_titles(a.title, b.title)
    )
