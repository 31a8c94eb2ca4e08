"""Blocking keys for the duplicate linking: the listings a new one may be a copy of are found by
an index (`mission_dedup_keys`), not by reading every open listing in its start-date window.

A listing is stored under a few keys; a listing being written looks up its probe keys. The keys
are built from the conditions every pair `same_mission` accepts must meet, so that two listings
it would call one mission always share a key (the decision itself still reads every candidate
found, so a shared key says nothing by itself):

- the start: its Paris day, probed on the day before and after too ("-": both undated);
- the place, for listings on site, as `_same_place` decides: a postal code; a city, among the
  listings whose postal codes are not both given; a grid cell of `NEAR_KM` (and its
  neighbours), among the listings with neither both postal codes nor both cities;
- for fully remote listings, whose place says nothing, the organization, as
  `same_organization` decides: its pk, RNA, SIREN, the names without spaces, the first two
  words, an acronym's first and last letters, and each word's first and last three letters (a
  word cut short keeps its first four, a word misspelt by one letter keeps one end).

A listing with no title words or no organization can match nothing and has no key. The one
loss against the full scan: organization names of remote listings whose words differ at both
ends (two edits in a long word), which the decision would still call the same.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from hub.catalogue.dedup import _ORG_FORM_WORDS, NEAR_KM, Comparable, OrganizationIdentity
from hub.catalogue.text import stem

__all__ = ["probe_keys", "stored_keys"]

_CELL_DEGREES = 0.25
_KM_PER_DEGREE = 110.0  # a little under a degree of latitude (110.57 km at the equator)


def _cell(lat: float, lon: float) -> str:
    return f"{math.floor(lat / _CELL_DEGREES)}:{math.floor(lon / _CELL_DEGREES)}"


def _near_cells(lat: float, lon: float) -> list[str]:
    """Every cell holding a point within NEAR_KM of (lat, lon)."""
    dlat = NEAR_KM / _KM_PER_DEGREE
    widest = min(89.0, abs(lat) + dlat)
    dlon = min(180.0, NEAR_KM / (_KM_PER_DEGREE * math.cos(math.radians(widest))))
    lats = range(
        math.floor((lat - dlat) / _CELL_DEGREES), math.floor((lat + dlat) / _CELL_DEGREES) + 1
    )
    lons = range(
        math.floor((lon - dlon) / _CELL_DEGREES), math.floor((lon + dlon) / _CELL_DEGREES) + 1
    )
    return [f"{y}:{x}" for y in lats for x in lons]


_FORM_WORDS = frozenset(stem(w) for w in _ORG_FORM_WORDS)


def _word_keys(word: str) -> tuple[str, ...]:
    """A word agrees with another equal, cut short (four letters kept) or, six letters long
    at least, one letter apart (one end kept); a number only equal."""
    if len(word) <= 3 or word.isdigit():
        return (word,)
    return ("<" + word[:3], word[-3:] + ">")


def _chosen(words: list[str]) -> list[str]:
    """One word of a name that any name agreeing with it matches (the others may be fewer, but
    then each of this name's words that is not about its form is matched): a number if there
    is one (matched only when equal), else the longest; every word when all are form words."""
    significant = [w for w in words if w not in _FORM_WORDS]
    if not significant:
        return words
    return [min(significant, key=lambda w: (not w.isdigit(), -len(w), w))]


def _organization_keys(org: OrganizationIdentity, org_pk: int | None, stored: bool) -> set[str]:
    """Keys two organizations `same_organization` accepts share, the acronym ones aside. Names
    agree when every word of the one with fewer matches a word of the other, whose words left
    over are about its form: so a listing is stored under one word of each name and found by
    every word of the names of the listing being written."""
    keys = {f"o{org_pk}"} if org_pk is not None else set()
    if org.rna:
        keys.add("rna" + org.rna)
    if org.siren:
        keys.add("siren" + org.siren)
    keys |= {"j" + joined for joined in org.joined}
    keys |= {"f" + " ".join(words[:2]) for words in org.ordered if len(words) >= 2}
    for name in org.names:
        words = sorted(stem(w) for w in name)
        for word in _chosen(words) if stored else words:
            keys |= {"w" + key for key in _word_keys(word)}
    return keys


def _initials(org: OrganizationIdentity) -> set[str]:
    """The first and last letters of what an acronym of the name can be (an acronym is
    letters only)."""
    return {i[0] + i[-1] for i in org.initials if i[0].isalpha() and i[-1].isalpha()}


def _acronyms(org: OrganizationIdentity) -> set[str]:
    """The first and last letters of a name that may be an acronym (one word, 2 to 6 letters)."""
    return {
        word[0] + word[-1]
        for name in org.names
        if len(name) == 1
        for word in name
        if 2 <= len(word) <= 6 and word.isalpha()
    }


def _identity(c: Comparable) -> tuple[bool, bool, bool]:
    return bool(c.postal_codes), bool(c.cities), bool(c.points)


def _stored_places(c: Comparable) -> set[str]:
    if c.remote_only:
        org = c.organization
        if org is None:
            return {f"Ro{c.organization_pk}"}
        return (
            {"R" + key for key in _organization_keys(org, c.organization_pk, stored=True)}
            | {"Ri" + pair for pair in _initials(org)}
            | {"Ra" + pair for pair in _acronyms(org)}
        )
    postal, city, _ = _identity(c)
    keys = {"P" + p for p in c.postal_codes}
    keys |= {f"C{postal:d}{town}" for town in c.cities}
    keys |= {f"G{postal:d}{city:d}{_cell(lat, lon)}" for lat, lon in c.points}
    return keys


def _probed_places(c: Comparable) -> set[str]:
    if c.remote_only:
        org = c.organization
        if org is None:
            return {f"Ro{c.organization_pk}"}
        return (
            {"R" + key for key in _organization_keys(org, c.organization_pk, stored=False)}
            | {"Ra" + pair for pair in _initials(org)}  # their acronym, our initials
            | {"Ri" + pair for pair in _acronyms(org)}  # our acronym, their initials
        )
    postal, city, _ = _identity(c)
    keys = {"P" + p for p in c.postal_codes}
    # A city decides between listings whose postal codes are not both given, a distance
    # between those with neither both postal codes nor both cities.
    for with_postal in (False,) if postal else (False, True):
        keys |= {f"C{with_postal:d}{town}" for town in c.cities}
        for with_city in (False,) if city else (False, True):
            keys |= {
                f"G{with_postal:d}{with_city:d}{cell}"
                for lat, lon in c.points
                for cell in _near_cells(lat, lon)
            }
    return keys


def _matchable(c: Comparable) -> bool:
    return bool(c.title) and (c.organization is not None or c.organization_pk is not None)


def _day(c: Comparable, shift: int) -> str:
    if c.start_day is None:
        return "-"
    return str(c.start_day.toordinal() + shift)


def stored_keys(c: Comparable) -> set[str]:
    """The keys a listing is found by."""
    if not _matchable(c):
        return set()
    day = _day(c, 0)
    return {f"{day}|{place}" for place in _stored_places(c)}


def probe_keys(c: Comparable) -> set[str]:
    """The keys of every listing `c` may be the same mission as (and more)."""
    if not _matchable(c):
        return set()
    days = ("-",) if c.start_day is None else tuple(_day(c, shift) for shift in (-1, 0, 1))
    places = _probed_places(c)
    return {f"{day}|{place}" for day in days for place in places}


def keys_of(comparables: Iterable[tuple[int, Comparable]]) -> list[dict[str, object]]:
    """Rows of `mission_dedup_keys` for these (pk, listing) pairs."""
    return [
        {"mission_pk": pk, "partner_pk": c.partner_pk, "key": key}
        for pk, c in comparables
        for key in stored_keys(c)
    ]
