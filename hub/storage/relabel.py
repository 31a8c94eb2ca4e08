"""Stored missions mapped again from the raw labels they keep, after the operator changed a
label mapping: no fetch. Called only by the write service (`MissionWriter.relabel`), in its
transaction, like hub.storage.writer; it returns the event positions to publish after commit.

A mission whose causes or skills change gets its children (search and facets), its match state
and an UPDATED event, as any update does. Its content hash is left as the partner's data made it:
the next sync of that mission then writes it once more, with the same causes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.catalogue import taxonomy
from hub.catalogue.match_state import MatchState
from hub.catalogue.model import EngagementType, EventType
from hub.catalogue.taxonomy import LabelMap
from hub.storage.events import Event, append_events
from hub.storage.match_states import merge_cluster_labels
from hub.storage.tables import mission_causes, mission_skills, missions
from hub.storage.writer import WriteBatch, WriteOutcome, WriteResult

__all__ = ["relabel_missions"]

_CHUNK = 500


async def _children(
    conn: AsyncConnection, pks: list[int]
) -> tuple[dict[int, set[str]], dict[int, set[str]]]:
    causes: dict[int, set[str]] = {pk: set() for pk in pks}
    skills: dict[int, set[str]] = {pk: set() for pk in pks}
    for table, column, into in (
        (mission_causes, mission_causes.c.cause, causes),
        (mission_skills, mission_skills.c.skill, skills),
    ):
        for pk, value in await conn.execute(
            select(table.c.mission_pk, column).where(table.c.mission_pk.in_(pks))
        ):
            into[pk].add(value)
    return causes, skills


async def relabel_missions(
    conn: AsyncConnection,
    maps: Mapping[int, LabelMap],
    now: datetime,
) -> WriteBatch:
    """Map again the raw labels of every mission of the partners in `maps` (partner pk → the
    mappings its labels go through); write those whose causes or skills change."""
    out = WriteBatch()
    if not maps:
        return out
    last = 0
    while True:
        rows = (
            await conn.execute(
                select(
                    missions.c.pk,
                    missions.c.id,
                    missions.c.external_id,
                    missions.c.partner_pk,
                    missions.c.engagement_type,
                    missions.c.raw,
                    missions.c.match_state,
                    missions.c.canonical_pk,
                )
                .where(missions.c.partner_pk.in_(list(maps)), missions.c.pk > last)
                .order_by(missions.c.pk)
                .limit(_CHUNK)
            )
        ).all()
        if not rows:
            break
        last = rows[-1].pk
        await _relabel_chunk(conn, rows, maps, now, out)
    return out


async def _relabel_chunk(
    conn: AsyncConnection,
    rows: Sequence[Any],
    maps: Mapping[int, LabelMap],
    now: datetime,
    out: WriteBatch,
) -> None:
    causes_now, skills_now = await _children(conn, [row.pk for row in rows])
    changed: list[dict[str, Any]] = []
    events: list[Event] = []
    for row in rows:
        raw = dict(row.raw or {})
        labels = maps[row.partner_pk]
        causes, left_causes = taxonomy.map_labels(raw.get("causes", ()), labels.cause)
        skills, left_skills = taxonomy.map_labels(raw.get("skills", ()), labels.skill)
        if set(causes) == causes_now[row.pk] and set(skills) == skills_now[row.pk]:
            continue
        engagement_type = row.engagement_type
        # As hub.ingest.pipeline.prepare decides it for a fresh record.
        if (
            engagement_type == EngagementType.VOLUNTEERING.value
            and "benevolat-competences" in causes
        ):
            engagement_type = EngagementType.SKILLS_VOLUNTEERING.value
        raw.update(unmapped_causes=left_causes, unmapped_skills=left_skills)
        state = (
            MatchState.from_json(row.match_state or {})
            .replace(
                causes=tuple(causes),
                skills=tuple(skills),
                engagement_type=engagement_type,
                updated_at=now,
            )
            .to_json()
        )
        changed.append(
            {
                "b_pk": row.pk,
                "b_raw": raw,
                "b_state": state,
                "b_type": engagement_type,
                "b_now": now,
                "causes": causes,
                "skills": skills,
            }
        )
        events.append((row.pk, EventType.UPDATED, row.match_state, state))
        out.results.append(WriteResult(row.external_id, WriteOutcome.UPDATED, row.id))
    if not changed:
        return
    pks = [item["b_pk"] for item in changed]
    await conn.execute(
        update(missions)
        .where(missions.c.pk == bindparam("b_pk"))
        .values(
            raw=bindparam("b_raw"),
            match_state=bindparam("b_state"),
            engagement_type=bindparam("b_type"),
            updated_at=bindparam("b_now"),
        ),
        [{k: v for k, v in item.items() if k.startswith("b_")} for item in changed],
    )
    for table in (mission_causes, mission_skills):
        await conn.execute(delete(table).where(table.c.mission_pk.in_(pks)))
    causes_rows = [{"mission_pk": i["b_pk"], "cause": c} for i in changed for c in i["causes"]]
    skills_rows = [{"mission_pk": i["b_pk"], "skill": s} for i in changed for s in i["skills"]]
    if causes_rows:
        await conn.execute(insert(mission_causes), causes_rows)
    if skills_rows:
        await conn.execute(insert(mission_skills), skills_rows)
    # A listing shown for a merged mission shows, and is found by, its open listings' labels:
    # those of the merged missions these listings belong to or head are gathered again.
    written = set(pks)
    heads = {row.canonical_pk for row in rows if row.pk in written and row.canonical_pk}
    relabelled = await merge_cluster_labels(conn, sorted(written | heads))
    events = [
        (pk, kind, before, relabelled[pk][1] if pk in relabelled else after)
        for pk, kind, before, after in events
    ]
    events += [
        (pk, EventType.UPDATED, *pair) for pk, pair in relabelled.items() if pk not in written
    ]
    out.event_seqs += await append_events(conn, events, now)
