"""The demo catalogue must be deterministic and look like what real partner connectors produce."""

from __future__ import annotations

import csv
import importlib.resources
import io
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest

from hub.catalogue.model import GeoSource, MissionDraft, Remote
from hub.catalogue.text import fold
from hub.demo.catalogue import API_ENGAGEMENT_CAUSES, DEFAULT_NOW, PARTNERS, demo_catalogue

FRENCH_PARTNERS = ("benevolat-france", "api-engagement")

# (lat min, lat max, lon min, lon max): metropolitan France with Corsica, then overseas departments.
FRANCE_BOXES = {
    "metropolitan": (41.0, 51.5, -5.5, 10.0),
    "971": (15.8, 16.6, -61.9, -61.0),
    "972": (14.3, 14.95, -61.3, -60.8),
    "973": (2.0, 6.0, -54.7, -51.5),
    "974": (-21.5, -20.8, 55.1, 55.9),
    "976": (-13.1, -12.6, 44.9, 45.35),
}


@pytest.fixture(scope="module")
def catalogue() -> dict[str, list[MissionDraft]]:
    return demo_catalogue()


@pytest.fixture(scope="module")
def all_missions(catalogue: dict[str, list[MissionDraft]]) -> list[MissionDraft]:
    return [m for drafts in catalogue.values() for m in drafts]


@pytest.fixture(scope="module")
def communes() -> set[tuple[str, str, str, float, float]]:
    resource = importlib.resources.files("hub.catalogue") / "data" / "communes-fr.csv"
    with resource.open("rb") as raw, io.TextIOWrapper(raw, encoding="utf-8") as fh:
        return {
            (
                row["postal_code"],
                row["department_code"],
                row["commune"],
                float(row["latitude"]),
                float(row["longitude"]),
            )
            for row in csv.DictReader(fh)
            if row["latitude"] and row["longitude"]
        }


def test_default_call_size_and_partners(catalogue: dict[str, list[MissionDraft]]) -> None:
    assert list(catalogue) == list(PARTNERS)
    assert set(PARTNERS) >= {"benevolat-france", "api-engagement", "skills-for-good"}
    assert sum(len(v) for v in catalogue.values()) == 2400
    shares = {name: len(v) / 2400 for name, v in catalogue.items()}
    assert 0.38 < shares["benevolat-france"] < 0.52
    assert 0.28 < shares["api-engagement"] < 0.42
    assert 0.14 < shares["skills-for-good"] < 0.26


def test_mission_count_is_respected() -> None:
    for count in (0, 1, 37, 500):
        assert sum(len(v) for v in demo_catalogue(count).values()) == count
    with pytest.raises(ValueError):
        demo_catalogue(-1)


def test_deterministic_and_seeded(catalogue: dict[str, list[MissionDraft]]) -> None:
    assert demo_catalogue() == catalogue
    assert demo_catalogue(seed=7, now=DEFAULT_NOW) == catalogue
    assert demo_catalogue(seed=8) != catalogue


def test_now_drives_all_dates() -> None:
    now = datetime(2025, 3, 15, 12, 0, tzinfo=UTC)
    missions = [m for v in demo_catalogue(300, now=now).values() for m in v]
    for m in missions:
        assert m.posted_at is not None and m.start_at is not None
        assert now - timedelta(days=90) <= m.posted_at <= now
        assert now - timedelta(days=61) <= m.start_at <= now + timedelta(days=121)
    with pytest.raises(ValueError):
        demo_catalogue(10, now=datetime(2025, 3, 15))


def test_external_ids_unique_per_partner(catalogue: dict[str, list[MissionDraft]]) -> None:
    styles = {
        "benevolat-france": re.compile(r"BF-\d{6}"),
        "api-engagement": re.compile(r"\d+"),
        "skills-for-good": re.compile(r"sfg_[a-z0-9]{6}"),
    }
    for partner, drafts in catalogue.items():
        ids = [m.external_id for m in drafts]
        assert len(ids) == len(set(ids)), partner
        assert all(styles[partner].fullmatch(i) for i in ids), partner
        for m in drafts:
            assert m.application_url is not None
            assert m.application_url.startswith("https://")
            assert m.application_url.endswith(f"/missions/{m.external_id}")


def _in_france(lat: float, lon: float) -> bool:
    return any(a <= lat <= b and c <= lon <= d for a, b, c, d in FRANCE_BOXES.values())


def test_locations_are_real_french_communes(
    all_missions: list[MissionDraft], communes: set[tuple[str, str, str, float, float]]
) -> None:
    locations = [loc for m in all_missions for loc in m.locations]
    assert locations
    for loc in locations:
        assert loc.latitude is not None and loc.longitude is not None
        assert _in_france(loc.latitude, loc.longitude), loc
        assert loc.postal_code is not None and loc.department_code is not None
        assert loc.city is not None
        key = (loc.postal_code, loc.department_code, loc.city, loc.latitude, loc.longitude)
        assert key in communes, loc
        assert loc.country == "FR"
        assert loc.region
        assert loc.geo_source is GeoSource.PARTNER


def test_locations_lean_towards_big_cities(all_missions: list[MissionDraft]) -> None:
    cities = Counter((m.locations[0].city or "").split(" ")[0] for m in all_missions if m.locations)
    total = sum(cities.values())
    assert cities["Paris"] / total > 0.05
    assert cities["Paris"] > cities["Lyon"] > 0
    assert cities["Marseille"] > 0
    assert len(cities) > 200  # plenty of small communes too


def test_remote_and_locations(all_missions: list[MissionDraft]) -> None:
    remote = Counter(m.remote for m in all_missions)
    n = len(all_missions)
    assert 0.28 < remote[Remote.FULL] / n < 0.42
    assert 0.20 < remote[Remote.POSSIBLE] / n < 0.38
    for m in all_missions:
        if m.remote is Remote.FULL:
            assert len(m.locations) <= 1
        else:
            assert 1 <= len(m.locations) <= 3


def test_causes_and_skills(catalogue: dict[str, list[MissionDraft]]) -> None:
    for partner in FRENCH_PARTNERS:
        for m in catalogue[partner]:
            assert m.causes
            assert set(m.causes) <= API_ENGAGEMENT_CAUSES, m.causes
            assert m.skills
    english = catalogue["skills-for-good"]
    english_labels = [m for m in english if not set(m.causes) <= API_ENGAGEMENT_CAUSES]
    assert len(english_labels) > 0.8 * len(english)
    sfg_causes = {c for m in english for c in m.causes}
    assert {"health", "environment", "digital", "poverty"} <= sfg_causes
    sfg_skills = {s for m in english for s in m.skills}
    assert {"web development", "accounting", "translation", "mentoring"} <= sfg_skills


def test_texts(all_missions: list[MissionDraft]) -> None:
    assert len({m.title for m in all_missions}) > 200
    assert any("é" in m.title for m in all_missions)
    for m in all_missions:
        assert m.description and m.description_html
        assert m.description_html.startswith("<p>")
        assert 2 <= m.description.count(". ") + 1 <= 5
        assert m.schedule_label
    assert any("<ul><li>" in (m.description_html or "") for m in all_missions)


def test_dates_hours_places(all_missions: list[MissionDraft]) -> None:
    for m in all_missions:
        for value in (m.start_at, m.end_at, m.posted_at):
            assert value is None or value.utcoffset() == timedelta(0)
        if m.start_at is not None and m.end_at is not None:
            assert m.end_at >= m.start_at
        if m.places_total is not None:
            assert 1 <= m.places_total <= 10
            assert m.places_remaining is not None
            assert 0 <= m.places_remaining <= m.places_total
        if m.hours_per_week_min is not None and m.hours_per_week_max is not None:
            assert m.hours_per_week_min <= m.hours_per_week_max
    assert any(m.end_at is None for m in all_missions)


def test_engagement_types(catalogue: dict[str, list[MissionDraft]]) -> None:
    kinds = {p: Counter(m.engagement_type.value for m in v) for p, v in catalogue.items()}
    assert kinds["api-engagement"]["CIVIC_SERVICE"] > 0
    assert kinds["benevolat-france"]["CIVIC_SERVICE"] == 0
    assert sum(k["OTHER"] for k in kinds.values()) > 0
    assert kinds["skills-for-good"].most_common(1)[0][0] == "SKILLS_VOLUNTEERING"


def test_organizations(all_missions: list[MissionDraft]) -> None:
    orgs = {m.organization.name: m.organization for m in all_missions if m.organization}
    assert 150 <= len(orgs) <= 200
    sirens = 0
    for org in orgs.values():
        assert org.rna is not None and re.fullmatch(r"W\d{9}", org.rna), org
        if org.siren is not None:
            sirens += 1
            assert re.fullmatch(r"\d{9}", org.siren)
        if org.siret is not None:
            assert org.siren is not None
            assert re.fullmatch(r"\d{14}", org.siret)
            assert org.siret.startswith(org.siren)
        assert org.url is not None and re.fullmatch(r"https://www\.[a-z0-9-]+\.org", org.url)
    assert 0 < sirens < len(orgs)
    partners_by_org: dict[str, set[str]] = defaultdict(set)
    for m in all_missions:
        assert m.organization is not None and m.application_url is not None
        partners_by_org[m.organization.name].add(m.application_url.split("/")[2])
    assert sum(len(p) > 1 for p in partners_by_org.values()) >= 10


def test_some_missions_are_republished(catalogue: dict[str, list[MissionDraft]]) -> None:
    def key(m: MissionDraft) -> tuple[str, str | None]:
        assert m.organization is not None
        return m.organization.name, m.locations[0].city if m.locations else None

    by_key: dict[tuple[str, str | None], list[str]] = defaultdict(list)
    for m in catalogue["benevolat-france"]:
        by_key[key(m)].append(fold(m.title))
    pairs = 0
    for m in catalogue["api-engagement"]:
        title = fold(m.title)
        if any(a in title or title in a for a in by_key.get(key(m), [])):
            pairs += 1
    assert 0.02 * 2400 <= pairs <= 0.06 * 2400
