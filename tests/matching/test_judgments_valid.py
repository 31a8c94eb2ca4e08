"""The judged set of tests/matching/judgments.json is well formed and refers to the demo catalogue
as it loads at the test date: every judged mission exists and is open, every slug is in the
taxonomy, and every profile has enough good and enough poor missions to measure a ranking."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from hub.catalogue.taxonomy import CAUSE_SLUGS, SKILL_SLUGS, SKILLS
from hub.demo.catalogue import PARTNERS
from hub.demo.load import load_demo
from hub.settings import Settings
from hub.storage.db import make_engine
from tests.conftest import TEST_NOW, GraphQL, run

JUDGMENTS = Path(__file__).with_name("judgments.json")

PROFILE_KEYS = {
    "skills",
    "causes",
    "near",
    "remote",
    "hoursPerWeek",
    "availableFrom",
    "availableUntil",
    "languages",
}
REMOTE_MODES = {"REMOTE_ONLY", "ON_SITE_ONLY", "ANY"}
MISSION_KEY = re.compile(r"^(?P<partner>[a-z0-9-]+):(?P<external>\S+)$")
LANGUAGE = re.compile(r"^[a-z]{2}$")

MIN_PROFILES = 40
MIN_JUDGMENTS = 15
MIN_GOOD = 3  # graded 2 or 3
MIN_POOR = 5  # graded 0 or 1

OPEN_MISSIONS = """
query Open($after: String) {
  missions(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { externalId partner { name } } }
  }
}"""


@pytest.fixture(scope="module")
def judged() -> list[dict[str, Any]]:
    profiles: list[dict[str, Any]] = json.loads(JUDGMENTS.read_text(encoding="utf-8"))
    return profiles


def test_enough_profiles_with_unique_ids(judged: list[dict[str, Any]]) -> None:
    assert isinstance(judged, list)
    assert len(judged) >= MIN_PROFILES
    ids = [p["id"] for p in judged]
    assert len(set(ids)) == len(ids), [i for i, n in Counter(ids).items() if n > 1]
    for profile in judged:
        assert set(profile) == {"id", "persona", "profile", "judgments"}, profile["id"]
        assert re.fullmatch(r"p\d{2,3}", profile["id"]), profile["id"]


def test_personas_are_roles(judged: list[dict[str, Any]]) -> None:
    personas = [p["persona"] for p in judged]
    assert len(set(personas)) == len(personas), "two profiles share a persona"
    for persona in personas:
        assert isinstance(persona, str) and 20 <= len(persona) <= 200, persona
        assert persona.endswith("."), persona
        assert "/" not in persona, persona  # no paths


def test_profiles_use_the_taxonomy_and_valid_constraints(judged: list[dict[str, Any]]) -> None:
    for entry in judged:
        pid, profile = entry["id"], entry["profile"]
        assert set(profile) == PROFILE_KEYS, pid
        assert profile["skills"], pid
        assert len(set(profile["skills"])) == len(profile["skills"]), pid
        assert set(profile["skills"]) <= SKILL_SLUGS, (pid, set(profile["skills"]) - SKILL_SLUGS)
        assert set(profile["causes"]) <= CAUSE_SLUGS, (pid, set(profile["causes"]) - CAUSE_SLUGS)
        assert profile["remote"] in REMOTE_MODES, pid
        near = profile["near"]
        if near is not None:
            assert set(near) == {"latitude", "longitude", "radiusKm"}, pid
            assert 41.0 <= near["latitude"] <= 51.5 and -5.5 <= near["longitude"] <= 10.0, pid
            assert 0 < near["radiusKm"] <= 200, pid
        if profile["remote"] == "ON_SITE_ONLY":
            assert near is not None, f"{pid}: on site, but near what?"
        hours = profile["hoursPerWeek"]
        assert hours is None or (isinstance(hours, int | float) and 0 < hours <= 40), pid
        start, end = profile["availableFrom"], profile["availableUntil"]
        if start is not None:
            assert date.fromisoformat(start) >= TEST_NOW.date(), pid
        if start is not None and end is not None:
            assert date.fromisoformat(start) < date.fromisoformat(end), pid
        elif end is not None:
            assert date.fromisoformat(end) > TEST_NOW.date(), pid
        assert profile["languages"], pid
        assert all(LANGUAGE.fullmatch(code) for code in profile["languages"]), pid


def test_the_set_is_varied(judged: list[dict[str, Any]]) -> None:
    """Every skill family, each way of working, short and long hours, windows, causes or not."""
    family_of = {skill.slug: skill.family for skill in SKILLS}
    families = {family_of[s] for p in judged for s in p["profile"]["skills"]}
    assert families == set(family_of.values())
    profiles = [p["profile"] for p in judged]
    assert {p["remote"] for p in profiles} == REMOTE_MODES
    assert any(len(p["skills"]) > 1 for p in profiles)
    assert any(p["causes"] for p in profiles) and any(not p["causes"] for p in profiles)
    assert any(p["hoursPerWeek"] is not None and p["hoursPerWeek"] <= 2 for p in profiles)
    assert any(p["hoursPerWeek"] is not None and p["hoursPerWeek"] > 2 for p in profiles)
    assert any(p["availableFrom"] or p["availableUntil"] for p in profiles)
    places = {(p["near"]["latitude"], p["near"]["longitude"]) for p in profiles if p["near"]}
    assert len(places) >= 5


def test_grades_and_balance(judged: list[dict[str, Any]]) -> None:
    for entry in judged:
        pid, judgments = entry["id"], entry["judgments"]
        assert isinstance(judgments, dict), pid
        assert len(judgments) >= MIN_JUDGMENTS, (pid, len(judgments))
        for key, grade in judgments.items():
            match = MISSION_KEY.fullmatch(key)
            assert match is not None, (pid, key)
            assert match["partner"] in PARTNERS, (pid, key)
            assert type(grade) is int and 0 <= grade <= 3, (pid, key, grade)
        grades = Counter(judgments.values())
        assert grades[2] + grades[3] >= MIN_GOOD, (pid, dict(grades))
        assert grades[0] + grades[1] >= MIN_POOR, (pid, dict(grades))


def test_judged_missions_are_open_in_the_demo_catalogue(
    judged: list[dict[str, Any]], settings: Settings, data: GraphQL
) -> None:
    """The demo loaded at the test date, as `entraide-hub demo` does, then read through the API."""

    async def load() -> int:
        engine = make_engine(settings)
        try:
            return await load_demo(engine, TEST_NOW)
        finally:
            await engine.dispose()

    assert run(load()) == 2400
    open_missions: set[str] = set()
    after: str | None = None
    while True:
        page = data(OPEN_MISSIONS, {"after": after})["missions"]
        for edge in page["edges"]:
            node = edge["node"]
            open_missions.add(f"{node['partner']['name']}:{node['externalId']}")
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(open_missions) > 1500
    for entry in judged:
        unknown = sorted(set(entry["judgments"]) - open_missions)
        assert not unknown, (entry["id"], unknown)
