"""The golden record: one merged mission built from every partner's listing of it, field by field.

The listing shown for a cluster (see hub.storage.duplicates) keeps its id, partner, URLs, status
and dates it alone knows; every field below is taken from the best listing by its own rule:

============  ==================================================================================
field         rule
============  ==================================================================================
title         the cleanest: platform decoration removed (hub.catalogue.text.clean_title, and a
              trailing " - <organization>" or " - <city>"), then the fewest flaws (it needed
              cleaning; all capitals or all lower case; an abbreviation; no accents where
              another listing has them; English words where another listing is French); ties
              go to the shown listing
organization  the full name over an acronym or an all-capitals, Title Case ("Contre La"),
              legal form first ("Association X"), accent-less or shorter spelling (same
              flaws); identifiers (RNA, SIREN, SIRET):
              the first listing, shown one first, that has each; url and logo: the shown
              listing's own only (another partner's copy never restyles it)
locations     the most precise: a street over a postal code over a city over none; for a FULLY
              remote mission none as soon as one listing gives none (the address a remote
              listing shows is the association's own)
causes        the union; skills: the union
description   the longest (the most complete)
posted_at     the earliest
commitment    from the first listing, shown one first, that states hours a week
start_at      the shown listing's, else the first that has one
remote        POSSIBLE when the shown listing says NONE and another says POSSIBLE (some
              platforms have no word for "partly remote" and say on-site); else the shown one's
============  ==================================================================================
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from hub.catalogue.dedup import organization_identity, same_organization
from hub.catalogue.model import Remote
from hub.catalogue.records import MissionRecord, OrganizationRecord, SkillRecord
from hub.catalogue.text import clean_title, fold

__all__ = ["golden", "tidy_title", "title_flaws"]

_SEGMENT = re.compile(r"\s+[-–—|]\s+")
_ABBREVIATION = re.compile(r"\b\w{2,}\.(?=\s|$)")
_ENGLISH = frozenset({"the", "of", "for", "and", "to", "with", "a", "an", "in", "at", "on"})
_FRENCH = frozenset({"de", "des", "du", "la", "le", "les", "et", "aux", "au", "pour", "un", "une"})


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", fold(text)) if w]


def tidy_title(title: str, organization: str | None, cities: Sequence[str]) -> str:
    """The title without decoration, nor a trailing " - <organization>" or " - <city>"."""
    title = clean_title(title)
    places = {w for city in cities for w in _words(city)}
    org = organization_identity(organization) if organization else None
    parts = _SEGMENT.split(title)
    while len(parts) > 1:
        last = parts[-1]
        words = set(_words(last))
        decoration = (bool(words) and bool(places) and words <= places) or (
            org is not None and same_organization(org, organization_identity(last))
        )
        if not decoration:
            break
        parts.pop()
    return " - ".join(parts).strip()


def _has_accents(text: str) -> bool:
    return fold(text) != text.lower()


def title_flaws(original: str, tidy: str, accented_elsewhere: bool, french_elsewhere: bool) -> int:
    """How far a title is from how the association would write it: fewer is cleaner."""
    letters = [c for c in tidy if c.isalpha()]
    words = set(_words(tidy))
    return sum(
        (
            tidy != original.strip(),
            bool(letters) and (tidy.upper() == tidy or tidy.lower() == tidy),
            bool(_ABBREVIATION.search(tidy)),
            accented_elsewhere and not _has_accents(tidy),
            french_elsewhere and bool(words & _ENGLISH) and not words & _FRENCH,
        )
    )


def _best_title(listings: Sequence[MissionRecord]) -> str:
    tidy = [
        tidy_title(
            m.title,
            m.organization.name if m.organization else None,
            [loc.city for loc in m.locations if loc.city],
        )
        for m in listings
    ]
    accented = any(_has_accents(t) for t in tidy)
    french = any(set(_words(t)) & _FRENCH for t in tidy)
    flaws = [title_flaws(m.title, t, accented, french) for m, t in zip(listings, tidy, strict=True)]
    best = min(range(len(listings)), key=lambda i: (flaws[i], i))
    return tidy[best] or listings[best].title


_ARTICLES = frozenset({"le", "la", "les", "de", "du", "des", "et", "au", "aux", "d", "l"})
_LEGAL_FORMS = frozenset({"association", "asso", "assoc"})


def _name_flaws(name: str, accented_elsewhere: bool) -> tuple[int, int]:
    words = name.split()
    acronym = len(words) == 1 and len(name) <= 6 and not name.islower()
    letters = [c for c in name if c.isalpha()]
    shouting = bool(letters) and name.upper() == name and len(words) > 1
    # Every word capitalised, French articles too ("Action Contre La Faim"): a platform's
    # Title Case, as all capitals is; an association writes its articles in lower case.
    title_case = not shouting and any(w[:1].isupper() and w.lower() in _ARTICLES for w in words[1:])
    # A legal form in front of the name ("Association Lire et faire lire"): a platform's
    # habit of filing organizations by form, not the name the association goes by.
    legal_form = len(words) > 1 and words[0].lower() in _LEGAL_FORMS
    flaws = (
        acronym
        + shouting
        + title_case
        + legal_form
        + (accented_elsewhere and not _has_accents(name))
    )
    return flaws, -len(name)


def _best_organization(listings: Sequence[MissionRecord]) -> OrganizationRecord | None:
    orgs = [m.organization for m in listings if m.organization is not None]
    if not orgs:
        return None
    # Each listing's own published name (kept in `raw`), else its organization record's.
    names = [
        str(m.raw.get("organization_name") or m.organization.name)
        for m in listings
        if m.organization is not None
    ]
    accented = any(_has_accents(name) for name in names)
    best_name = min(names, key=lambda name: _name_flaws(name, accented))

    def first(attribute: str) -> str | None:
        return next((v for o in orgs if (v := getattr(o, attribute))), None)

    return dataclasses.replace(
        orgs[0],
        name=best_name,
        rna=first("rna"),
        siren=first("siren"),
        siret=first("siret"),
        url=orgs[0].url if listings[0].organization is orgs[0] else None,
        logo=orgs[0].logo if listings[0].organization is orgs[0] else None,
    )


def _precision(m: MissionRecord) -> int:
    if any(loc.street for loc in m.locations):
        return 3
    if any(loc.postal_code for loc in m.locations):
        return 2
    return 1 if m.locations else 0


def _own_name(listing: MissionRecord) -> MissionRecord:
    """A listing alone shows the organization name its partner published, not another
    partner's spelling of the same organization (records are shared through identifiers)."""
    published = listing.raw.get("organization_name")
    if listing.organization is None or not published or published == listing.organization.name:
        return listing
    return dataclasses.replace(
        listing, organization=dataclasses.replace(listing.organization, name=str(published))
    )


def golden(shown: MissionRecord, others: Sequence[MissionRecord]) -> MissionRecord:
    """`shown` with every field taken from the best of `shown` and `others` (the rules above)."""
    if not others:
        return _own_name(shown)
    listings = [shown, *others]
    if shown.remote is Remote.FULL and any(not m.locations for m in listings):
        locations = []
    else:
        locations = max(listings, key=_precision).locations  # max keeps the first of ties
    causes = sorted({c for m in listings for c in m.causes})
    skills: dict[str, SkillRecord] = {}
    for m in listings:
        for skill in m.skills:
            skills.setdefault(skill.slug, skill)
    described = max(listings, key=lambda m: len(m.description or ""))
    posted = [m.posted_at for m in listings if m.posted_at is not None]
    timed = next(
        (m for m in listings if m.commitment.hours_per_week_min is not None), shown
    ).commitment
    return dataclasses.replace(
        shown,
        title=_best_title(listings),
        organization=_best_organization(listings),
        locations=locations,
        causes=causes,
        skills=[skills[slug] for slug in sorted(skills)],
        description=described.description,
        description_html=described.description_html,
        posted_at=min(posted) if posted else None,
        commitment=timed,
        start_at=shown.start_at or next((m.start_at for m in others if m.start_at), None),
        remote=Remote.POSSIBLE
        if shown.remote is Remote.NONE and any(m.remote is Remote.POSSIBLE for m in others)
        else shown.remote,
    )
