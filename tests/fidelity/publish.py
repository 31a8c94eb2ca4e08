"""Each platform's listing of a mission, in its own words, and the truth decided from them.

`listings(mission)` decides what every platform publishing the mission says: its title, the
organization's name, identifiers, hours, dates, address and cause, each in the platform's own
vocabulary and with the variations people really type. `truth(mission, listings)` then decides
what a company should see for it after merging (README.md gives the rules).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from tests.fidelity.corpus import CAUSE_VOCABULARY, Commune
from tests.fidelity.missions import COMMUNE, IDEALIST, XML, Mission
from tests.fidelity.wording import (
    PARIS,
    decorate_title,
    en_hours,
    fr_hours,
    paris_midnight_utc,
    strip_accents,
)

__all__ = ["Identifiers", "Listing", "listings", "truth"]


@dataclass(frozen=True)
class Identifiers:
    """An organization's registry numbers and the ids platforms give it (synthetic)."""

    rna: str | None
    siren: str | None
    ein: str | None
    idealist_id: str
    volunteermatch_id: str


@dataclass
class Listing:
    partner: str
    external_id: str
    mission: Mission
    ids: Identifiers
    title: str
    org_name: str
    patterns: list[str] = field(default_factory=list)
    rna: str | None = None  # as written in organizationRNA (XML)
    siren: str | None = None  # organizationSiren (XML)
    government_id: str | None = None  # Idealist's one generic identifier field
    schedule: str | None = None  # XML schedule, Idealist expectedTime
    hours_in_description: bool = False  # VolunteerMatch has no field for hours
    start: str | None = None
    end: str | None = None
    address: Commune | None = None  # where the listing says it is (the mission's, or the HQ's)
    street: str = ""
    city: str = ""  # the city as written
    postal_code: str = ""  # the postal code as written
    with_point: bool = False
    causes: list[str] = field(default_factory=list)
    remote: str | None = None  # the platform's own value
    defect: str | None = None  # set on the few records a partner gets wrong

    @property
    def key(self) -> str:
        return f"{self.partner}:{self.external_id}"

    @property
    def gives_hours(self) -> bool:
        return self.hours_in_description or any(
            p.startswith("hours:") and p not in ("hours:absent", "hours:none")
            for p in self.patterns
        )

    @property
    def gives_rna(self) -> bool:
        rna = self.ids.rna
        return rna is not None and rna in {(self.rna or "").upper(), self.government_id}

    @property
    def gives_siren(self) -> bool:
        siren = self.ids.siren
        return siren is not None and siren in {self.siren, self.government_id}


def listings(
    rng: random.Random, mission: Mission, ids: Identifiers, external_ids: dict[str, str]
) -> list[Listing]:
    """The listings of one mission, one per platform publishing it."""
    org = mission.org
    clustered = len(mission.platforms) > 1
    carrier = rng.choice(
        [p for p in mission.platforms if p == XML or not mission.template.title_en]
        or list(mission.platforms)
    )
    names = _org_names(mission)
    name_carrier = rng.choice(mission.platforms)
    id_carriers = [p for p in mission.platforms if p in (XML, IDEALIST)]
    single_id_side = (
        rng.choice(id_carriers) if clustered and id_carriers and rng.random() < 0.6 else None
    )
    # A remote mission: one platform of a cluster shows the association's own address.
    hq_side = rng.choice(mission.platforms) if clustered and org.hq else None
    out = []
    for platform in mission.platforms:
        listing = Listing(platform, external_ids[platform], mission, ids, mission.title, org.name)
        # The title: the clean one on one platform of a cluster, variations elsewhere; an
        # international platform may carry the English title the association wrote for it.
        english = (
            mission.template.title_en
            if clustered and platform not in (carrier, XML) and rng.random() < 0.8
            else None
        )
        decorate = english or rng.random() < (0.85 if clustered else 0.3)
        if decorate and (not clustered or platform != carrier):
            place = mission.commune.name if mission.commune else None
            short = min(org.aliases, key=len) if org.aliases else org.name
            listing.title, patterns = decorate_title(
                rng, mission.title, place, short, english, english_org=org.english
            )
            listing.patterns += patterns
        else:
            listing.patterns.append("title:clean")
        # The organization: full name on one platform of a cluster, any usual name elsewhere.
        pattern, listing.org_name = (
            rng.choice([n for n in names if n[0] in ("org:full", "org:branch")])
            if clustered and platform == name_carrier
            else rng.choice(names)
        )
        listing.patterns.append(pattern)
        # Identifiers: given on one side only, or wherever the platform has a field for them.
        if single_id_side is None or platform == single_id_side:
            _identifiers(rng, listing, ids)
        if not any(p.startswith("id:") for p in listing.patterns):
            listing.patterns.append("id:none")
        _where(rng, listing, hq_side)
        _when(rng, listing)
        _what(rng, listing)
        out.append(listing)
    return out


def _org_names(mission: Mission) -> list[tuple[str, str]]:
    org = mission.org
    names = [("org:full", org.name)] * 3
    names += [("org:alias", alias) for alias in org.aliases for _ in range(2)]
    if org.branch and mission.commune:
        branch = org.branch.format(city=mission.commune.name)
        names += [("org:branch", f"{org.name} - {branch}")] * 2
    if strip_accents(org.name) != org.name:
        names.append(("org:accents", strip_accents(org.name)))
    if not org.english:
        names.append(("org:case", org.name.upper()))
    return names


def _identifiers(rng: random.Random, listing: Listing, ids: Identifiers) -> None:
    if listing.partner == XML:
        if ids.rna and rng.random() < 0.6:
            lower = rng.random() < 0.1
            listing.rna = ids.rna.lower() if lower else ids.rna
            listing.patterns.append("id:rna-lowercase" if lower else "id:rna")
        if ids.siren and rng.random() < 0.45:
            listing.siren = ids.siren
            listing.patterns.append("id:siren")
    elif listing.partner == IDEALIST:
        choices: list[tuple[str, str | None]] = [("id:none", None)] * 2
        if ids.rna:
            choices += [("id:generic-rna", ids.rna)] * 2
        if ids.siren:
            choices += [("id:generic-siren", ids.siren)] * 2
        if ids.ein:
            choices = [("id:ein", ids.ein)] * 3 + [("id:none", None)]
        pattern, listing.government_id = rng.choice(choices)
        if listing.government_id:
            listing.patterns.append(pattern)


def _where(rng: random.Random, listing: Listing, hq_side: str | None) -> None:
    mission, org = listing.mission, listing.mission.org
    remote = mission.remote
    if listing.partner == XML:
        listing.remote = {"FULL": "full", "POSSIBLE": "possible", "NONE": "no"}[remote]
        if remote == "NONE" and rng.random() < 0.2:
            listing.remote = None
            listing.patterns.append("remote:absent")
    elif listing.partner == IDEALIST:
        listing.remote = {"FULL": "REMOTE", "POSSIBLE": "HYBRID", "NONE": "ONSITE"}[remote]
    else:
        listing.remote = "virtual" if remote == "FULL" else "on-site"
        if remote == "POSSIBLE":
            listing.patterns.append("remote:possible-unsaid")
    if mission.commune is not None:
        listing.address, listing.street = mission.commune, mission.street
    elif org.hq and (listing.partner == hq_side if hq_side else rng.random() < 0.4):
        # Remote, but the platform shows the association's own address.
        listing.address, listing.street = COMMUNE[org.hq], f"{rng.randint(1, 90)} rue Réaumur"
        listing.patterns.append("remote:full-with-org-address")
    elif remote == "FULL":
        listing.patterns.append("remote:full-no-address")
    if listing.address is None:
        return
    listing.city, listing.postal_code = listing.address.name, listing.address.postal_code
    listing.with_point = rng.random() < (0.5 if listing.partner == XML else 0.7)
    draw = rng.random()
    if draw < 0.12:
        listing.city = listing.city.upper()
        listing.patterns.append("city:upper")
    elif draw < 0.45 and listing.partner == XML and listing.city in ("Paris", "Lyon", "Marseille"):
        rank = int(listing.postal_code[-2:])
        listing.city += f" {rank}{'er' if rank == 1 else 'e'}"
        listing.patterns.append("city:arrondissement")
    if listing.partner == XML and listing.postal_code.startswith("0") and rng.random() < 0.5:
        listing.postal_code = listing.postal_code[1:]  # a spreadsheet ate the zero
        listing.patterns.append("postal:no-leading-zero")


def _when(rng: random.Random, listing: Listing) -> None:
    mission = listing.mission
    if listing.partner == XML:
        style = rng.choices(["iso-date", "slash", "offset", "utc-evening"], [50, 20, 15, 15])[0]
    elif listing.partner == IDEALIST:
        style = rng.choices(["utc-evening", "utc-morning"], [55, 45])[0]
    else:
        style = rng.choices(["iso-date", "utc-evening"], [85, 15])[0]
    listing.patterns.append(f"start:{style}")
    listing.start = _day(mission.start, style, listing.partner)
    listing.end = _day(mission.end, style, listing.partner) if mission.end else None


def _day(day: date, style: str, partner: str) -> str:
    if style == "slash":
        return day.strftime("%d/%m/%Y")  # a French feed, read day-first (the partner's setting)
    if style == "offset":
        return datetime.combine(day, time(0, 0), PARIS).isoformat()
    if style == "utc-evening":  # Paris midnight stored as an instant: the evening before, UTC
        moment = paris_midnight_utc(day)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z" if partner == XML else "%Y-%m-%dT%H:%M:%SZ")
    if style == "utc-morning":
        return datetime.combine(day, time(8, 0), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return day.isoformat()


def _what(rng: random.Random, listing: Listing) -> None:
    mission = listing.mission
    template = mission.template
    french, idealist, volunteermatch = CAUSE_VOCABULARY[template.cause]
    if listing.partner == XML:
        if rng.random() < 0.55:
            listing.causes = [template.cause]
            listing.patterns.append("cause:slug")
        else:
            listing.causes = [rng.choice(french)]
            listing.patterns.append("cause:fr-label")
    else:
        words = idealist if listing.partner == IDEALIST else volunteermatch
        if template.cause == "solidarite-insertion":
            first = words[1] if template.need == "housing" else words[0]
            listing.causes = (
                [first] if rng.random() < 0.6 else [first, *(w for w in words if w != first)]
            )
        else:
            listing.causes = [words[0]]
        listing.patterns.append("cause:en-enum")
    hours = template.hours
    if listing.partner == XML:
        if hours is not None and rng.random() < 0.9:
            listing.schedule, pattern = fr_hours(rng, hours)
        elif hours is None:
            listing.schedule = rng.choice(("Ponctuel", "Selon vos disponibilités", None))
            pattern = "hours:none"
        else:
            pattern = "hours:absent"
    elif listing.partner == IDEALIST:
        if hours is not None and rng.random() < 0.85:
            english = mission.org.english or rng.random() < 0.7
            listing.schedule, pattern = (en_hours if english else fr_hours)(rng, hours)
        elif hours is None:
            listing.schedule = rng.choice(("Flexible", "One-time", None))
            pattern = "hours:none"
        else:
            pattern = "hours:absent"
    elif hours is not None and rng.random() < 0.35:
        listing.hours_in_description = True
        pattern = "hours:description"
    else:
        pattern = "hours:absent" if hours is not None else "hours:none"
    listing.patterns.append(pattern)


def truth(mission: Mission, published: list[Listing], known: dict[str, set[str]]) -> dict[str, Any]:
    """What a company should see for this mission, decided from what its listings say.

    `known` holds the identifiers that some listing of the set gives, for any mission: the hub
    may rightly show an association's RNA learnt from another of its missions.
    """
    org, ids = mission.org, published[0].ids
    clustered = len(published) > 1
    own = published[0]
    organization = org.name if clustered else own.org_name
    accepted = {org.name, *(x.org_name for x in published if "org:branch" in x.patterns)}
    if not clustered:
        accepted.add(own.org_name)
    accepted.discard(organization)
    place = mission.commune
    hours = mission.template.hours if _any(published, "hours") else None
    rna = ids.rna if _any(published, "rna") else None
    siren = ids.siren if _any(published, "siren") else None
    return {
        "title": mission.title if clustered else own.title,
        "organization": organization,
        "organization_also": sorted(accepted),
        "city": place.name if place else None,
        "postal_code": place.postal_code if place else None,
        "remote": mission.remote,
        "causes": [mission.template.cause],
        "start_date": mission.start.isoformat(),
        "hours_min": hours[0] if hours else None,
        "hours_max": hours[1] if hours else None,
        "rna": rna,
        "rna_also": [ids.rna] if rna is None and ids.rna in known["rna"] else [],
        "siren": siren,
        "siren_also": [ids.siren] if siren is None and ids.siren in known["siren"] else [],
    }


def _any(published: list[Listing], what: str) -> bool:
    return any(getattr(listing, f"gives_{what}") for listing in published)
