"""The one place that writes missions: rows, children and change events in the caller's transaction.

Every function takes an open connection inside a transaction; the caller commits, then publishes
the returned event positions. A batch is thus all-or-nothing, events included.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import gc
import operator
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hub.catalogue.match_state import MatchState
from hub.catalogue.model import EventType, MissionDraft, MissionStatus, Prepared
from hub.catalogue.records import PartnerRecord
from hub.storage.bulk import JsonMemo, insert_rows, update_rows
from hub.storage.duplicates import link_duplicates, promote_duplicates
from hub.storage.events import Event, append_events
from hub.storage.match_states import merge_cluster_labels
from hub.storage.organizations import org_key, resolve_organizations
from hub.storage.tables import (
    mission_causes,
    mission_locations,
    mission_skills,
    missions,
    partners,
)

__all__ = [
    "WriteBatch",
    "WriteOutcome",
    "WriteResult",
    "close_missions",
    "ensure_partner",
    "mission_id",
    "upsert_missions",
]

_ID_NAMESPACE = uuid.UUID("8f0b8a52-5b7e-4c55-9d0e-3a7c4d1e2f60")
_CHUNK = 500
# The draft's fields kept elsewhere than in a `missions` column of the same name: every other
# field is written to its column as it is (an enum as its value), so a new field needs no code.
DRAFT_NOT_COLUMNS = frozenset(
    {
        "external_id",  # the key, written once at creation
        "locations",  # mission_locations
        "causes",  # mission_causes (mapped slugs); the raw labels go to `raw`
        "skills",  # mission_skills (mapped slugs); the raw labels go to `raw`
        "organization",  # organizations, through organization_pk
        "raw_causes",  # in `raw`
        "raw_skills",  # in `raw`
    }
)
_DRAFT_COLUMNS = tuple(
    f.name for f in dataclasses.fields(MissionDraft) if f.name not in DRAFT_NOT_COLUMNS
)
_draft_columns = operator.attrgetter(*_DRAFT_COLUMNS)


class WriteOutcome(enum.StrEnum):
    CREATED = "CREATED"
    UPDATED = "UPDATED"
    UNCHANGED = "UNCHANGED"
    CLOSED = "CLOSED"
    NOT_FOUND = "NOT_FOUND"
    DUPLICATE = "DUPLICATE"


@dataclass(frozen=True, slots=True)
class WriteResult:
    external_id: str
    outcome: WriteOutcome
    mission_id: str | None = None


@dataclass(slots=True)
class WriteBatch:
    results: list[WriteResult] = field(default_factory=list)
    event_seqs: list[int] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)  # created EXPIRED (upsert_missions)


def mission_id(partner_name: str, external_id: str) -> str:
    """A global id that is the same wherever and whenever the mission is imported."""
    return "mis_" + uuid.uuid5(_ID_NAMESPACE, f"{partner_name}\x1f{external_id}").hex


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


async def ensure_partner(
    conn: AsyncConnection,
    name: str,
    now: datetime,
    *,
    display_name: str | None = None,
    connector: str | None = None,
    url: str | None = None,
    push_only: bool = False,
    config: dict[str, Any] | None = None,
) -> PartnerRecord:
    """The partner named `name`, created on first use."""
    found = (await conn.execute(select(partners).where(partners.c.name == name))).mappings().first()
    row: Mapping[Any, Any]
    if found is not None:
        row = found
    else:
        values = {
            "id": "ptn_" + name,
            "name": name,
            "display_name": display_name or name,
            "connector": connector,
            "url": url,
            "push_only": push_only,
            "enabled": True,
            "config": config or {},
            "created_at": now,
        }
        pk = (await conn.execute(insert(partners).returning(partners.c.pk), values)).scalar_one()
        row = {**values, "pk": pk}
    return PartnerRecord.from_row(row)


def match_state(
    prepared: Prepared,
    partner: PartnerRecord,
    org_pk: int | None,
    status: MissionStatus,
    now: datetime,
) -> MatchState:
    """What a subscription filter reads of the mission as written; its labels sorted, as
    merge_cluster_labels keeps those of a merged mission (so that a listing alone in its
    cluster, the most of them, is not written twice)."""
    return MatchState.derive(
        prepared.draft, **_state_values(prepared, partner, org_pk, status, now)
    )


def match_state_json(
    prepared: Prepared,
    partner: PartnerRecord,
    org_pk: int | None,
    status: MissionStatus,
    now: datetime,
) -> dict[str, Any]:
    """`match_state(...).to_json()`, without the state object in between."""
    values = _state_values(prepared, partner, org_pk, status, now)
    return MatchState.derive_json(prepared.draft, **values)


def _state_values(
    prepared: Prepared,
    partner: PartnerRecord,
    org_pk: int | None,
    status: MissionStatus,
    now: datetime,
) -> dict[str, Any]:
    """What a match state takes besides the draft, as the writer gives it."""
    return {
        "partner": partner.name,
        "organization_pk": org_pk,
        "causes": sorted(prepared.causes),
        "skills": sorted(prepared.skills),
        "locations": prepared.draft.locations,
        "search_text": prepared.search_text,
        "status": status,
        "updated_at": now,
    }


def expired_state(state: dict[str, Any], now: datetime) -> dict[str, Any]:
    """`state` (a `MatchState.to_json`) as it reads EXPIRED at `now`: what
    `MatchState.from_json(state).replace(status=EXPIRED, updated_at=now).to_json()` gives,
    without the round trip (every other field reads back as it was written)."""
    return {**state, "status": MissionStatus.EXPIRED.value, "updated_at": now.isoformat()}


def _mission_values(
    prepared: Prepared, partner: PartnerRecord, org_pk: int | None, now: datetime
) -> dict[str, Any]:
    draft = prepared.draft
    values = {
        k: v.value if isinstance(v, enum.Enum) else v
        for k, v in zip(_DRAFT_COLUMNS, _draft_columns(draft), strict=True)
    }
    return {
        **values,
        "organization_pk": org_pk,
        "status": MissionStatus.OPEN.value,
        "updated_at": now,
        "closed_at": None,
        "sort_date": draft.posted_at or now,
        "search_text": prepared.search_text,
        "title_terms": prepared.title_terms,
        "raw": prepared.raw,
        "match_state": match_state_json(prepared, partner, org_pk, MissionStatus.OPEN, now),
        "content_hash": prepared.content_hash,
    }


async def _write_children(
    conn: AsyncConnection, rows: list[tuple[int, Prepared]], replace_existing: bool
) -> None:
    if not rows:
        return
    if replace_existing:
        pks = [pk for pk, _ in rows]
        for table in (mission_locations, mission_causes, mission_skills):
            for chunk in _chunks(pks):
                await conn.execute(delete(table).where(table.c.mission_pk.in_(chunk)))
    locations = [
        {
            "mission_pk": pk,
            "position": position,
            "street": loc.street,
            "postal_code": loc.postal_code,
            "city": loc.city,
            "department_code": loc.department_code,
            "region": loc.region,
            "country": loc.country,
            "latitude": loc.latitude,
            "longitude": loc.longitude,
            "geo_source": loc.geo_source.value,
        }
        for pk, prepared in rows
        for position, loc in enumerate(prepared.draft.locations)
    ]
    causes = [{"mission_pk": pk, "cause": c} for pk, prepared in rows for c in prepared.causes]
    skills = [{"mission_pk": pk, "skill": s} for pk, prepared in rows for s in prepared.skills]
    for table, values in (
        (mission_locations, locations),
        (mission_causes, causes),
        (mission_skills, skills),
    ):
        await insert_rows(conn, table, values)


async def upsert_missions(
    conn: AsyncConnection,
    partner: PartnerRecord,
    batch: Sequence[Prepared],
    now: datetime,
    expire: Set[str] = frozenset(),
) -> WriteBatch:
    """Create, update or leave unchanged each prepared mission; one result per item, in order.

    A new mission whose external id is in `expire` (it has ended already) is written EXPIRED at
    once, its PUBLISHED event with that state, when it merges with no other listing: what
    hub.storage.expiry.expire_created would make of it, without writing it twice. One linked
    while being written is opened as any other, for expire_created to expire and take out of
    its cluster; `expired` of the result lists the others."""
    with fewer_collections():
        return await _upsert_missions(conn, partner, batch, now, expire)


# A batch of 500 new missions allocates hundreds of thousands of objects and frees them when it
# is written, hardly any in a reference cycle: with the young generation collected every 700
# allocations (the default), the collector ran thousands of times a batch, and its older
# generations with it (15% of a first sync's process). While a batch is written it runs every
# 10,000 instead; the default comes back when the last batch being written is done.
_YOUNG = 10_000
_writing = 0
_saved: tuple[int, int, int] | None = None


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    global _writing, _saved
    if _writing == 0:
        threshold = gc.get_threshold()
        if 0 < threshold[0] < _YOUNG:  # 0: collection turned off, left as it is
            _saved = threshold
            gc.set_threshold(_YOUNG, threshold[1], threshold[2])
    _writing += 1
    try:
        yield
    finally:
        _writing -= 1
        if _writing == 0 and _saved is not None:
            gc.set_threshold(*_saved)
            _saved = None


async def _upsert_missions(
    conn: AsyncConnection,
    partner: PartnerRecord,
    batch: Sequence[Prepared],
    now: datetime,
    expire: Set[str],
) -> WriteBatch:
    out = WriteBatch()
    seen: set[str] = set()
    unique: list[Prepared] = []
    for prepared in batch:
        ext = prepared.draft.external_id
        if ext in seen:
            continue
        seen.add(ext)
        unique.append(prepared)
    existing: dict[str, Any] = {}
    for chunk in _chunks([p.draft.external_id for p in unique]):
        rows = await conn.execute(
            select(
                missions.c.pk,
                missions.c.id,
                missions.c.external_id,
                missions.c.content_hash,
                missions.c.status,
                missions.c.match_state,
                missions.c.canonical_pk,
            ).where(missions.c.partner_pk == partner.pk, missions.c.external_id.in_(chunk))
        )
        existing.update({row.external_id: row for row in rows})
    orgs = await resolve_organizations(
        conn, (p.draft.organization for p in unique if p.draft.organization), now, partner.pk
    )

    org_pks: dict[str, int | None] = {}  # by external id, unique in `unique`

    def org_pk(prepared: Prepared) -> int | None:
        ext = prepared.draft.external_id
        if ext not in org_pks:
            org = prepared.draft.organization
            org_pks[ext] = orgs[org_key(org)] if org is not None else None
        return org_pks[ext]

    outcome: dict[str, WriteResult] = {}
    created: list[Prepared] = []
    changed: list[tuple[Any, Prepared]] = []
    for prepared in unique:
        ext = prepared.draft.external_id
        row = existing.get(ext)
        if row is None:
            created.append(prepared)
        elif row.content_hash == prepared.content_hash and row.status == MissionStatus.OPEN:
            outcome[ext] = WriteResult(ext, WriteOutcome.UNCHANGED, row.id)
        else:
            changed.append((row, prepared))

    events: list[Event] = []
    json_memo: JsonMemo = {}  # a new mission's state, bound once for its row and its event
    written: list[tuple[int, Prepared]] = []
    new: list[tuple[int, Prepared]] = []  # created, in `written` too
    opened: dict[str, dict[str, Any]] = {}  # created EXPIRED: the state they would have open
    if created:
        values = []
        for prepared in created:
            v = _mission_values(prepared, partner, org_pk(prepared), now)
            v.update(
                id=mission_id(partner.name, prepared.draft.external_id),
                partner_pk=partner.pk,
                external_id=prepared.draft.external_id,
                created_at=now,
            )
            values.append(v)
            if prepared.draft.external_id in expire:
                opened[prepared.draft.external_id] = v["match_state"]
                v.update(
                    status=MissionStatus.EXPIRED.value,
                    closed_at=now,
                    match_state=expired_state(v["match_state"], now),
                )
        # One COPY (PostgreSQL) or executemany, then the keys by external id (RETURNING in
        # input order would make SQLite insert one row per statement).
        await insert_rows(conn, missions, values, json_memo=json_memo)
        keys: dict[str, int] = {}
        for chunk in _chunks([p.draft.external_id for p in created]):
            found = await conn.execute(
                select(missions.c.external_id, missions.c.pk).where(
                    missions.c.partner_pk == partner.pk, missions.c.external_id.in_(chunk)
                )
            )
            keys.update({row.external_id: row.pk for row in found})
        pks = [keys[p.draft.external_id] for p in created]
        new = list(zip(pks, created, strict=True))
        written += new
        await _write_children(conn, list(zip(pks, created, strict=True)), replace_existing=False)
        for pk, prepared, v in zip(pks, created, values, strict=True):
            ext = prepared.draft.external_id
            outcome[ext] = WriteResult(ext, WriteOutcome.CREATED, v["id"])
            events.append((pk, EventType.PUBLISHED, None, v["match_state"]))
    if changed:
        values = []
        for row, prepared in changed:
            v = _mission_values(prepared, partner, org_pk(prepared), now)
            v["b_pk"] = row.pk
            values.append(v)
        columns: dict[str, Any] = {k: bindparam(k) for k in values[0] if k != "b_pk"}
        await conn.execute(
            update(missions).where(missions.c.pk == bindparam("b_pk")).values(columns), values
        )
        written += [(row.pk, prepared) for row, prepared in changed]
        await _write_children(
            conn, [(row.pk, prepared) for row, prepared in changed], replace_existing=True
        )
        for (row, prepared), v in zip(changed, values, strict=True):
            ext = prepared.draft.external_id
            outcome[ext] = WriteResult(ext, WriteOutcome.UPDATED, row.id)
            kind = EventType.UPDATED if row.status == MissionStatus.OPEN else EventType.PUBLISHED
            events.append((row.pk, kind, row.match_state, v["match_state"]))
    linked = [(pk, prepared, org_pk(prepared)) for pk, prepared in written]
    merged, clustered = await link_duplicates(
        conn, partner, linked, frozenset(row.pk for row, _ in changed)
    )
    # A merged mission shows its golden record: a listing joining, leaving or changing in its
    # cluster changes what the shown listing's subscribers see, its labels included. A new
    # listing alone in its cluster (the most of them) holds its own labels already (sorted,
    # each once: map_labels) and has no golden record: nothing to read for it.
    alone = {pk for pk, _ in new} - clustered
    reopened = {pk: opened[p.draft.external_id] for pk, p in new if p.draft.external_id in opened}
    reopened = {pk: state for pk, state in reopened.items() if pk not in alone}
    if reopened:  # linked as it was written: open, as expire_created expects it
        events = [(pk, kind, before, reopened.get(pk, after)) for pk, kind, before, after in events]
        open_ = MissionStatus.OPEN.value
        await update_rows(
            conn,
            missions,
            "pk",
            [
                {"pk": pk, "status": open_, "closed_at": None, "match_state": state}
                for pk, state in reopened.items()
            ],
        )
    out.expired = [
        p.draft.external_id for pk, p in new if pk in alone and p.draft.external_id in opened
    ]
    relabelled = await merge_cluster_labels(
        conn, sorted({*merged, *(pk for pk, _ in written if pk not in alone)})
    )
    events = [
        (pk, kind, before, relabelled[pk][1] if pk in relabelled else after)
        for pk, kind, before, after in events
    ]
    for chunk in _chunks(merged):
        for pk, state in await conn.execute(
            select(missions.c.pk, missions.c.match_state).where(
                missions.c.pk.in_(chunk), missions.c.status == MissionStatus.OPEN.value
            )
        ):
            events.append((pk, EventType.UPDATED, relabelled.get(pk, (state, state))[0], state))
    out.event_seqs = await append_events(conn, events, now, json_memo=json_memo)
    reported: set[str] = set()
    for prepared in batch:
        ext = prepared.draft.external_id
        if ext in reported:
            out.results.append(WriteResult(ext, WriteOutcome.DUPLICATE, outcome[ext].mission_id))
        else:
            reported.add(ext)
            out.results.append(outcome[ext])
    return out


async def close_missions(
    conn: AsyncConnection,
    partner: PartnerRecord,
    external_ids: Sequence[str],
    now: datetime,
    status: MissionStatus = MissionStatus.CLOSED,
) -> WriteBatch:
    """Close (never delete) the partner's missions with these ids; unknown ids say NOT_FOUND."""
    out = WriteBatch()
    found: dict[str, Any] = {}
    for chunk in _chunks(list(dict.fromkeys(external_ids))):
        rows = await conn.execute(
            select(
                missions.c.pk,
                missions.c.id,
                missions.c.external_id,
                missions.c.status,
                missions.c.match_state,
                missions.c.canonical_pk,
            ).where(missions.c.partner_pk == partner.pk, missions.c.external_id.in_(chunk))
        )
        found.update({row.external_id: row for row in rows})
    to_close = [row for row in found.values() if row.status == MissionStatus.OPEN]
    states = {
        row.pk: MatchState.from_json(row.match_state)
        .replace(status=status.value, updated_at=now)
        .to_json()
        for row in to_close
    }
    if to_close:
        await update_rows(
            conn,
            missions,
            "pk",
            [
                {
                    "pk": row.pk,
                    "status": status.value,
                    "closed_at": now,
                    "updated_at": now,
                    "match_state": states[row.pk],
                }
                for row in to_close
            ],
        )
        closed: list[Event] = [
            (row.pk, EventType.CLOSED, row.match_state, states[row.pk]) for row in to_close
        ]
        closed += await leave_clusters(conn, {row.pk: row.canonical_pk for row in to_close})
        out.event_seqs = await append_events(conn, closed, now)
    for ext in external_ids:
        row = found.get(ext)
        if row is None:
            out.results.append(WriteResult(ext, WriteOutcome.NOT_FOUND))
        elif row.status == MissionStatus.OPEN:
            out.results.append(WriteResult(ext, WriteOutcome.CLOSED, row.id))
        else:
            out.results.append(WriteResult(ext, WriteOutcome.UNCHANGED, row.id))
    return out


async def leave_clusters(conn: AsyncConnection, closed: Mapping[int, int | None]) -> list[Event]:
    """After listings closed (pk -> the listing they were merged into, or None): a listing shown
    for a merged mission hands it to its best open duplicate, and the merged missions these
    listings leave show fewer labels. Returns the UPDATED events of the listings whose state
    changed, and of those now shown in place of a closed one (their subscribers hear of it)."""
    promoted = await promote_duplicates(conn, list(closed))
    left = {canonical for canonical in closed.values() if canonical is not None}
    relabelled = await merge_cluster_labels(conn, sorted(left | set(promoted) | set(closed)))
    events: list[Event] = [(pk, EventType.UPDATED, *pair) for pk, pair in relabelled.items()]
    unchanged = sorted(set(promoted) - set(relabelled))
    for chunk in _chunks(unchanged):
        for pk, state in await conn.execute(
            select(missions.c.pk, missions.c.match_state).where(
                missions.c.pk.in_(chunk), missions.c.status == MissionStatus.OPEN.value
            )
        ):
            events.append((pk, EventType.UPDATED, state, state))
    return events
