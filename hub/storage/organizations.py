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


def org_key(org: OrganizationDraft) -> tuple[str | None, str | None, str | None, str]:
    return (org.rna, org.siren, org.siret, org_name_key(org.name))


async def resolve_organizations(
    conn: AsyncConnection,
    drafts: Iterable[OrganizationDraft],
    now: datetime,
    partner_pk: int | None = None,
) -> dict[tuple[str | None, str | None, str | None, str], int]:
    """The record of each organization: by RNA, SIRET or SIREN across partners, else by name
    among `partner_pk`'s own."""
    resolved: dict[tuple[str | None, str | None, str | None, str], int] = {}
    for org in drafts:
        key = org_key(org)
        if key in resolved:
            continue
        clauses = []
        if org.rna:
            clauses.append(organizations.c.rna == org.rna)
        if org.siret:
            clauses.append(organizations.c.siret == org.siret)
        siren = org.siren or (org.siret[:9] if org.siret else None)
        if siren:  # a SIRET names an establishment of the legal unit its SIREN names
            clauses.append(organizations.c.siren == siren)
        found = None
        for clause in clauses:
            found = (
                (
                    await conn.execute(
                        select(organizations).where(clause).order_by(organizations.c.pk).limit(1)
                    )
                )
                .mappings()
                .first()
            )
            if found is not None:
                break
        if found is None and not clauses:
            found = (
                (
                    await conn.execute(
                        select(organizations)
                        .where(
                            organizations.c.name_key == key[3],
                            organizations.c.partner_pk == partner_pk,
                        )
                        .order_by(organizations.c.pk)
                        .limit(1)
                    )
                )
                .mappings()
                .first()
            )
        if found is None:
            values = {
                "id": "org_" + uuid.uuid4().hex,
                "name": org.name,
                "rna": org.rna,
                "siren": org.siren or (org.siret[:9] if org.siret else None),
                "siret": org.siret,
                "url": org.url,
                "logo": org.logo,
                "name_key": key[3],
                "partner_pk": partner_pk,
                "created_at": now,
                "updated_at": now,
            }
            pk = (
                await conn.execute(insert(organizations).returning(organizations.c.pk), values)
            ).scalar_one()
        else:
            pk = found["pk"]
            mine = partner_pk is not None and found["partner_pk"] == partner_pk
            missing = {
                column: getattr(org, column)
                for column in ("rna", "siren", "siret", "url", "logo")
                if found[column] is None and getattr(org, column)
            }
            if missing and mine:  # another partner's write never changes it
                await conn.execute(
                    update(organizations)
                    .where(organizations.c.pk == pk)
                    .values(**missing, updated_at=now)
                )
        resolved[key] = pk
    return resolved
