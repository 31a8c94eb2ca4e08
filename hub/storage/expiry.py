"""Missions past their end date, in the writer's transaction (the decision to expire them, and
the events subscribers hear, are hub.ingest.service's)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.catalogue.match_state import MatchState
from hub.catalogue.model import MissionStatus
from hub.storage.bulk import update_rows
from hub.storage.events import append_events
from hub.storage.tables import mission_events, missions, partners
from hub.storage.writer import leave_clusters

__all__ = ["ended_open_missions", "expire_created", "stored_statuses"]

_CHUNK = 500


async def ended_open_missions(conn: AsyncConnection, now: datetime) -> dict[str, list[str]]:
    """Open missions whose end date is before `now`: external ids by partner name."""
    rows = await conn.execute(
        select(partners.c.name, missions.c.external_id)
        .join(partners, partners.c.pk == missions.c.partner_pk)
        .where(
            missions.c.status == MissionStatus.OPEN.value,
            missions.c.end_at.is_not(None),
            missions.c.end_at < now,
        )
        .order_by(missions.c.pk)
    )
    out: dict[str, list[str]] = {}
    for name, external_id in rows:
        out.setdefault(name, []).append(external_id)
    return out


async def stored_statuses(
    conn: AsyncConnection, partner_pk: int, external_ids: Sequence[str]
) -> dict[str, MissionStatus]:
    """The stored status of those of the partner's missions that exist."""
    out: dict[str, MissionStatus] = {}
    unique = list(dict.fromkeys(external_ids))
    for start in range(0, len(unique), _CHUNK):
        rows = await conn.execute(
            select(missions.c.external_id, missions.c.status).where(
                missions.c.partner_pk == partner_pk,
                missions.c.external_id.in_(unique[start : start + _CHUNK]),
            )
        )
        out.update({ext: MissionStatus(status) for ext, status in rows})
    return out


async def expire_created(
    conn: AsyncConnection,
    partner_pk: int,
    external_ids: Sequence[str],
    event_seqs: list[int],
    now: datetime,
) -> int:
    """Missions created in this transaction already past their end: EXPIRED from the start.

    Their creation event (among `event_seqs`, not yet committed) is given the EXPIRED state, so
    a subscriber judges the creation as it is: it never enters a filter of open missions, where
    a creation then a close would have shown it for an instant. Linked as a duplicate while it
    was being written, it then leaves its cluster as a closed listing does (the listing it
    headed is shown again, the one it joined no longer shows its labels); the events of
    those changes are appended to `event_seqs`.
    """
    if not external_ids:
        return 0
    rows = (
        await conn.execute(
            select(missions.c.pk, missions.c.match_state, missions.c.canonical_pk).where(
                missions.c.partner_pk == partner_pk,
                missions.c.external_id.in_(list(dict.fromkeys(external_ids))),
                missions.c.status == MissionStatus.OPEN.value,
            )
        )
    ).all()
    if not rows:
        return 0
    states = {
        pk: MatchState.from_json(state)
        .replace(status=MissionStatus.EXPIRED.value, updated_at=now)
        .to_json()
        for pk, state, _ in rows
    }
    expired = MissionStatus.EXPIRED.value
    await update_rows(
        conn,
        missions,
        "pk",
        [
            {"pk": pk, "status": expired, "closed_at": now, "match_state": state}
            for pk, state in states.items()
        ],
    )
    created: list[tuple[int, int]] = []
    seqs = list(event_seqs)
    for start in range(0, len(seqs), _CHUNK):
        found = await conn.execute(
            select(mission_events.c.seq, mission_events.c.mission_pk).where(
                mission_events.c.seq.in_(seqs[start : start + _CHUNK]),
                mission_events.c.mission_pk.in_(list(states)),
            )
        )
        created += [(seq, pk) for seq, pk in found]
    await update_rows(
        conn, mission_events, "seq", [{"seq": seq, "state": states[pk]} for seq, pk in created]
    )
    left = await leave_clusters(conn, {pk: canonical for pk, _, canonical in rows})
    if left:
        event_seqs += await append_events(conn, left, now)
    return len(states)
