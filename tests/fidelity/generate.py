"""Writes the fidelity set from a fixed seed: three partners' catalogues and their truth.

    .venv/bin/python -m tests.fidelity.generate      # rewrites tests/fidelity/data/

The real missions are planned first (missions.py), then every platform publishing one words its
listing in its own way (publish.py) and format (formats.py); the truth is decided from the
missions and from what their listings say, never from the hub.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.fidelity.corpus import ORGS
from tests.fidelity.formats import idealist_volop, volunteermatch_opportunity, xml_mission
from tests.fidelity.missions import IDEALIST, ORG, PLATFORMS, VM, XML, Mission, Planner
from tests.fidelity.publish import Identifiers, Listing, listings, truth

__all__ = ["DATA", "FILES", "SEED", "build", "main", "render_files"]

SEED = 20261115
DATA = Path(__file__).parent / "data"
FILES = {XML: "reseau-solidaire.xml", IDEALIST: "idealist.json", VM: "volunteermatch.json"}
# Missions published on several platforms, by platforms; then missions published once.
CLUSTERS = [(XML, IDEALIST, VM)] * 30 + [(XML, IDEALIST)] * 25 + [(XML, VM)] * 20
CLUSTERS += [(IDEALIST, VM)] * 15
SINGLETONS = [(XML,)] * 70 + [(IDEALIST,)] * 60 + [(VM,)] * 60
REMOTE_CLUSTERS, ENGLISH_CLUSTERS = 10, 8
TWIN_KINDS = ["city"] * 10 + ["level"] * 7 + ["weekday"] * 9 + ["session"] * 6
TWIN_KINDS += ["dates"] * 8 + ["role"] * 8
# Records each partner gets wrong, the way the simulated partners of tests/partners/ do.
DEFECTS = [
    (XML, "no-title"),
    (XML, "impossible-date"),
    (IDEALIST, "no-name"),
    (IDEALIST, "impossible-date"),
    (VM, "no-title"),
    (VM, "impossible-date"),
]
FEED_HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<source>\n'
    "  <publisher><![CDATA[Réseau Solidaire]]></publisher>\n"
    "  <publisherurl><![CDATA[https://reseau-solidaire.example]]></publisherurl>\n"
    "  <lastBuildDate><![CDATA[Sun, 15 Nov 2026 05:00:00 GMT]]></lastBuildDate>\n"
)


def siren(rng: random.Random) -> str:
    """Nine digits whose Luhn sum is right, as every real SIREN's is."""
    digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(7)]
    total = 0
    for i, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if i % 2 == 0 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


def identifiers(rng: random.Random) -> dict[str, Identifiers]:
    out = {}
    for org in ORGS:
        rna = None
        if org.rna_department:
            rna = f"W{org.rna_department}{rng.choice('1234')}{rng.randint(0, 999999):06d}"
        ein = f"{rng.randint(10, 99)}-{rng.randint(1000000, 9999999)}" if org.english else None
        out[org.key] = Identifiers(
            rna=rna,
            siren=siren(rng) if org.siren else None,
            ein=ein,
            idealist_id=f"{rng.getrandbits(128):032x}",
            volunteermatch_id=str(rng.randint(100000, 999999)),
        )
    return out


class _Ids:
    """Each platform's own ids: numbers on the French feed and VolunteerMatch, hex on Idealist."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seen: set[str] = set()

    def new(self, platform: str) -> str:
        while True:
            if platform == XML:
                value = str(self.rng.randint(10000, 99999))
            elif platform == IDEALIST:
                value = f"{self.rng.getrandbits(128):032x}"
            else:
                value = str(self.rng.randint(1000000, 9999999))
            if value not in self.seen:
                self.seen.add(value)
                return value


def build(seed: int = SEED) -> tuple[dict[str, list[Listing]], dict[str, Any]]:
    """Every partner's listings, in publication order, and the truth."""
    rng = random.Random(seed)
    org_ids = identifiers(rng)
    planner = Planner(rng)
    clusters, singletons = list(CLUSTERS), list(SINGLETONS)
    rng.shuffle(clusters)
    rng.shuffle(singletons)
    pairs = []
    for i, kind in enumerate(TWIN_KINDS):
        platforms = clusters.pop() if i % 2 == 0 else singletons.pop()
        pairs.append(planner.twins(kind, platforms))
    # Some clusters are drawn for patterns that few missions carry: remote missions (one
    # platform shows the association's address, another none) and English titles.
    for i, platforms in enumerate(clusters):
        if i < REMOTE_CLUSTERS:
            planner.random(platforms, lambda t: t.remote == "FULL" and bool(ORG[t.org].hq))
        elif i < REMOTE_CLUSTERS + ENGLISH_CLUSTERS and platforms != (XML, VM):
            planner.random(platforms, lambda t: t.title_en is not None)
        else:
            planner.random(platforms)
    for platforms in singletons:
        planner.random(platforms)
    defective = {planner.random((platform,)).cluster: defect for platform, defect in DEFECTS}

    ids = _Ids(rng)
    by_mission: dict[str, list[Listing]] = {}
    for mission in planner.missions:
        external = {platform: ids.new(platform) for platform in mission.platforms}
        published = listings(rng, mission, org_ids[mission.template.org], external)
        for listing in published:
            listing.defect = defective.get(mission.cluster)
        by_mission[mission.cluster] = published
    readable = [x for published in by_mission.values() for x in published if not x.defect]
    known = {
        "rna": {x.ids.rna for x in readable if x.gives_rna and x.ids.rna},
        "siren": {x.ids.siren for x in readable if x.gives_siren and x.ids.siren},
    }
    entries = []
    for mission in planner.missions:
        published = by_mission[mission.cluster]
        expected = truth(mission, published, known)
        entries += [_entry(listing, mission, expected) for listing in published]

    by_partner: dict[str, list[Listing]] = {p: [] for p in PLATFORMS}
    for published in by_mission.values():
        for listing in published:
            by_partner[listing.partner].append(listing)
    for platform in PLATFORMS:
        rng.shuffle(by_partner[platform])
    doc = {
        "about": "The truth of the fidelity set: see tests/fidelity/README.md for its rules.",
        "seed": seed,
        "generated_by": "tests/fidelity/generate.py",
        "partners": {
            XML: {"connector": "api-engagement-xml", "file": FILES[XML]},
            IDEALIST: {"connector": "idealist-json", "file": FILES[IDEALIST]},
            VM: {"connector": "volunteermatch-graphql", "file": FILES[VM]},
        },
        "listings": entries,
        "hard_negatives": [pair for base, twin in pairs for pair in _hard(base, twin, by_mission)],
    }
    return by_partner, doc


def _entry(listing: Listing, mission: Mission, expected: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "key": listing.key,
        "partner": listing.partner,
        "external_id": listing.external_id,
        "cluster": mission.cluster,
        "expect": "refused" if listing.defect else "ingested",
    }
    if listing.defect:
        entry["defect"] = listing.defect
    else:
        entry["patterns"] = listing.patterns
        entry["truth"] = expected
    return entry


def _hard(
    base: Mission, twin: Mission, by_mission: dict[str, list[Listing]]
) -> list[dict[str, Any]]:
    """Every pair of listings, on two platforms, of two look-alike missions."""
    kind = twin.twin_kind or ""
    if kind == "city":
        assert base.commune and twin.commune
        differs = [f"{c.name} {c.postal_code}" for c in (base.commune, twin.commune)]
        places = [(c.name, c.department) for c in (base.commune, twin.commune)]
        kind = "district" if places[0] == places[1] else "city"  # or the same name elsewhere
    elif kind == "dates":
        differs = [f"{m.start}..{m.end or ''}" for m in (base, twin)]
    elif kind == "role":
        differs = [base.title, twin.title]
    else:
        differs = [base.slot or "", twin.slot or ""]
    return [
        {"kind": kind, "a": a.key, "b": b.key, "clusters": [base.cluster, twin.cluster],
         "differs": differs}
        for a in by_mission[base.cluster]
        for b in by_mission[twin.cluster]
        if a.partner != b.partner
    ]  # fmt: skip


def render_files(by_partner: dict[str, list[Listing]], doc: dict[str, Any]) -> dict[str, str]:
    """The data files' text, by file name."""
    feed = FEED_HEADER + "".join(xml_mission(x) for x in by_partner[XML]) + "</source>\n"
    first = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
    volops = [
        idealist_volop(x, first + timedelta(minutes=7 * i))
        for i, x in enumerate(by_partner[IDEALIST])
    ]
    opportunities = [volunteermatch_opportunity(x) for x in by_partner[VM]]
    return {
        FILES[XML]: feed,
        FILES[IDEALIST]: _json({"volops": volops}),
        FILES[VM]: _json({"opportunities": opportunities}),
        "truth.json": _json(doc),
    }


def _json(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


def main() -> None:
    by_partner, doc = build()
    DATA.mkdir(exist_ok=True)
    for name, text in render_files(by_partner, doc).items():
        (DATA / name).write_text(text, encoding="utf-8")
    listed = doc["listings"]
    partners: dict[str, set[str]] = {}
    for entry in listed:
        partners.setdefault(entry["cluster"], set()).add(entry["partner"])
    missions = {tuple(pair["clusters"]) for pair in doc["hard_negatives"]}
    print(
        f"{len(listed)} listings ({', '.join(f'{p}: {len(by_partner[p])}' for p in PLATFORMS)}), "
        f"{sum(1 for p in partners.values() if len(p) > 1)} clusters of duplicates, "
        f"{len(missions)} look-alike mission pairs ({len(doc['hard_negatives'])} listing pairs)"
    )


if __name__ == "__main__":
    main()
