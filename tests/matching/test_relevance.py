"""Measured relevance: the recommender against the full-text search, on a judged set.

tests/matching/judgments.json holds employee profiles and, for each, missions of the demo
catalogue (loaded at the test date, 2400 missions) graded 0 to 3 by someone who had not read the
ranker. Every profile goes through the real GraphQL API twice: `recommendedMissions` (first 10),
and the baseline an intranet had before it, `missions` searched with the profile's skill labels
(order RELEVANCE, first 10). Both mean NDCG@10 figures are printed (run with -s); the ranker must
beat the baseline by 0.10.

    .venv/bin/python -m pytest -s tests/matching/test_relevance.py
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from hub.catalogue import taxonomy
from hub.demo.load import load_demo
from hub.settings import Settings
from hub.storage.db import make_engine
from tests.conftest import TEST_NOW, GraphQL
from tests.matching.ndcg import ndcg_at

JUDGED = Path(__file__).with_name("judgments.json")
MARGIN = 0.10

RESULT = "listings { partner { name } externalId }"
RECOMMENDED = f"""
query Recommended($profile: EmployeeProfileInput!) {{
  recommendedMissions(profile: $profile, first: 10) {{ nodes {{ mission {{ {RESULT} }} }} }}
}}
"""
SEARCHED = f"""
query Searched($text: String!) {{
  missions(filter: {{ text: $text }}, orderBy: RELEVANCE, first: 10) {{ nodes {{ {RESULT} }} }}
}}
"""


@pytest.fixture
def judged() -> list[dict[str, Any]]:
    """The judged set; its absence fails the test (read before the catalogue is loaded)."""
    if not JUDGED.exists():
        pytest.fail(
            f"{JUDGED.name} is missing: the relevance of recommendations cannot be measured"
        )
    profiles: list[dict[str, Any]] = json.loads(JUDGED.read_text(encoding="utf-8"))
    assert profiles, f"{JUDGED.name} holds no profile"
    return profiles


def _variables(profile: dict[str, Any]) -> dict[str, Any]:
    """The judged file's profile as EmployeeProfileInput (causes as enum names)."""
    wanted = {key: value for key, value in profile.items() if value is not None}
    wanted["causes"] = [c.replace("-", "_").upper() for c in profile.get("causes") or ()]
    return wanted


def _keys(mission: dict[str, Any]) -> list[str]:
    """Every listing of a result: a mission published on two partners is judged under either."""
    return [
        f"{listing['partner']['name']}:{listing['externalId']}" for listing in mission["listings"]
    ]


def _ranked(missions: list[dict[str, Any]], judgments: dict[str, int]) -> list[str]:
    """Each result as its best-judged listing's key."""
    return [max(_keys(m), key=lambda k: judgments.get(k, 0)) for m in missions]


@pytest.fixture
def demo(settings: Settings) -> Settings:
    async def load() -> None:
        engine = make_engine(settings)
        try:
            await load_demo(engine, TEST_NOW, count=2400)
        finally:
            await engine.dispose()

    asyncio.run(load())
    return settings


def test_recommendations_beat_the_text_search_on_the_judged_set(
    judged: list[dict[str, Any]], demo: Settings, data: GraphQL
) -> None:
    ranker: list[float] = []
    baseline: list[float] = []
    for entry in judged:
        judgments: dict[str, int] = entry["judgments"]
        profile = entry["profile"]
        found = data(RECOMMENDED, {"profile": _variables(profile)})["recommendedMissions"]
        mine = ndcg_at(_ranked([n["mission"] for n in found["nodes"]], judgments), judgments)
        if mine is None:
            continue  # nothing judged relevant: no ranking is better than another
        text = " ".join(taxonomy.skill_label(s) for s in profile.get("skills") or ())
        theirs = 0.0  # a profile without skills gives the text search nothing to look for
        if text.strip():
            searched = data(SEARCHED, {"text": text})["missions"]["nodes"]
            theirs = ndcg_at(_ranked(searched, judgments), judgments) or 0.0
        ranker.append(mine)
        baseline.append(theirs)
        print(f"{entry['id']:>24}  ranker {mine:.3f}  baseline {theirs:.3f}")
    assert ranker, "no profile of the judged set has a mission judged above 0"
    mean_ranker = sum(ranker) / len(ranker)
    mean_baseline = sum(baseline) / len(baseline)
    print(
        f"mean NDCG@10 over {len(ranker)} profiles: ranker {mean_ranker:.3f}, "
        f"baseline (full-text search) {mean_baseline:.3f}"
    )
    assert mean_ranker >= mean_baseline + MARGIN, (mean_ranker, mean_baseline)
