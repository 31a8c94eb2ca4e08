"""Is this the same mission published on another partner? One pure decision, used by the writer

Two listings are one mission when every one of these holds:

- they come from different partners;
- same organization: identifiers first (RNA, then SIREN, a SIRET's first nine digits: equal
  means the same, different means another one, whatever the names say); without identifiers on
  both sides, the names agree once articles, "association", a national suffix ("France") and a
  local-branch suffix (" - Antenne de Lyon", " (Délégation de X)") are set aside, word by word
  (a word may be cut short, "Restos" ~ "Restaurants", or misspelt by one letter), or one name is
  the acronym of the other ("MdM" ~ "Médecins du Monde": initials of its words), or the names
  are one once spaces are removed ("Samu social" ~ "Samusocial");
- nearly the same title once platform decoration is removed (a call-for-volunteers prefix, a
  tag, "(H/F)", a trailing " - <city>", " - <organization>" or "à distance"), abbreviations
  spelled out ("accomp." -> accompagnement) and case, accents, plurals set aside; or, for a
  title translated by one platform, the same description (MIN_DESCRIPTION_RATIO over at least
  MIN_DESCRIPTION_CHARS). Distinguishing words of the titles (a school level, a number, a
  weekday, a session, a month) must agree either way;
- the same place: both fully remote (the address a fully remote mission shows is the
  association's own, not where it happens, so it is not compared), or, both on site, the same
  postal code when both give one (another arrondissement is another place), else the same city,
  else points within NEAR_KM;
- they start on the same calendar day in Europe/Paris, or the next (both undated also agrees).

Every input is a value (no float arithmetic on stored times, no candidate order), so SQLite and
PostgreSQL give the same answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz

from hub.catalogue.geo import distance_km
from hub.catalogue.text import (
    clean_title,
    expand_abbreviations,
    fold,
    organization_initials,
    organization_names,
    stem,
    tokens,
)

__all__ = [
    "NEAR_KM",
    "Comparable",
    "OrganizationIdentity",
    "description_key",
    "organization_identity",
    "paris_day",
    "place_key",
    "same_mission",
    "same_organization",
    "title_key",
]

NEAR_KM = 15.0
MAX_START_GAP_DAYS = 1
MIN_TITLE_SIMILARITY = 0.75
MIN_TITLE_RATIO = 92.0  # rapidfuzz token_sort_ratio, for a letter or two of difference
MIN_WORD_RATIO = 90.0  # two words of an organization's name spelt one letter apart
MIN_DESCRIPTION_RATIO = 90.0
MIN_DESCRIPTION_CHARS = 60
PARIS = ZoneInfo("Europe/Paris")

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
        "collegiens",
        "lyceens",
        "janvier",
        "fevrier",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "aout",
        "septembre",
        "octobre",
        "novembre",
        "decembre",
        "mardi",
        "mercredi",
        "jeudi",
        "vendredi",
    ]
)
_NUMBERED = re.compile(r"^\d+\w*$")
_BRANCH = re.compile(r"\s+[\-–—]\s+.*$|\s*\([^)]*\)\s*$")
_ORG_JOIN_NOISE = frozenset({"", "le", "la", "les", "l", "association", "france"})
_TAGS = re.compile(r"<[^>]+>")
# Separators between a title and what a platform appends to it.
_SEGMENTS = re.compile(r"\s+[-–—|]\s+|\s*\|\s*")
# Words an organization's name carries about its form or scope: "Réseau Entourage" is Entourage.
_ORG_FORM_WORDS = frozenset(
    {
        "mouvement",
        "institut",
        "reseau",
        "federation",
        "union",
        "nationale",
        "national",
        "foundation",
        "fondation",
        "europe",
        "international",
    }
)


def _distinguishing(token: str) -> bool:
    return token in _DISTINGUISHING_WORDS or bool(_NUMBERED.match(token))


def _title_tokens(text: str) -> frozenset[str]:
    return frozenset(t for t in tokens(expand_abbreviations(fold(text))) if t not in _DECORATIONS)


def title_key(title: str, organization: str = "", places: tuple[str, ...] = ()) -> frozenset[str]:
    """The title's meaningful stems, without what a platform puts around it.

    A trailing " - X" is dropped when X names the organization or one of the listing's places.
    """
    segments = [s for s in _SEGMENTS.split(clean_title(title)) if s.strip()]
    org = organization_identity(organization) if organization else None
    place_words = frozenset(w for p in places for w in tokens(p))
    while len(segments) > 1:
        last = segments[-1]
        words = _title_tokens(last)
        decoration = (
            not words
            or (bool(place_words) and words <= place_words)
            or (org is not None and _names_agree(org, organization_identity(last)))
        )
        if not decoration:
            break
        segments.pop()
    return _title_tokens(" ".join(segments))


@dataclass(frozen=True, slots=True)
class OrganizationIdentity:
    """What tells two organization records apart: identifiers, then names."""

    rna: str | None = None
    siren: str | None = None
    names: tuple[frozenset[str], ...] = ()
    initials: frozenset[str] = frozenset()
    joined: frozenset[str] = frozenset()  # each form's letters without spaces, in order
    ordered: tuple[tuple[str, ...], ...] = ()  # each form's significant stems, in order


def organization_identity(
    name: str, rna: str | None = None, siren: str | None = None, siret: str | None = None
) -> OrganizationIdentity:
    siren = siren or (siret[:9] if siret else None)
    return OrganizationIdentity(
        rna=rna.strip().upper() if rna else None,
        siren=re.sub(r"\s+", "", siren) if siren else None,
        names=organization_names(name),
        initials=organization_initials(name),
        joined=frozenset(
            "".join(w for w in re.split(r"[^a-z0-9]+", fold(form)) if w not in _ORG_JOIN_NOISE)
            for form in (name, _BRANCH.sub("", name))
        )
        - {""},
        ordered=tuple(
            tuple(
                stem(w)
                for w in re.split(r"[^a-z0-9]+", fold(form))
                if w and w not in _ORG_JOIN_NOISE and w not in _DECORATIONS
            )
            for form in (name, _BRANCH.sub("", name))
        ),
    )


def _word_agrees(word: str, other: str) -> bool:
    if word == other:
        return True
    if word.isdigit() or other.isdigit():
        return False
    short, long = sorted((word, other), key=len)
    if len(short) >= 4 and long.startswith(short):  # "asso" ~ "association"
        return True
    common = next(
        (i for i, (x, y) in enumerate(zip(short, long, strict=False)) if x != y), len(short)
    )
    if common >= 4 and len(short) <= common + 1:  # a clipped word: "resto" ~ "restaurant"
        return True
    return len(short) >= 6 and fuzz.ratio(word, other) >= MIN_WORD_RATIO


def _stem_words(words: frozenset[str]) -> list[str]:
    return sorted(stem(w) for w in words)


def _name_sets_agree(a: frozenset[str], b: frozenset[str]) -> bool:
    short, long = sorted((_stem_words(a), _stem_words(b)), key=len)
    unmatched = list(long)
    for word in short:
        match = next((w for w in unmatched if _word_agrees(word, w)), None)
        if match is None:
            return False
        unmatched.remove(match)
    # The longer name may add only words about its form or scope ("Institut", "Nationale").
    forms = {stem(w) for w in _ORG_FORM_WORDS}
    return all(w in forms for w in unmatched)


def _names_agree(a: OrganizationIdentity, b: OrganizationIdentity) -> bool:
    for x in a.names:
        for y in b.names:
            if _name_sets_agree(x, y):
                return True
    if a.joined & b.joined:
        return True
    # A short name keeping the full name's first words: "Petits Frères" ~ "Petits Frères des
    # Pauvres" (two words at least, one is too common a start).
    for p in a.ordered:
        for q in b.ordered:
            first, second = sorted((p, q), key=len)
            if len(first) >= 2 and second[: len(first)] == first:
                return True
    # An acronym is one word of two to six letters, matched against the other's initials.
    for one, other in ((a, b), (b, a)):
        for name in one.names:
            if len(name) == 1:
                [word] = name
                if 2 <= len(word) <= 6 and word.isalpha() and _acronym_of(word, other.initials):
                    return True
    return False


def _acronym_of(word: str, initials: frozenset[str]) -> bool:
    """The word is one of the initials, or (three letters at least) it keeps the first and last
    initials and skips some in between, as acronyms skip small words unevenly: "SNC" ~
    "Solidarités Nouvelles face au Chômage" (snfac), "NQT" ~ "Nos Quartiers ont du Talent"."""
    if word in initials:
        return True
    if len(word) < 3:
        return False
    for full in initials:
        if full[0] == word[0] and full[-1] == word[-1]:
            letters = iter(full)
            if all(letter in letters for letter in word):
                return True
    return False


def same_organization(a: OrganizationIdentity, b: OrganizationIdentity) -> bool:
    """Identifiers decide when both sides have one; names otherwise."""
    if a.rna and b.rna:
        return a.rna == b.rna
    if a.siren and b.siren:
        return a.siren == b.siren
    return _names_agree(a, b)


def paris_day(moment: datetime | None) -> date | None:
    """The calendar day in Paris: "2027-01-04T23:00Z" and "2027-01-05" are one day."""
    if moment is None:
        return None
    if moment.tzinfo is None:  # stored instants are UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(PARIS).date()


_ARRONDISSEMENT = re.compile(r"\s+\d+\s*(?:er|e|eme|ème)?\s*(?:arrondissement)?$")


def place_key(postal_code: str | None, city: str | None) -> tuple[str | None, str | None]:
    """A postal code with its leading zero back, and a folded city without its arrondissement."""
    postal = postal_code.strip() if postal_code else None
    if postal and postal.isdigit() and len(postal) == 4:
        postal = "0" + postal  # a spreadsheet ate the zero
    town = _ARRONDISSEMENT.sub("", fold(city).strip()) if city else None
    return postal or None, " ".join(tokens(town)) if town else None


@dataclass(frozen=True, slots=True)
class Comparable:
    """What the decision reads of a mission."""

    partner_pk: int
    organization_pk: int | None
    title: frozenset[str]
    remote_only: bool  # FULL remote: its address, if any, is the association's
    points: tuple[tuple[float, float], ...]
    postal_codes: frozenset[str]
    cities: frozenset[str]
    start_day: date | None
    organization: OrganizationIdentity | None = None
    description: str = ""  # folded words of the plain text, for titles in another language


def description_key(text: str | None) -> str:
    """The description's folded words, tags removed."""
    if not text:
        return ""
    return " ".join(w for w in re.split(r"[^a-z0-9]+", fold(_TAGS.sub(" ", text))) if w)


def _same_description(a: str, b: str) -> bool:
    if min(len(a), len(b)) < MIN_DESCRIPTION_CHARS:
        return False
    return fuzz.ratio(a, b) >= MIN_DESCRIPTION_RATIO


def _similar_titles(a: frozenset[str], b: frozenset[str], descriptions: tuple[str, str]) -> bool:
    if not a or not b:
        return False
    if {t for t in a if _distinguishing(t)} != {t for t in b if _distinguishing(t)}:
        return False
    if _same_description(*descriptions):
        return True
    if len(a & b) / len(a | b) >= MIN_TITLE_SIMILARITY:
        return True
    return fuzz.token_sort_ratio(" ".join(sorted(a)), " ".join(sorted(b))) >= MIN_TITLE_RATIO


def _same_place(a: Comparable, b: Comparable) -> bool:
    if a.remote_only or b.remote_only:
        return a.remote_only and b.remote_only
    if a.postal_codes and b.postal_codes:
        return bool(a.postal_codes & b.postal_codes)
    if a.cities and b.cities:
        return bool(a.cities & b.cities)
    if a.points and b.points:
        return any(
            distance_km(p[0], p[1], q[0], q[1]) <= NEAR_KM for p in a.points for q in b.points
        )
    return False


def _close_starts(a: date | None, b: date | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs((a - b).days) <= MAX_START_GAP_DAYS


def _same_organization(a: Comparable, b: Comparable) -> bool:
    if a.organization_pk is not None and a.organization_pk == b.organization_pk:
        return True
    if a.organization is None or b.organization is None:
        return False
    return same_organization(a.organization, b.organization)


def same_mission(a: Comparable, b: Comparable) -> bool:
    """True when `a` and `b` are one mission published on two partners."""
    return (
        a.partner_pk != b.partner_pk
        and _close_starts(a.start_day, b.start_day)
        and _same_place(a, b)
        and _same_organization(a, b)
        and _similar_titles(a.title, b.title, (a.description, b.description))
    )
