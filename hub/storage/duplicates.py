"""Cross-partner duplicates in the store: point a listing at the older one of the same mission,
and bring the next one up when the shown listing closes (the decision itself is in
hub.catalogue.dedup; the candidates are read in hub.storage.duplicate_candidates)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.catalogue.dedup import same_mission
from hub.catalogue.model import MissionStatus, Prepared
from hub.catalogue.records import PartnerRecord
from hub.storage.duplicate_candidates import (
    UNRANKED,
    backfill_keys,
    candidates,
    chunks,
    clusters,
    comparable,
    others_listed,
    rank,
    store_keys,
    written_comparable,
)
from hub.storage.duplicate_keys import probe_keys
from hub.storage.tables import missions, partners

__all__ = ["backfill_keys", "comparable", "link_duplicates", "promote_duplicates", "rank"]


async def link_duplicates(
    conn: AsyncConnection,
    partner: PartnerRecord,
    written: list[tuple[int, Prepared, int | None]],
    changed: frozenset[int] = frozenset(),
) -> tuple[list[int], set[int]]:
    """Point each written mission at the listing shown for the same mission on another partner;
    returns the shown listings whose merged record may have changed (a listing joined or left
    their cluster, or changed in it), for the writer to tell their subscribers, and the written
    listings it linked to another (or whose link it cleared): a new listing not among them is
    alone in its cluster.

    A candidate already merged into another listing leads to that one (its root), so the
    third platform's copy joins the cluster the first two formed. The listing shown is the best
    by `rank` among the written one and the roots it matches (values both databases agree on);
    when it is the written one, the whole cluster is pointed at it.
    """
    keyed = {
        pk: written_comparable(partner, pk, prepared, org, full=False)
        for pk, prepared, org in written
    }
    # With no other partner's listing stored, nothing can match: no probe, no candidate, no
    # cluster of another partner to read (a first sync into an otherwise empty store).
    others = await others_listed(conn, partner)
    probes_of = {pk: probe_keys(c) if others else frozenset() for pk, c in keyed.items()}
    probes = set().union(*probes_of.values())
    pool, by_key = await candidates(conn, partner, probes) if probes else ([], {})
    candidate_of = {cpk: candidate for cpk, _, candidate, _ in pool}
    root_of = {cpk: root for cpk, root, _, _ in pool}
    rank_of = {cpk: r for cpk, _, _, r in pool}
    # The rest of the clusters met (and of those the written listings head): re-pointed with
    # them when their head changes.
    heads = set(root_of.values()) | {pk for pk in changed}
    for cpk, root, r in await clusters(conn, partner, heads, set(root_of)) if others else ():
        root_of[cpk] = root
        rank_of[cpk] = r
    roots_before = dict(root_of)
    await store_keys(conn, list(keyed.items()), set(changed))
    before: dict[int, int | None] = {}
    if changed:
        for chunk in chunks(sorted(changed)):
            before.update(
                {
                    pk: canonical
                    for pk, canonical in await conn.execute(
                        select(missions.c.pk, missions.c.canonical_pk).where(
                            missions.c.pk.in_(chunk)
                        )
                    )
                }
            )
    priority = (
        await conn.execute(select(partners.c.priority).where(partners.c.pk == partner.pk))
    ).scalar()
    touched: set[int] = set()
    canonical_of: dict[int, int | None] = {}
    for pk, prepared, org in written:
        rank_of[pk] = rank(priority, prepared.draft.posted_at, pk)
        # The clusters it matches, by their shown listing; a listing already shown behind this
        # one (its root is this one) competes on its own.
        near = {cpk for key in probes_of[pk] for cpk in by_key.get(key, ())} - {pk}
        mine = written_comparable(partner, pk, prepared, org) if near else keyed[pk]
        matched = {
            cpk if root_of[cpk] == pk else root_of[cpk]
            for cpk in near
            if candidate_of[cpk].same_organization(mine)
            and same_mission(mine, candidate_of[cpk].full())
        }
        if not matched:
            if pk in changed:  # new rows are already unlinked
                canonical_of[pk] = None
            continue
        cluster = {*matched, pk}
        best = min(cluster, key=lambda x: rank_of.get(x, (UNRANKED, 0.0, x)))
        canonical_of[pk] = None if best == pk else best
        for cpk in list(root_of):
            if root_of[cpk] in cluster or cpk in cluster:
                root_of[cpk] = best
                canonical_of[cpk] = None if cpk == best else best
        touched |= cluster - {pk}
    for pk, _, _ in written:
        old = before.get(pk)
        if old is not None:
            touched.add(roots_before.get(old, old))
    updates = [{"b_pk": pk, "b_canonical": c} for pk, c in sorted(canonical_of.items())]
    if updates:
        await conn.execute(
            update(missions)
            .where(missions.c.pk == bindparam("b_pk"))
            .values(canonical_pk=bindparam("b_canonical")),
            updates,
        )
    linked = {pk for pk, _, _ in written} & ({*canonical_of} | {*canonical_of.values()})
    return sorted(touched - {pk for pk, _, _ in written}), linked


async def promote_duplicates(conn: AsyncConnection, closed_pks: list[int]) -> list[int]:
    """When a listing closes, the best ranked of its open duplicates becomes the one shown;
    returns the listings now shown."""
    rows = (
        await conn.execute(
            select(
                missions.c.pk,
                missions.c.canonical_pk,
                missions.c.status,
                missions.c.posted_at,
                partners.c.priority,
            )
            .select_from(missions.join(partners, partners.c.pk == missions.c.partner_pk))
            .where(missions.c.canonical_pk.in_(closed_pks))
            .order_by(missions.c.pk)
        )
    ).all()
    groups: dict[int, list[Any]] = {}
    for row in rows:
        groups.setdefault(row.canonical_pk, []).append(row)
    updates = []
    heads = []
    for group in groups.values():
        open_rows = [r for r in group if r.status == MissionStatus.OPEN.value] or group
        head = min(open_rows, key=lambda r: rank(r.priority, r.posted_at, r.pk)).pk
        heads.append(head)
        updates += [{"b_pk": r.pk, "b_canonical": None if r.pk == head else head} for r in group]
    if updates:
        await conn.execute(
            update(missions)
            .where(missions.c.pk == bindparam("b_pk"))
            .values(canonical_pk=bindparam("b_canonical")),
            updates,
        )
    return heads
