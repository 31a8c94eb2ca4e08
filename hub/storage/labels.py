"""The operator's label mappings (per partner, or global synonyms) and the labels still unmapped.

`label_map` reads what the pipeline needs for one partner; `set_mapping` / `delete_mapping` are
what `entraide-hub taxonomy map` and `unmap` write. Unmapped labels are counted by the write
service in `unmapped_labels` (hub.storage.refusals); `unmapped` lists those that no mapping
covers now, and `forget_unmapped` drops the ones a new mapping covers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.catalogue.taxonomy import LabelMap, label_key
from hub.storage.tables import label_mappings, partners, unmapped_labels

__all__ = [
    "LabelMapping",
    "UnmappedLabel",
    "delete_mapping",
    "forget_unmapped",
    "label_map",
    "label_maps",
    "mappings",
    "partner_pks",
    "set_mapping",
    "unmapped",
]


@dataclass(frozen=True, slots=True)
class LabelMapping:
    """One operator mapping; `partner` None is a global synonym."""

    partner: str | None
    kind: str
    label: str
    target: str


@dataclass(frozen=True, slots=True)
class UnmappedLabel:
    partner: str
    kind: str
    label: str
    count: int
    last_seen_at: datetime


def _scope(partner_pk: int | None) -> ColumnElement[bool]:
    column = label_mappings.c.partner_pk
    return column.is_(None) if partner_pk is None else column == partner_pk


async def label_map(conn: AsyncConnection, partner_pk: int) -> LabelMap:
    """The mappings one partner's labels go through: its own, then the global ones."""
    rows = await conn.execute(
        select(
            label_mappings.c.partner_pk,
            label_mappings.c.kind,
            label_mappings.c.label_key,
            label_mappings.c.target,
        ).where((label_mappings.c.partner_pk == partner_pk) | label_mappings.c.partner_pk.is_(None))
    )
    own: dict[tuple[str, str], str] = {}
    shared: dict[tuple[str, str], str] = {}
    for pk, kind, key, target in rows:
        (shared if pk is None else own)[(kind, key)] = target
    return LabelMap(own=own, shared=shared)


async def label_maps(conn: AsyncConnection, partner_pks: set[int]) -> dict[int, LabelMap]:
    """`label_map` for several partners in one read."""
    rows = (
        await conn.execute(
            select(
                label_mappings.c.partner_pk,
                label_mappings.c.kind,
                label_mappings.c.label_key,
                label_mappings.c.target,
            )
        )
    ).all()
    shared = {(kind, key): target for pk, kind, key, target in rows if pk is None}
    return {
        partner_pk: LabelMap(
            own={(kind, key): target for pk, kind, key, target in rows if pk == partner_pk},
            shared=shared,
        )
        for partner_pk in partner_pks
    }


async def partner_pks(conn: AsyncConnection, name: str | None = None) -> set[int]:
    """The pk of the partner named `name` (none if unknown), or of every partner."""
    stmt = select(partners.c.pk)
    if name is not None:
        stmt = stmt.where(partners.c.name == name)
    return {pk for (pk,) in await conn.execute(stmt)}


async def set_mapping(
    conn: AsyncConnection,
    partner_pk: int | None,
    kind: str,
    label: str,
    target: str,
    now: datetime,
) -> bool:
    """Map `label` to `target` for the partner (None: for all); True if anything changed."""
    key = label_key(label)
    where = (_scope(partner_pk), label_mappings.c.kind == kind, label_mappings.c.label_key == key)
    found = (
        await conn.execute(select(label_mappings.c.pk, label_mappings.c.target).where(*where))
    ).first()
    if found is None:
        await conn.execute(
            insert(label_mappings).values(
                partner_pk=partner_pk,
                kind=kind,
                label=label[:200],
                label_key=key[:200],
                target=target,
                created_at=now,
            )
        )
        return True
    if found.target == target:
        return False
    await conn.execute(
        update(label_mappings).where(label_mappings.c.pk == found.pk).values(target=target)
    )
    return True


async def delete_mapping(
    conn: AsyncConnection, partner_pk: int | None, kind: str, label: str
) -> bool:
    """Remove one mapping; True if there was one."""
    result = await conn.execute(
        delete(label_mappings).where(
            _scope(partner_pk),
            label_mappings.c.kind == kind,
            label_mappings.c.label_key == label_key(label),
        )
    )
    return bool(result.rowcount)


async def mappings(conn: AsyncConnection, partner_pk: int | None = None) -> list[LabelMapping]:
    """Every mapping (or one partner's own), globals first, then by partner, kind and label."""
    table = label_mappings.outerjoin(partners, partners.c.pk == label_mappings.c.partner_pk)
    stmt = select(
        partners.c.name, label_mappings.c.kind, label_mappings.c.label, label_mappings.c.target
    )
    if partner_pk is not None:
        stmt = stmt.where(label_mappings.c.partner_pk == partner_pk)
    rows = await conn.execute(stmt.select_from(table))
    found = [LabelMapping(name, kind, label, target) for name, kind, label, target in rows]
    return sorted(found, key=lambda m: (m.partner is not None, m.partner or "", m.kind, m.label))


async def unmapped(
    conn: AsyncConnection,
    resolve: Callable[[int, str, str], str | None],
    partner_pk: int | None = None,
) -> list[UnmappedLabel]:
    """Counted unmapped labels that `resolve(partner_pk, kind, label)` still leaves unmapped,
    most frequent first."""
    stmt = select(
        unmapped_labels.c.partner_pk,
        partners.c.name,
        unmapped_labels.c.kind,
        unmapped_labels.c.label,
        unmapped_labels.c.count,
        unmapped_labels.c.last_seen_at,
    ).select_from(unmapped_labels.join(partners, partners.c.pk == unmapped_labels.c.partner_pk))
    if partner_pk is not None:
        stmt = stmt.where(unmapped_labels.c.partner_pk == partner_pk)
    rows = await conn.execute(stmt)
    found = [
        UnmappedLabel(name, kind, label, count, seen)
        for pk, name, kind, label, count, seen in rows
        if resolve(pk, kind, label) is None
    ]
    return sorted(found, key=lambda u: (-u.count, u.partner, u.kind, u.label))


async def forget_unmapped(
    conn: AsyncConnection, partner_pk: int | None, kind: str, label: str
) -> int:
    """Drop the counts of `label` (any spelling with its key) for the partner, or for every
    partner; returns how many rows went."""
    key = label_key(label)
    stmt = select(unmapped_labels.c.partner_pk, unmapped_labels.c.label).where(
        unmapped_labels.c.kind == kind
    )
    if partner_pk is not None:
        stmt = stmt.where(unmapped_labels.c.partner_pk == partner_pk)
    gone = [(pk, text) for pk, text in await conn.execute(stmt) if label_key(text) == key]
    for pk, text in gone:
        await conn.execute(
            delete(unmapped_labels).where(
                unmapped_labels.c.partner_pk == pk,
                unmapped_labels.c.kind == kind,
                unmapped_labels.c.label == text,
            )
        )
    return len(gone)
