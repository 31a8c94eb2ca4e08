"""The real missions behind the listings: which association runs what, where and when.

A mission is planned once (`Planner`), then published by one, two or three platforms. Look-alike
pairs ("twins") are planned together: the same association's mission in a neighbouring commune,
for another school level, on another weekday or session, over other dates, or another role.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from tests.fidelity.corpus import (
    CAUSE_VOCABULARY,
    COMMUNES,
    NEIGHBOURS,
    ORGS,
    STREETS,
    Commune,
    Org,
)
from tests.fidelity.templates import SESSIONS, TEMPLATES, Template

__all__ = ["IDEALIST", "PLATFORMS", "VM", "XML", "Mission", "Planner"]

XML, IDEALIST, VM = "reseau-solidaire", "idealist", "volunteermatch"
PLATFORMS = (XML, IDEALIST, VM)
ORG = {org.key: org for org in ORGS}
TEMPLATE = {template.key: template for template in TEMPLATES}
COMMUNE = {commune.postal_code: commune for commune in COMMUNES}


@dataclass
class Mission:
    cluster: str
    template: Template
    slot: str | None
    commune: Commune | None  # None: fully remote
    street: str
    start: date
    end: date | None
    posted: date
    places: int
    platforms: tuple[str, ...]
    twin_kind: str | None = None  # set on the second mission of a look-alike pair

    @property
    def org(self) -> Org:
        return ORG[self.template.org]

    @property
    def title(self) -> str:
        return self.template.titled(self.slot)

    @property
    def remote(self) -> str:
        return self.template.remote

    @property
    def identity(self) -> tuple[str, str | None, str]:
        place = self.commune.postal_code if self.commune else "remote"
        return (self.template.key, self.slot, place)


def publishable(template: Template, platform: str) -> bool:
    """Whether a platform can carry this mission in its own vocabulary."""
    french, idealist, volunteermatch = CAUSE_VOCABULARY[template.cause]
    if platform == XML:  # a French feed: French associations, French sector labels
        return not ORG[template.org].english and bool(french)
    if platform == IDEALIST:
        return bool(idealist)
    return bool(volunteermatch)


def fits(template: Template, platforms: tuple[str, ...]) -> bool:
    if not all(publishable(template, p) for p in platforms):
        return False
    # VolunteerMatch says "virtual" or not: alone, it cannot tell that remote is possible.
    return not (platforms == (VM,) and template.remote == "POSSIBLE")


class Planner:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.missions: list[Mission] = []
        self._used: set[tuple[str, str | None, str]] = set()

    # -- one mission --------------------------------------------------------------------------

    def places_for(self, template: Template) -> list[Commune | None]:
        if template.remote == "FULL":
            return [None]
        home = ORG[template.org].home
        return [COMMUNE[code] for code in home] if home else list(COMMUNES)

    def dates(self, template: Template, slot: str | None) -> tuple[date, date | None]:
        rng = self.rng
        if template.slot_kind == "session":
            year, month = SESSIONS[slot or ""]
            start = date(year, month, rng.randint(1, 20))
            return start, start + timedelta(days=rng.randint(20, 60))
        if template.hours is None:  # an event or a one-off task, ahead of the test's "now"
            start = date(2026, 11, 20) + timedelta(days=rng.randrange(300))
            return start, start + timedelta(days=rng.randrange(3))
        start = date(2026, 10, 1) + timedelta(days=rng.randrange(330))
        end = None if rng.random() < 0.3 else start + timedelta(days=rng.randint(60, 300))
        return start, end

    def add(
        self,
        template: Template,
        platforms: tuple[str, ...],
        *,
        commune: Commune | bool | None = False,
        slot: str | None = None,
        start: date | None = None,
        end: date | None = None,
        twin_kind: str | None = None,
    ) -> Mission | None:
        """Plan a mission; None when this association already runs it there."""
        rng = self.rng
        place = rng.choice(self.places_for(template)) if commune is False else commune
        assert place is None or isinstance(place, Commune)
        if slot is None and template.slot:
            slot = rng.choice(template.slot)
        if start is None:
            start, end = self.dates(template, slot)
        latest = date(2026, 11, 14) - timedelta(days=rng.randrange(30))
        posted = max(date(2026, 8, 1), min(start - timedelta(days=rng.randint(7, 60)), latest))
        mission = Mission(
            cluster=f"C{len(self.missions) + 1:04d}",
            template=template,
            slot=slot,
            commune=place,
            street=f"{rng.randint(1, 140)} {rng.choice(STREETS)}",
            start=start,
            end=end,
            posted=posted,
            places=rng.randint(1, 10),
            platforms=platforms,
            twin_kind=twin_kind,
        )
        if mission.identity in self._used and twin_kind != "dates":
            return None
        self._used.add(mission.identity)
        self.missions.append(mission)
        return mission

    def random(
        self, platforms: tuple[str, ...], want: Callable[[Template], bool] = lambda t: True
    ) -> Mission:
        while True:
            template = self.rng.choice(TEMPLATES)
            if fits(template, platforms) and want(template):
                mission = self.add(template, platforms)
                if mission is not None:
                    return mission

    # -- look-alike pairs ---------------------------------------------------------------------

    def twins(self, kind: str, platforms: tuple[str, ...]) -> tuple[Mission, Mission]:
        """A mission on `platforms` and a look-alike one published on another platform."""
        while True:
            template = self.rng.choice(TEMPLATES)
            if not fits(template, platforms) or not _suits(template, kind):
                continue
            pair = self._twins(template, kind, platforms)
            if pair is not None:
                return pair

    def _twins(
        self, template: Template, kind: str, platforms: tuple[str, ...]
    ) -> tuple[Mission, Mission] | None:
        rng = self.rng
        twin_template = TEMPLATE[template.role_twin or ""] if kind == "role" else template
        others = [
            p for p in PLATFORMS if fits(twin_template, (p,)) and any(b != p for b in platforms)
        ]
        if not others:
            return None
        twin_platforms: tuple[str, ...] = (rng.choice(others),)
        if len(platforms) > 1 and rng.random() < 0.2:  # the look-alike is duplicated too
            pair = [p for p in PLATFORMS if fits(twin_template, (p,))]
            if len(pair) >= 2:
                twin_platforms = tuple(sorted(rng.sample(pair, 2), key=PLATFORMS.index))
        commune: Commune | bool | None = False
        if kind == "city":
            home = ORG[template.org].home
            choices = [
                (COMMUNE[a], COMMUNE[b])
                for a, near in NEIGHBOURS.items()
                for b in near
                if not home or (a in home and b in home)
            ]
            if not choices:
                return None
            commune, elsewhere = rng.choice(choices)
        base = self.add(template, platforms, commune=commune)
        if base is None:
            return None
        start, end = _near(rng, base.start, base.end, 10)
        slot, place = base.slot, base.commune
        if kind == "city":
            place = elsewhere
        elif kind in ("level", "weekday", "session"):
            slot = rng.choice([v for v in template.slot if v != base.slot])
            if kind == "session":
                start, end = self.dates(template, slot)
        elif kind == "dates":
            shift = timedelta(days=rng.randint(91, 200))
            start, end = base.start + shift, base.end + shift if base.end else None
        twin = self.add(
            twin_template, twin_platforms, commune=place, slot=slot, start=start, end=end,
            twin_kind=kind,
        )  # fmt: skip
        if twin is None:
            self.missions.remove(base)
            self._used.discard(base.identity)
            return None
        return base, twin


def _suits(template: Template, kind: str) -> bool:
    if kind == "city":
        return template.remote != "FULL"
    if kind in ("level", "session"):
        return template.slot_kind == kind
    if kind == "weekday":
        return template.slot_kind == "day"
    if kind == "role":
        return template.role_twin is not None
    return template.slot_kind != "session"  # "dates": the same mission run again later


def _near(rng: random.Random, start: date, end: date | None, days: int) -> tuple[date, date | None]:
    """A start a few days later: never earlier, so that an event stays ahead of "now"."""
    shift = timedelta(days=rng.randint(0, days))
    return start + shift, (end + shift if end else None)
