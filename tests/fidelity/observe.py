"""Reads back what the hub made of the fidelity listings, as the score needs it.

Everything a company sees comes from the GraphQL API: the merged catalogue (`missions`, with
`alsoPublishedOn`, `organization`, `locations`, `causes`, `commitment`), read with a company's
token. Each partner's token gives the hub's id of every listing it published
(`partnerMissions`) and the records refused from it, with reasons (`refusedRecords`).

One fact the API does not expose: which listing a hidden duplicate was merged into
(`alsoPublishedOn` names the other platforms, not their listings, and the catalogue shows only
the canonical listing). That link is read from the `canonical_pk` column of the missions table,
and cross-checked with `alsoPublishedOn`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import aliased

from hub.settings import Settings
from hub.storage.db import make_engine
from hub.storage.tables import missions
from tests.conftest import run
from tests.fidelity.score import Observation, Shown

__all__ = ["Post", "observe"]

PARIS = ZoneInfo("Europe/Paris")
Post = Callable[[str, dict[str, Any], str], dict[str, Any]]  # (query, variables, token) -> data

SEEN = """
fragment Seen on Mission {
  id externalId title remote startAt
  partner { name }
  alsoPublishedOn { name }
  organization { name rna siren }
  locations { city postalCode }
  causes { value }
  commitment { hoursPerWeekMin hoursPerWeekMax }
}
"""
CATALOGUE = (
    """
query Catalogue($after: String) {
  missions(first: 100, after: $after, filter: {status: [OPEN, CLOSED, EXPIRED]}) {
    pageInfo { hasNextPage endCursor }
    nodes { ...Seen }
  }
}
"""
    + SEEN
)
ONE = "query One($id: ID!) { mission(id: $id) { ...Seen } }" + SEEN
OWN = """
query Own($after: String) {
  partnerMissions(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id externalId }
  }
}
"""
REFUSED = "{ refusedRecords(first: 100) { externalId reason source } }"


def _pages(post: Post, query: str, token: str, root: str) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        page = post(query, {"after": after}, token)[root]
        nodes += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


def _shown(node: dict[str, Any]) -> Shown:
    org = node["organization"] or {}
    place = node["locations"][0] if node["locations"] else {}
    commitment = node["commitment"] or {}
    start = node["startAt"]
    day = datetime.fromisoformat(start).astimezone(PARIS).date().isoformat() if start else None
    return Shown(
        title=node["title"],
        organization=org.get("name"),
        city=place.get("city"),
        postal_code=place.get("postalCode"),
        remote=node["remote"],
        causes=tuple(c["value"].lower().replace("_", "-") for c in node["causes"]),
        start_date=day,
        hours_min=commitment.get("hoursPerWeekMin"),
        hours_max=commitment.get("hoursPerWeekMax"),
        rna=org.get("rna"),
        siren=org.get("siren"),
    )


def _canonical(settings: Settings) -> dict[str, str | None]:
    """Each mission's id, and the id of the listing it was merged into (None: its own root)."""

    async def go() -> dict[str, str | None]:
        engine = make_engine(settings)
        canonical = aliased(missions)
        stmt = select(missions.c.id, canonical.c.id).outerjoin(
            canonical, canonical.c.pk == missions.c.canonical_pk
        )
        try:
            async with engine.connect() as conn:
                return {mid: root for mid, root in (await conn.execute(stmt)).all()}
        finally:
            await engine.dispose()

    return run(go())  # type: ignore[no-any-return]


def observe(post: Post, company: str, partners: dict[str, str], settings: Settings) -> Observation:
    """What the hub holds for the fidelity listings: `partners` maps names to partner tokens."""
    observation = Observation()
    key_of: dict[str, str] = {}  # the hub's mission id -> "partner:externalId"
    for name, token in partners.items():
        for node in _pages(post, OWN, token, "partnerMissions"):
            key_of[node["id"]] = f"{name}:{node['externalId']}"
        for i, record in enumerate(post(REFUSED, {}, token)["refusedRecords"]):
            key = f"{name}:{record['externalId']}" if record["externalId"] else f"{name}:#{i}"
            observation.refused[key] = record["reason"]

    catalogue = {node["id"]: node for node in _pages(post, CATALOGUE, company, "missions")}
    canonical = _canonical(settings)

    def root(mission_id: str) -> str:
        seen = {mission_id}
        while (up := canonical.get(mission_id)) is not None and up not in seen:
            seen.add(up)
            mission_id = up
        return mission_id

    members: dict[str, list[str]] = defaultdict(list)
    for mission_id, key in key_of.items():
        members[root(mission_id)].append(key)
    for root_id, keys in members.items():
        head = catalogue.get(root_id)
        if head is None:  # not in the company's catalogue: ask for it by id
            head = post(ONE, {"id": root_id}, company)["mission"]
            observation.notes.append(f"{key_of.get(root_id, root_id)} heads a family, unlisted")
        assert head is not None, f"{root_id}: no such mission"
        shown = _shown(head)
        for key in keys:
            observation.family[key] = key_of.get(root_id, root_id)
            observation.shown[key] = shown
        _check_also_published(observation, head, keys)
    for mission_id in catalogue:
        if canonical.get(mission_id) is not None:
            observation.notes.append(f"{key_of.get(mission_id)} is a duplicate, yet listed")
    return observation


def _check_also_published(observation: Observation, node: dict[str, Any], keys: list[str]) -> None:
    """`alsoPublishedOn` of the shown record names the family's other platforms."""
    own = node["partner"]["name"]
    expected = {key.split(":", 1)[0] for key in keys} - {own}
    said = {partner["name"] for partner in node["alsoPublishedOn"]}
    if said != expected:
        observation.notes.append(
            f"{own}:{node['externalId']}: alsoPublishedOn {sorted(said)}, "
            f"its family is on {sorted(expected)}"
        )
