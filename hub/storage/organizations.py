"""One organization across partners when identifiers say so; a name alone stays within a partner.

Trust between partners: a record is created by one partner's write (`partner_pk`) and only that
partner's writes change it (fill an empty url, logo or identifier). Another partner's mission
links to it when an RNA, SIRET or SIREN is equal (one legal entity, one record: a company's
policy excluding it excludes it everywhere), and changes nothing of it. A name alone links a
mission to an organization of its own partner only, else to a new record of its own: another
partner pushing "Association X" with its url and logo cannot change how this partner's missions
of "Association X" appear. Across partners, names link missions for display only, through
deduplication (hub.catalogue.dedup) and the golden record.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.catalogue.model import OrganizationDraft
from hub.catalogue.text import fold, tokens
from hub.storage.tables import organizations

__all__ = ["org_key", "org_name_key", "resolve_organizations"]


# Words that vary between two spellings of one organization's name.
_ORG_NOISE = {"le", "la", "les", "l", "association", "asso", "assoc", "d", "de", "du", "des"}


def org_name_key(name: str) -> str:
    """ "Les Restos du Cœur" and "Restos du coeur" give one key."""
    return " ".join(t for t in tokens(name) if t not in _ORG_NOISE) or fold(name).strip()


def org_key(org: OrganizationDraft) -> Key:
    return (org.rna, org.siren, org.siret, org_name_key(org.name))


Key = tuple[str | None, str | None, str | None, str]
_CHUNK = 500
_NEW = 1 << 62  # records created by this batch rank after every stored one, in creation order


async def _stored(
    conn: AsyncConnection, orgs: list[OrganizationDraft], partner_pk: int | None
) -> list[dict[str, Any]]:
    """Every stored record one of `orgs` may resolve to: same RNA, SIRET or SIREN, or (for one
    without identifiers) same name among the partner's own; one statement per kind and 500."""
    wanted: dict[str, set[str]] = {"rna": set(), "siret": set(), "siren": set()}
    names: set[str] = set()
    for org in orgs:
        if org.rna:
            wanted["rna"].add(org.rna)
        if org.siret:
            wanted["siret"].add(org.siret)
        siren = org.siren or (org.siret[:9] if org.siret else None)
        if siren:
            wanted["siren"].add(siren)
        if not (org.rna or org.siret or siren):
            names.add(org_name_key(org.name))
    found: dict[int, dict[str, Any]] = {}
    for column, values in wanted.items():
        for chunk in _chunks(sorted(values)):
            rows = await conn.execute(
                select(organizations).where(organizations.c[column].in_(chunk))
            )
            found.update((row["pk"], dict(row)) for row in rows.mappings())
    for chunk in _chunks(sorted(names)):
        rows = await conn.execute(
            select(organizations).where(
                organizations.c.name_key.in_(chunk), organizations.c.partner_pk == partner_pk
            )
        )
        found.update((row["pk"], dict(row)) for row in rows.mappings())
    return [found[pk] for pk in sorted(found)]


def _chunks(values: list[str]) -> list[list[str]]:
    return [values[i : i + _CHUNK] for i in range(0, len(values), _CHUNK)]


class _Index:
    """The records by identifier and by (name key, partner), the lowest pk first, as the
    one-by-one lookups (`ORDER BY pk LIMIT 1`) found them."""

    def __init__(self) -> None:
        self.by: dict[tuple[str, Any], dict[str, Any]] = {}

    def add(self, row: dict[str, Any]) -> None:
        for column in ("rna", "siret", "siren"):
            if row[column]:
                self._put((column, row[column]), row)
        self._put(("name", (row["name_key"], row["partner_pk"])), row)

    def _put(self, key: tuple[str, Any], row: dict[str, Any]) -> None:
        held = self.by.get(key)
        if held is None or row["pk"] < held["pk"]:
            self.by[key] = row

    def get(self, column: str, value: Any) -> dict[str, Any] | None:
        return self.by.get((column, value))


async def resolve_organizations(
    conn: AsyncConnection,
    drafts: Iterable[OrganizationDraft],
    now: datetime,
    partner_pk: int | None = None,
) -> dict[Key, int]:
    """The record of each organization: by RNA, SIRET or SIREN across partners, else by name
    among `partner_pk`'s own.

    A batch's organizations are read in a few statements, decided in order as if one by one
    (a record created or completed for one is found by the next), then the new records are
    inserted in one statement and the completed ones updated."""
    unique: dict[Key, OrganizationDraft] = {}
    for org in drafts:
        unique.setdefault(org_key(org), org)
    if not unique:
        return {}
    index = _Index()
    for row in await _stored(conn, list(unique.values()), partner_pk):
        index.add(row)
    resolved: dict[Key, dict[str, Any]] = {}
    created: list[dict[str, Any]] = []
    filled: dict[int, dict[str, Any]] = {}
    for key, org in unique.items():
        siren = org.siren or (org.siret[:9] if org.siret else None)
        clauses = [
            (c, v) for c, v in (("rna", org.rna), ("siret", org.siret), ("siren", siren)) if v
        ]
        found: dict[str, Any] | None = next(
            (hit for c, v in clauses if (hit := index.get(c, v)) is not None), None
        )
        if found is None and not clauses:
            found = index.get("name", (key[3], partner_pk))
        if found is None:
            found = {
                "pk": _NEW + len(created),
                "id": "org_" + uuid.uuid4().hex,
                "name": org.name,
                "rna": org.rna,
                "siren": siren,
                "siret": org.siret,
                "url": org.url,
                "logo": org.logo,
                "name_key": key[3],
                "partner_pk": partner_pk,
                "created_at": now,
                "updated_at": now,
            }
            created.append(found)
        else:
            mine = partner_pk is not None and found["partner_pk"] == partner_pk
            missing = {
                column: getattr(org, column)
                for column in ("rna", "siren", "siret", "url", "logo")
                if found[column] is None and getattr(org, column)
            }
            if missing and mine:  # another partner's write never changes it
                found.update(missing, updated_at=now)
                if found["pk"] < _NEW:
                    filled.setdefault(found["pk"], {}).update(missing, updated_at=now)
        index.add(found)
        resolved[key] = found
    if created:
        await conn.execute(insert(organizations), [_without_pk(row) for row in created])
        pks: dict[str, int] = {}
        for chunk in _chunks([row["id"] for row in created]):
            rows = await conn.execute(
                select(organizations.c.id, organizations.c.pk).where(organizations.c.id.in_(chunk))
            )
            pks.update((row.id, row.pk) for row in rows)
        for row in created:
            row["pk"] = pks[row["id"]]
    for pk, values in filled.items():
        await conn.execute(update(organizations).where(organizations.c.pk == pk).values(**values))
    return {key: row["pk"] for key, row in resolved.items()}


def _without_pk(row: dict[str, Any]) -> dict[str, Any]:
    return {column: value for column, value in row.items() if column != "pk"}
