"""Cross-partner duplicates in the store: point a listing at the older one of the same mission,
and bring the next one up when the shown listing closes (the decision itself is in
hub.catalogue.dedup)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.catalogue.dedup import Comparable, same_mission, title_key
from hub.catalogue.model import MissionStatus, Prepared
from hub.catalogue.records import PartnerRecord
from hub.catalogue.text import fold
from hub.storage.tables import mission_locations, missions

__all__ = ["comparable", "link_duplicates", "promote_duplicates"]

_CHUNK = 500


def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def comparable(
    partner_pk: int,
    org_pk: int | None,
    title: str,
    remote: str,
    start_at: datetime | None,
    locations: Iterable[tuple[float | None, float | None, str | None, str | None]],
) -> Comparable:
    located = list(locations)
    return Comparable(
        partner_pk=partner_pk,
        organization_pk=org_pk,
        title=title_key(title),
        remote_only=remote == "FULL" and not located,
        points=tuple(
            (lat, lon) for lat, lon, _, _ in located if lat is not None and lon is not None
        ),
        places=frozenset(
            p for _, _, postal, city in located for p in (postal, fold(city) if city else None) if p
        ),
        start_at=start_at,
    )


async def link_duplicates(
    conn: AsyncConnection,
    partner: PartnerRecord,
    written: list[tuple[int, Prepared, int | None]],
    changed: frozenset[int] = frozenset(),
) -> None:
    """Point each written mission at the older listing of the same mission on another partner."""
    org_pks = {org for _, _, org in written if org is not None}
    candidates: dict[int, list[tuple[int, Comparable]]] = {}
    if org_pks:
        rows = (
            await conn.execute(
                select(
                    missions.c.pk,
                    missions.c.partner_pk,
                    missions.c.organization_pk,
                    missions.c.title,
                    missions.c.remote,
                    missions.c.start_at,
                ).where(
                    missions.c.organization_pk.in_(org_pks),
                    missions.c.partner_pk != partner.pk,
                    missions.c.status == MissionStatus.OPEN.value,
                    missions.c.canonical_pk.is_(None),
                )
            )
        ).all()
        places: dict[int, list[Any]] = {row.pk: [] for row in rows}
        for chunk in _chunks(list(places)):
            for loc in await conn.execute(
                select(
                    mission_locations.c.mission_pk,
                    mission_locations.c.latitude,
                    mission_locations.c.longitude,
                    mission_locations.c.postal_code,
                    mission_locations.c.city,
                ).where(mission_locations.c.mission_pk.in_(chunk))
            ):
                places[loc.mission_pk].append(tuple(loc)[1:])
        for row in rows:
            candidates.setdefault(row.organization_pk, []).append(
                (
                    row.pk,
                    comparable(
                        row.partner_pk,
                        row.organization_pk,
                        row.title,
                        row.remote,
                        row.start_at,
                        places[row.pk],
                    ),
                )
            )
    updates = []
    for pk, prepared, org in written:
        draft = prepared.draft
        mine = comparable(
            partner.pk,
            org,
            draft.title,
            draft.remote.value,
            draft.start_at,
            ((loc.latitude, loc.longitude, loc.postal_code, loc.city) for loc in draft.locations),
        )
        pool = candidates.get(org, []) if org is not None else []
        matches = [cpk for cpk, other in pool if cpk != pk and same_mission(mine, other)]
        canonical = min(matches) if matches else None
        if canonical is not None or pk in changed:  # new rows are already unlinked
            updates.append({"b_pk": pk, "b_canonical": canonical})
    if updates:
        await conn.execute(
            update(missions)
            .where(missions.c.pk == bindparam("b_pk"))
            .values(canonical_pk=bindparam("b_canonical")),
            updates,
        )


async def promote_duplicates(conn: AsyncConnection, closed_pks: list[int]) -> None:
    """When a listing closes, the oldest of its duplicates becomes the one shown."""
    rows = (
        await conn.execute(
            select(missions.c.pk, missions.c.canonical_pk)
            .where(missions.c.canonical_pk.in_(closed_pks))
            .order_by(missions.c.pk)
        )
    ).all()
    groups: dict[int, list[int]] = {}
    for pk, canonical in rows:
        groups.setdefault(canonical, []).append(pk)
    updates = [
        {"b_pk": pk, "b_canonical": None if pk == group[0] else group[0]}
        for group in groups.values()
        for pk in group
    ]
    if updates:
        await conn.execute(
            update(missions)
            .where(missions.c.pk == bindparam("b_pk"))
            .values(canonical_pk=bindparam("b_canonical")),
            updates,
        )
