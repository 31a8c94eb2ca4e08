"""The golden record of each merged mission, kept with its shown listing for the compiled reads.

The generic read path (hub.storage.rows) builds a merged mission's golden record when it reads it
(hub.catalogue.golden). The compiled read path (hub.storage.compiled_search) answers a search in
one SQL statement, so it cannot run those rules: it reads them here, stored in
`missions.golden` as JSON by the same code, whenever a write touches the cluster (the writer
calls `store_golden` through merge_cluster_labels: a listing joining, leaving, changing or
closing). A listing that shows no merged mission has NULL.

The stored fields are those the rules take from another listing; causes and skills (the union)
are read from the cluster's rows by the statement itself, and every other field is the shown
listing's own. Values are in the API's form: datetimes as ISO 8601 text with their offset,
enums by name.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import bindparam, select, union, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.catalogue.model import MissionStatus
from hub.catalogue.records import LocationRecord, MissionRecord, OrganizationRecord
from hub.storage.rows import LOCATION_FIELDS, MISSION_COLUMNS, ORGANIZATION_FIELDS, RecordReader
from hub.storage.tables import missions

__all__ = ["GOLDEN_VERSION", "golden_json", "store_golden"]

# Bump when golden_json's shape or the rules of hub.catalogue.golden change: hub.storage.
# match_states.refresh then stores every merged mission's record again.
GOLDEN_VERSION = "1"

_CHUNK = 500


def _moment(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _organization(org: OrganizationRecord | None) -> dict[str, Any] | None:
    return None if org is None else {name: getattr(org, name) for name in ORGANIZATION_FIELDS}


def _location(loc: LocationRecord) -> dict[str, Any]:
    values = {name: getattr(loc, name) for name in LOCATION_FIELDS}
    values["geo_source"] = loc.geo_source.value
    return values


def golden_json(record: MissionRecord) -> str:
    """The fields of a golden record that may come from another listing, as stored."""
    commitment = record.commitment
    return orjson.dumps(
        {
            "title": record.title,
            "organization": _organization(record.organization),
            "locations": [_location(loc) for loc in record.locations],
            "description": record.description,
            "description_html": record.description_html,
            "posted_at": _moment(record.posted_at),
            "start_at": _moment(record.start_at),
            "remote": record.remote.value,
            "commitment": {
                "hours_per_week_min": commitment.hours_per_week_min,
                "hours_per_week_max": commitment.hours_per_week_max,
                "total_hours": commitment.total_hours,
                "kind": commitment.kind.value if commitment.kind is not None else None,
                "schedule_label": commitment.schedule_label,
            },
        }
    ).decode()


async def store_golden(conn: AsyncConnection, pks: Iterable[int]) -> None:
    """Store again the golden record of the clusters these listings head or belong to.

    Only heads that have an open listing beside them, or that had a golden record, are read:
    a write of listings that merge with nothing costs one query.
    """
    wanted = sorted(set(pks))
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        # Two index lookups (by key, by canonical_pk): an OR of both would scan the catalogue.
        open_ = missions.c.status == MissionStatus.OPEN.value
        heads = set(
            (
                await conn.execute(
                    union(
                        select(missions.c.canonical_pk).where(
                            missions.c.pk.in_(chunk), missions.c.canonical_pk.is_not(None), open_
                        ),
                        select(missions.c.canonical_pk).where(
                            missions.c.canonical_pk.in_(chunk), open_
                        ),
                    )
                )
            ).scalars()
        )
        heads |= set(
            (
                await conn.execute(
                    select(missions.c.pk).where(
                        missions.c.pk.in_(chunk), missions.c.golden.is_not(None)
                    )
                )
            ).scalars()
        )
        if heads:
            await _store(conn, sorted(heads))


async def _store(conn: AsyncConnection, heads: list[int]) -> None:
    rows = (
        (
            await conn.execute(
                select(*MISSION_COLUMNS, missions.c.golden).where(missions.c.pk.in_(heads))
            )
        )
        .mappings()
        .all()
    )
    reader = RecordReader(conn.engine)
    records = await reader._records(conn, rows)
    updates = []
    for row, record in zip(rows, records, strict=True):
        # As hub.storage.rows shows it: a listing heading open listings of other partners.
        shows_merged = row["canonical_pk"] is None and bool(record.also_published_on)
        value = golden_json(record) if shows_merged else None
        if value != row["golden"]:
            updates.append({"b_pk": row["pk"], "b_golden": value})
    if updates:
        await conn.execute(
            update(missions)
            .where(missions.c.pk == bindparam("b_pk"))
            .values(golden=bindparam("b_golden")),
            updates,
        )
