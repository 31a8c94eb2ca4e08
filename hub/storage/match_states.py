"""Stored match states, recomputed from the missions when `MatchState` gains or loses a field,
and the labels of a merged mission's shown listing.

The writer stores `MatchState.derive(...)` with each mission; a new filter that needs a field the
states did not carry would otherwise need a hand backfill. `refresh` runs after every migration:
when the fingerprint of `MatchState` differs from the one stored, every mission's state is derived
again from its row and children, in the same way the writer derives it.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.catalogue.match_state import FINGERPRINT, MatchState
from hub.catalogue.model import MissionStatus
from hub.storage.golden_rows import GOLDEN_VERSION, store_golden
from hub.storage.tables import (
    hub_state,
    mission_causes,
    mission_locations,
    mission_skills,
    missions,
    partners,
)

__all__ = ["merge_cluster_labels", "refresh"]

_KEY = "match_state_fingerprint"
_GOLDEN_KEY = "golden_version"
_CHUNK = 500


async def _states(conn: AsyncConnection, rows: list[Any]) -> dict[int, MatchState]:
    pks = [row["pk"] for row in rows]
    spots: defaultdict[int, list[Any]] = defaultdict(list)
    causes: defaultdict[int, list[str]] = defaultdict(list)
    skills: defaultdict[int, list[str]] = defaultdict(list)
    located = await conn.execute(
        select(mission_locations)
        .where(mission_locations.c.mission_pk.in_(pks))
        .order_by(mission_locations.c.mission_pk, mission_locations.c.position)
    )
    for loc in located.mappings():
        spots[loc["mission_pk"]].append(loc)
    for table, column, into in (
        (mission_causes, mission_causes.c.cause, causes),
        (mission_skills, mission_skills.c.skill, skills),
    ):
        for pk, value in await conn.execute(
            select(table.c.mission_pk, column).where(table.c.mission_pk.in_(pks))
        ):
            into[pk].append(value)
    names = dict((await conn.execute(select(partners.c.pk, partners.c.name))).all())
    return {
        row["pk"]: MatchState.derive(
            row,
            partner=names[row["partner_pk"]],
            organization_pk=row["organization_pk"],
            causes=sorted(causes[row["pk"]]),
            skills=sorted(skills[row["pk"]]),
            locations=spots[row["pk"]],
            search_text=row["search_text"],
        )
        for row in rows
    }


async def refresh(conn: AsyncConnection, force: bool = False) -> int:
    """Derive every mission's stored state again if `MatchState` changed; returns how many.
    Store every merged mission's golden record again if its shape changed (GOLDEN_VERSION)."""
    await _refresh_golden(conn)
    stored = (
        await conn.execute(select(hub_state.c.value).where(hub_state.c.key == _KEY))
    ).scalar_one_or_none()
    if stored == FINGERPRINT and not force:
        return 0
    done = 0
    last = 0
    while True:
        rows = (
            (
                await conn.execute(
                    select(missions)
                    .where(missions.c.pk > last)
                    .order_by(missions.c.pk)
                    .limit(_CHUNK)
                )
            )
            .mappings()
            .all()
        )
        if not rows:
            break
        states = await _states(conn, list(rows))
        await _store(conn, {pk: state.to_json() for pk, state in states.items()})
        done += len(rows)
        last = rows[-1]["pk"]
    shown = (
        await conn.execute(
            select(missions.c.canonical_pk)
            .where(missions.c.canonical_pk.is_not(None))
            .distinct()
            .order_by(missions.c.canonical_pk)
        )
    ).scalars()
    await merge_cluster_labels(conn, list(shown))
    if stored is None:
        await conn.execute(insert(hub_state).values(key=_KEY, value=FINGERPRINT))
    else:
        await conn.execute(
            update(hub_state).where(hub_state.c.key == _KEY).values(value=FINGERPRINT)
        )
    return done


async def _refresh_golden(conn: AsyncConnection) -> None:
    stored = (
        await conn.execute(select(hub_state.c.value).where(hub_state.c.key == _GOLDEN_KEY))
    ).scalar_one_or_none()
    if stored == GOLDEN_VERSION:
        return
    heads = (
        await conn.execute(
            select(missions.c.canonical_pk)
            .where(missions.c.canonical_pk.is_not(None))
            .union(select(missions.c.pk).where(missions.c.golden.is_not(None)))
        )
    ).scalars()
    await store_golden(conn, list(heads))
    if stored is None:
        await conn.execute(insert(hub_state).values(key=_GOLDEN_KEY, value=GOLDEN_VERSION))
    else:
        await conn.execute(
            update(hub_state).where(hub_state.c.key == _GOLDEN_KEY).values(value=GOLDEN_VERSION)
        )


async def merge_cluster_labels(
    conn: AsyncConnection, pks: list[int]
) -> dict[int, tuple[dict[str, Any], dict[str, Any]]]:
    """Give each open listing shown for a merged mission (among `pks`) the union of its open
    listings' causes and skills in its stored state, as its golden record shows them and
    searches find them (hub.storage.search), so that subscriptions and webhooks judge what
    searches judge. Returns {pk: (state before, state after)} for the states it changed."""
    changed: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
    await store_golden(conn, pks)  # the golden record read by the compiled path, alike
    for start in range(0, len(pks), _CHUNK):
        chunk = pks[start : start + _CHUNK]
        heads = dict(
            (
                await conn.execute(
                    select(missions.c.pk, missions.c.match_state).where(
                        missions.c.pk.in_(chunk),
                        missions.c.canonical_pk.is_(None),
                        missions.c.status == MissionStatus.OPEN.value,
                    )
                )
            ).all()
        )
        if not heads:
            continue
        member_of = {pk: pk for pk in heads}
        for pk, head in await conn.execute(
            select(missions.c.pk, missions.c.canonical_pk).where(
                missions.c.canonical_pk.in_(list(heads)),
                missions.c.status == MissionStatus.OPEN.value,
            )
        ):
            member_of[pk] = head
        labels: dict[str, defaultdict[int, set[str]]] = {
            "causes": defaultdict(set),
            "skills": defaultdict(set),
        }
        for name, table, column in (
            ("causes", mission_causes, mission_causes.c.cause),
            ("skills", mission_skills, mission_skills.c.skill),
        ):
            for pk, value in await conn.execute(
                select(table.c.mission_pk, column).where(table.c.mission_pk.in_(list(member_of)))
            ):
                labels[name][member_of[pk]].add(value)
        updates: dict[int, dict[str, Any]] = {}
        for pk, stored in heads.items():
            causes = sorted(labels["causes"][pk])
            skills = sorted(labels["skills"][pk])
            if (
                list(stored.get("causes") or ()) == causes
                and list(stored.get("skills") or ()) == skills
            ):
                # The labels it holds already (a listing alone in its cluster, the most of
                # them): the state would read back the same, so nothing to compare or write.
                continue
            state = MatchState.from_json(stored).replace(causes=tuple(causes), skills=tuple(skills))
            after = state.to_json()
            if after != MatchState.from_json(stored).to_json():
                changed[pk] = (stored, after)
                updates[pk] = after
        await _store(conn, updates)
    return changed


async def _store(conn: AsyncConnection, states: dict[int, dict[str, Any]]) -> None:
    if states:
        await conn.execute(
            update(missions)
            .where(missions.c.pk == bindparam("b_pk"))
            .values(match_state=bindparam("b_state")),
            [{"b_pk": pk, "b_state": state} for pk, state in states.items()],
        )
