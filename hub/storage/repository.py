"""Reads: search pages, counts, facets, lookups by id. Policy is applied here, for every reader."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    delete,
    distinct,
    func,
    insert,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hub.catalogue import taxonomy
from hub.catalogue.filters import MissionFilter, MissionOrder, Policy
from hub.catalogue.model import CommitmentKind, EngagementType, GeoSource, MissionStatus, Remote
from hub.catalogue.records import (
    Commitment,
    LocationRecord,
    MissionRecord,
    OrganizationRecord,
    Page,
    PartnerRecord,
    Places,
    SkillRecord,
)
from hub.clock import Clock, SystemClock
from hub.errors import FilterError, UserInputError
from hub.storage import search
from hub.storage.organizations import org_name_key
from hub.storage.tables import (
    hub_state,
    mission_causes,
    mission_events,
    mission_locations,
    mission_skills,
    missions,
    organizations,
    partners,
    refused_records,
    sync_runs,
)

__all__ = [
    "CursorExpired",
    "EventRow",
    "FacetCount",
    "Facets",
    "MissionRepository",
    "SearchQuery",
]


class CursorExpired(UserInputError):
    """The log no longer holds what follows this cursor: the client must resynchronise."""


@dataclass(frozen=True, slots=True)
class EventRow:
    """One change of the event log, with the mission as it is now."""

    seq: int
    type: str
    occurred_at: datetime
    previous: dict[str, Any] | None
    state: dict[str, Any] | None
    mission: MissionRecord


_MISSION_COLUMNS = [
    c
    for c in missions.c
    if c.name not in {"search_text", "title_terms", "match_state", "missed_syncs"}
]


@dataclass(frozen=True, slots=True)
class FacetCount:
    value: str
    count: int


@dataclass(slots=True)
class Facets:
    causes: list[FacetCount]
    skills: list[FacetCount]
    remote: list[FacetCount]
    departments: list[FacetCount]
    partners: list[FacetCount]


@dataclass(slots=True)
class SearchQuery:
    """A compiled search: the page is read at once, counts and facets only when asked for."""

    repository: MissionRepository
    conditions: dict[str, ColumnElement[bool]]

    async def total_count(self) -> int:
        return await self.repository.count(self.conditions)

    async def facets(self) -> Facets:
        return await self.repository.facets(self.conditions)


def _where(conditions: dict[str, ColumnElement[bool]], *, without: str | None = None) -> Any:
    parts = [clause for name, clause in conditions.items() if name != without]
    return and_(true(), *parts)


class MissionRepository:
    """Reads over one engine; each call takes its own connection from the pool."""

    def __init__(self, engine: AsyncEngine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()
        self.dialect = engine.dialect.name
        self._partners: dict[int, PartnerRecord] | None = None
        self._partners_at = 0.0

    # --- search -----------------------------------------------------------------------------

    async def search(
        self,
        flt: MissionFilter,
        order: MissionOrder,
        first: int,
        after: str | None,
        policy: Policy | None = None,
        now: datetime | None = None,
    ) -> tuple[Page, SearchQuery]:
        now = now or self.clock.now()
        position: list[Any] | None = None
        if after is not None:
            values, pinned = search.decode_cursor(after, order)
            now = pinned or now
            compiled = search.compile_order(self.dialect, order, flt, now)
            position = search.typed_values(compiled, values)
        else:
            compiled = search.compile_order(self.dialect, order, flt, now)
        conditions = search.compile_filter(self.dialect, flt, policy)
        keys = [key.label(f"k{i}") for i, (key, _) in enumerate(compiled.keys)]
        stmt = select(*_MISSION_COLUMNS, *keys).where(_where(conditions))
        if position is not None:
            stmt = stmt.where(compiled.after(position))
        stmt = stmt.order_by(*compiled.order_by()).limit(first + 1)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
            has_next = len(rows) > first
            rows = rows[:first]
            items = await self._records(conn, rows)
        cursors = []
        for row, item in zip(rows, items, strict=True):
            key_values = [row[f"k{i}"] for i in range(len(keys))]
            cursors.append(search.encode_cursor(compiled, key_values))
            if order is MissionOrder.NEAREST and key_values[0] < search._FAR:
                item.distance_km = float(key_values[0])
        page = Page(items, cursors, has_next_page=has_next, has_previous_page=after is not None)
        return page, SearchQuery(self, conditions)

    async def count(self, conditions: dict[str, ColumnElement[bool]]) -> int:
        stmt = select(func.count()).select_from(missions).where(_where(conditions))
        async with self.engine.connect() as conn:
            return int((await conn.execute(stmt)).scalar_one())

    async def facets(self, conditions: dict[str, ColumnElement[bool]]) -> Facets:
        """Disjunctive counts: each dimension ignores its own criterion."""

        def grouped(column: Any, dimension: str, stmt: Select[Any]) -> Select[Any]:
            return (
                stmt.where(_where(conditions, without=dimension))
                .group_by(column)
                .order_by(func.count(distinct(missions.c.pk)).desc(), column)
            )

        counted = func.count(distinct(missions.c.pk))
        queries = {
            "causes": grouped(
                mission_causes.c.cause,
                "causes",
                select(mission_causes.c.cause, counted).join(
                    missions, missions.c.pk == mission_causes.c.mission_pk
                ),
            ),
            "skills": grouped(
                mission_skills.c.skill,
                "skills",
                select(mission_skills.c.skill, counted).join(
                    missions, missions.c.pk == mission_skills.c.mission_pk
                ),
            ),
            "remote": grouped(missions.c.remote, "remote", select(missions.c.remote, counted)),
            "departments": grouped(
                mission_locations.c.department_code,
                "department",
                select(mission_locations.c.department_code, counted)
                .join(missions, missions.c.pk == mission_locations.c.mission_pk)
                .where(mission_locations.c.department_code.is_not(None)),
            ),
            "partners": grouped(
                partners.c.name,
                "partner",
                select(partners.c.name, counted).join(
                    missions, missions.c.partner_pk == partners.c.pk
                ),
            ),
        }
        out: dict[str, list[FacetCount]] = {}
        async with self.engine.connect() as conn:
            for name, stmt in queries.items():
                rows = (await conn.execute(stmt)).all()
                out[name] = [FacetCount(str(value), int(count)) for value, count in rows]
        return Facets(**out)

    # --- lookups ----------------------------------------------------------------------------

    async def missions_by_ids(
        self, ids: Sequence[str], policy: Policy | None = None
    ) -> dict[str, MissionRecord]:
        """Missions by global id, any status, as far as the policy lets the caller see them."""
        if not ids:
            return {}
        conditions = search.compile_filter(
            self.dialect, MissionFilter(status=()), policy, collapse=False
        )
        stmt = select(*_MISSION_COLUMNS).where(missions.c.id.in_(list(ids)), _where(conditions))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
            records = await self._records(conn, rows)
        return {record.id: record for record in records}

    async def organizations(
        self, name: str | None, first: int, after_pk: int | None
    ) -> list[OrganizationRecord]:
        stmt = select(organizations).order_by(organizations.c.pk).limit(first)
        if name:
            stmt = stmt.where(
                organizations.c.name_key.contains(org_name_key(name), autoescape=True)
            )
        if after_pk is not None:
            stmt = stmt.where(organizations.c.pk > after_pk)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [_organization(row) for row in rows]

    async def organizations_by_ids(self, ids: Sequence[str]) -> dict[str, OrganizationRecord]:
        if not ids:
            return {}
        stmt = select(organizations).where(organizations.c.id.in_(list(ids)))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return {row["id"]: _organization(row) for row in rows}

    async def partner_list(self) -> list[PartnerRecord]:
        """Every partner with its open-mission count and its last sync run."""
        counts = (
            select(missions.c.partner_pk, func.count().label("n"))
            .where(missions.c.status == MissionStatus.OPEN.value)
            .group_by(missions.c.partner_pk)
            .subquery()
        )
        stmt = (
            select(partners, func.coalesce(counts.c.n, 0).label("mission_count"))
            .outerjoin(counts, counts.c.partner_pk == partners.c.pk)
            .order_by(partners.c.name)
        )
        last_run = (
            select(sync_runs)
            .where(sync_runs.c.partner_pk == partners.c.pk)
            .order_by(sync_runs.c.started_at.desc())
            .limit(1)
        )
        out = []
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
            for row in rows:
                record = _partner(row)
                record.mission_count = int(row["mission_count"])
                run = (
                    (await conn.execute(last_run.where(sync_runs.c.partner_pk == row["pk"])))
                    .mappings()
                    .first()
                )
                record.last_sync = dict(run) if run else None
                record.last_success_at = row["last_success_at"]
                record.last_error = row["last_error"]
                record.consecutive_failures = int(row["consecutive_failures"] or 0)
                record.health = _health(row, record.last_sync)
                out.append(record)
        return out

    async def refusals(self, partner_name: str, first: int) -> list[dict[str, Any]]:
        """What the hub refused from a partner, newest first, with the reasons."""
        stmt = (
            select(
                refused_records.c.external_id,
                refused_records.c.reason,
                refused_records.c.source,
                refused_records.c.at,
            )
            .join(partners, partners.c.pk == refused_records.c.partner_pk)
            .where(partners.c.name == partner_name)
            .order_by(refused_records.c.pk.desc())
            .limit(first)
        )
        async with self.engine.connect() as conn:
            return [dict(row) for row in (await conn.execute(stmt)).mappings()]

    async def pruned_through(self, conn: AsyncConnection) -> int:
        value = (
            await conn.execute(select(hub_state.c.value).where(hub_state.c.key == "pruned_through"))
        ).scalar_one_or_none()
        return int(value or 0)

    async def log_start(self) -> int:
        """The oldest position a reader may start from (events before it were pruned)."""
        async with self.engine.connect() as conn:
            return await self.pruned_through(conn)

    async def events_after(self, seq: int, limit: int) -> list[EventRow]:
        """The log after position `seq`, oldest first, missions loaded once for the batch."""
        async with self.engine.connect() as conn:
            if seq < await self.pruned_through(conn):
                raise CursorExpired(
                    "this cursor is older than the event log keeps: query missions again and "
                    "subscribe from their eventCursor"
                )
            rows = (
                await conn.execute(
                    select(
                        mission_events.c.seq,
                        mission_events.c.type,
                        mission_events.c.occurred_at,
                        mission_events.c.previous,
                        mission_events.c.state,
                        mission_events.c.mission_pk,
                    )
                    .where(mission_events.c.seq > seq)
                    .order_by(mission_events.c.seq)
                    .limit(limit)
                )
            ).all()
            if not rows:
                return []
            pks = sorted({row.mission_pk for row in rows})
            mission_rows = (
                (await conn.execute(select(*_MISSION_COLUMNS).where(missions.c.pk.in_(pks))))
                .mappings()
                .all()
            )
            records = {record.pk: record for record in await self._records(conn, mission_rows)}
        return [
            EventRow(
                row.seq, row.type, row.occurred_at, row.previous, row.state, records[row.mission_pk]
            )
            for row in rows
        ]

    async def prune_events(self, before: datetime) -> int:
        """Drop events older than `before`; cursors from before then get CursorExpired."""
        async with self.engine.begin() as conn:
            last = (
                await conn.execute(
                    select(func.max(mission_events.c.seq)).where(
                        mission_events.c.occurred_at < before
                    )
                )
            ).scalar_one()
            if last is None:
                return 0
            result = await conn.execute(delete(mission_events).where(mission_events.c.seq <= last))
            if await self.pruned_through(conn):
                await conn.execute(
                    update(hub_state)
                    .where(hub_state.c.key == "pruned_through")
                    .values(value=int(last))
                )
            else:
                await conn.execute(insert(hub_state).values(key="pruned_through", value=int(last)))
            return int(result.rowcount or 0)

    async def event_cursor(self) -> int:
        """The log position now: a client that subscribes from here misses nothing after it."""
        async with self.engine.connect() as conn:
            value = (await conn.execute(select(func.max(mission_events.c.seq)))).scalar_one()
        return int(value or 0)

    # --- building records -------------------------------------------------------------------

    async def _partner_map(
        self, conn: AsyncConnection, needed: set[int] | None = None
    ) -> dict[int, PartnerRecord]:
        """Partners change rarely: read them again after a few seconds, or for an unknown pk."""
        fresh = self.clock.monotonic() - self._partners_at < 5.0
        if self._partners is None or not fresh or (needed and not needed <= self._partners.keys()):
            rows = (await conn.execute(select(partners))).mappings().all()
            self._partners = {row["pk"]: _partner(row) for row in rows}
            self._partners_at = self.clock.monotonic()
        return self._partners

    async def _records(self, conn: AsyncConnection, rows: Sequence[Any]) -> list[MissionRecord]:
        if not rows:
            return []
        pks = [row["pk"] for row in rows]
        partner_map = await self._partner_map(conn, {row["partner_pk"] for row in rows})
        org_pks = {row["organization_pk"] for row in rows if row["organization_pk"] is not None}
        orgs: dict[int, OrganizationRecord] = {}
        if org_pks:
            org_rows = await conn.execute(
                select(organizations).where(organizations.c.pk.in_(org_pks))
            )
            orgs = {row["pk"]: _organization(row) for row in org_rows.mappings()}
        locations: dict[int, list[LocationRecord]] = {pk: [] for pk in pks}
        loc_rows = await conn.execute(
            select(mission_locations)
            .where(mission_locations.c.mission_pk.in_(pks))
            .order_by(mission_locations.c.mission_pk, mission_locations.c.position)
        )
        for loc in loc_rows.mappings():
            locations[loc["mission_pk"]].append(
                LocationRecord(
                    street=loc["street"],
                    postal_code=loc["postal_code"],
                    city=loc["city"],
                    department_code=loc["department_code"],
                    region=loc["region"],
                    country=loc["country"],
                    latitude=loc["latitude"],
                    longitude=loc["longitude"],
                    geo_source=GeoSource(loc["geo_source"]),
                )
            )
        causes: dict[int, list[str]] = {pk: [] for pk in pks}
        for mission_pk, cause in await conn.execute(
            select(mission_causes.c.mission_pk, mission_causes.c.cause).where(
                mission_causes.c.mission_pk.in_(pks)
            )
        ):
            causes[mission_pk].append(cause)
        skills: dict[int, list[SkillRecord]] = {pk: [] for pk in pks}
        for mission_pk, skill in await conn.execute(
            select(mission_skills.c.mission_pk, mission_skills.c.skill).where(
                mission_skills.c.mission_pk.in_(pks)
            )
        ):
            skills[mission_pk].append(SkillRecord(skill, taxonomy.skill_label(skill)))
        # Other listings of the same mission: its duplicates, or its canonical listing.
        also: dict[int, set[int]] = {pk: set() for pk in pks}
        canonical_of = {row["pk"]: row["canonical_pk"] for row in rows if row["canonical_pk"]}
        family = set(pks) | set(canonical_of.values())
        # Two index lookups; the status is checked here, so that no planner prefers a scan
        # of the status index (SQLite without statistics did, over the whole catalogue).
        columns = (missions.c.pk, missions.c.canonical_pk, missions.c.partner_pk, missions.c.status)
        related = [
            *await conn.execute(select(*columns).where(missions.c.canonical_pk.in_(family))),
            *await conn.execute(select(*columns).where(missions.c.pk.in_(family))),
        ]
        by_root: dict[int, set[int]] = {}
        for pk, canonical, partner_pk, status in related:
            if status == MissionStatus.OPEN.value:
                by_root.setdefault(canonical or pk, set()).add(partner_pk)
        for row in rows:
            root = row["canonical_pk"] or row["pk"]
            also[row["pk"]] = by_root.get(root, set()) - {row["partner_pk"]}
        return [
            _mission(
                row,
                partner_map[row["partner_pk"]],
                orgs.get(row["organization_pk"]),
                locations[row["pk"]],
                sorted(causes[row["pk"]]),
                sorted(skills[row["pk"]], key=lambda s: s.slug),
                [partner_map[p] for p in sorted(also[row["pk"]])],
            )
            for row in rows
        ]


def _health(row: Any, last_run: dict[str, Any] | None) -> str:
    """OK, DEGRADED (a failure, or a suspicious pull, lately) or FAILING (circuit open, or
    failing repeatedly); PENDING for a pulled partner never synced yet."""
    failures = int(row["consecutive_failures"] or 0)
    if row["circuit_open_until"] is not None or failures >= 3:
        return "FAILING"
    if failures > 0 or (last_run is not None and last_run["status"] == "SUSPICIOUS"):
        return "DEGRADED"
    if row["connector"] and last_run is None:
        return "PENDING"
    return "OK"


_partner = PartnerRecord.from_row


def _organization(row: Any) -> OrganizationRecord:
    return OrganizationRecord(
        pk=row["pk"],
        id=row["id"],
        name=row["name"],
        rna=row["rna"],
        siren=row["siren"],
        siret=row["siret"],
        url=row["url"],
        logo=row["logo"],
    )


def _mission(
    row: Any,
    partner: PartnerRecord,
    organization: OrganizationRecord | None,
    locations: list[LocationRecord],
    causes: list[str],
    skills: list[SkillRecord],
    also_published_on: list[PartnerRecord],
) -> MissionRecord:
    return MissionRecord(
        pk=row["pk"],
        id=row["id"],
        partner=partner,
        external_id=row["external_id"],
        application_url=row["application_url"],
        title=row["title"],
        description=row["description"],
        description_html=row["description_html"],
        tags=list(row["tags"] or []),
        engagement_type=EngagementType(row["engagement_type"]),
        remote=Remote(row["remote"]),
        audience=list(row["audience"] or []),
        start_at=row["start_at"],
        end_at=row["end_at"],
        posted_at=row["posted_at"],
        commitment=Commitment(
            hours_per_week_min=row["hours_per_week_min"],
            hours_per_week_max=row["hours_per_week_max"],
            total_hours=row["total_hours"],
            kind=CommitmentKind(row["commitment_kind"]) if row["commitment_kind"] else None,
            schedule_label=row["schedule_label"],
        ),
        places=Places(row["places_total"], row["places_remaining"]),
        organization=organization,
        open_to_minors=row["open_to_minors"],
        reduced_mobility_accessible=row["reduced_mobility_accessible"],
        status=MissionStatus(row["status"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        closed_at=row["closed_at"],
        raw=dict(row["raw"] or {}),
        locations=locations,
        causes=causes,
        skills=skills,
        also_published_on=also_published_on,
        is_duplicate=row["canonical_pk"] is not None,
    )


def check_first(first: int | None, default: int, maximum: int) -> int:
    """`first` as asked, or the default; refused when negative or over the cap."""
    if first is None:
        return default
    if first < 0:
        raise FilterError(f"first must not be negative, got {first}")
    if first > maximum:
        raise FilterError(f"first must be at most {maximum}, got {first}")
    return first
