"""Stored match states, recomputed from the missions when `MatchState` gains or loses a field.

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
from hub.storage.tables import (
    hub_state,
    mission_causes,
    mission_locations,
    mission_skills,
    missions,
    partners,
)

__all__ = ["refresh"]

_KEY = "match_state_fingerprint"
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
    """Derive every mission's stored state again if `MatchState` changed; returns how many."""
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
        await conn.execute(
            update(missions)
            .where(missions.c.pk == bindparam("b_pk"))
            .values(match_state=bindparam("b_state")),
            [{"b_pk": pk, "b_state": state.to_json()} for pk, state in states.items()],
        )
        done += len(rows)
        last = rows[-1]["pk"]
    if stored is None:
        await conn.execute(insert(hub_state).values(key=_KEY, value=FINGERPRINT))
    else:
        await conn.execute(
            update(hub_state).where(hub_state.c.key == _KEY).values(value=FINGERPRINT)
        )
    return done
