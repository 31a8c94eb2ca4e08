"""Reads of the catalogue: search pages, counts, facets, lookups by id, organizations and
partners. The caller's policy is applied here, for every reader."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, distinct, func, select, true

from hub.catalogue.filters import MissionFilter, MissionOrder, Policy
from hub.catalogue.model import MissionStatus
from hub.catalogue.records import MissionRecord, OrganizationRecord, Page, PartnerRecord
from hub.clock import answer_reads_time
from hub.storage import search
from hub.storage.label_rarity import rare_labels
from hub.storage.organizations import org_name_key
from hub.storage.rows import MISSION_COLUMNS, RecordReader, organization_record, partner_health
from hub.storage.tables import (
    mission_causes,
    mission_locations,
    mission_skills,
    missions,
    organizations,
    partners,
    refused_records,
    sync_runs,
)

__all__ = ["CatalogueReads", "FacetCount", "Facets", "SearchQuery", "facet_statements"]


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

    repository: CatalogueReads
    conditions: dict[str, ColumnElement[bool]]

    async def total_count(self) -> int:
        return await self.repository.count(self.conditions)

    async def facets(self) -> Facets:
        return await self.repository.facets(self.conditions)


def _where(conditions: dict[str, ColumnElement[bool]], *, without: str | None = None) -> Any:
    parts = [clause for name, clause in conditions.items() if name != without]
    return and_(true(), *parts)


def _open_counts() -> Select[Any]:
    return (
        select(missions.c.partner_pk, func.count().label("n"))
        .where(missions.c.status == MissionStatus.OPEN.value)
        .group_by(missions.c.partner_pk)
    )


def _visible_organization(policy: Policy | None) -> ColumnElement[bool]:
    """An organization the policy does not exclude (its missions are hidden by the filter)."""
    if policy is None or not policy.excluded_organizations:
        return true()
    return organizations.c.id.not_in(list(policy.excluded_organizations))


def facet_statements(conditions: dict[str, ColumnElement[bool]]) -> dict[str, Select[Any]]:
    """Each dimension's (value, count) statement, counted without its own criterion
    (disjunctive facets), most frequent first; shared with the compiled reads."""

    def grouped(column: Any, dimension: str, stmt: Select[Any]) -> Select[Any]:
        return (
            stmt.where(_where(conditions, without=dimension))
            .group_by(column)
            .order_by(func.count(distinct(missions.c.pk)).desc(), column)
        )

    def labels(table: Any, column: str, dimension: str) -> Select[Any]:
        # A collapsed search counts a merged mission under every open listing's labels.
        source = (
            search.cluster_labels(table, column)
            if "duplicates" in conditions
            else select(table.c.mission_pk, table.c[column].label("value")).subquery()
        )
        return grouped(
            source.c.value,
            dimension,
            select(source.c.value, counted).join(missions, missions.c.pk == source.c.mission_pk),
        )

    counted = func.count(distinct(missions.c.pk))
    queries = {
        "causes": labels(mission_causes, "cause", "causes"),
        "skills": labels(mission_skills, "skill", "skills"),
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
            select(partners.c.name, counted).join(missions, missions.c.partner_pk == partners.c.pk),
        ),
    }
    return queries


class CatalogueReads(RecordReader):
    """Reads over one engine; each call takes its own connection from the pool."""

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
        from_clock = now is None
        now = now or self.clock.now()
        position: list[Any] | None = None
        if after is not None:
            values, pinned = search.decode_cursor(after, order)
            from_clock = from_clock and pinned is None
            now = pinned or now
            compiled = search.compile_order(self.dialect, order, flt, now)
            position = search.typed_values(compiled, values)
        else:
            compiled = search.compile_order(self.dialect, order, flt, now)
        if compiled.now is not None and from_clock:
            answer_reads_time()  # its order and cursor depend on "now": never cached
        rare = await rare_labels(self.engine, flt)
        if search.drives_from_labels(self.dialect, flt, policy, rare):
            compiled = compiled.unindexed()
        conditions = search.compile_filter(self.dialect, flt, policy, rare=rare)
        keys = [key.label(f"k{i}") for i, (key, _) in enumerate(compiled.keys)]
        stmt = select(*MISSION_COLUMNS, *keys).where(_where(conditions))
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
            if order is MissionOrder.NEAREST and key_values[0] < search.FAR:
                item.distance_km = float(key_values[0])
        page = Page(items, cursors, has_next_page=has_next, has_previous_page=after is not None)
        return page, SearchQuery(self, conditions)

    async def count(self, conditions: dict[str, ColumnElement[bool]]) -> int:
        stmt = select(func.count()).select_from(missions).where(_where(conditions))
        async with self.engine.connect() as conn:
            return int((await conn.execute(stmt)).scalar_one())

    async def facets(self, conditions: dict[str, ColumnElement[bool]]) -> Facets:
        """Disjunctive counts: each dimension ignores its own criterion."""
        queries = facet_statements(conditions)
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
        stmt = select(*MISSION_COLUMNS).where(missions.c.id.in_(list(ids)), _where(conditions))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
            records = await self._records(conn, rows)
        return {record.id: record for record in records}

    async def organizations(
        self, name: str | None, first: int, after_pk: int | None, policy: Policy | None = None
    ) -> list[OrganizationRecord]:
        """Organizations by creation order, without those the caller's policy excludes."""
        stmt = (
            select(organizations)
            .where(_visible_organization(policy))
            .order_by(organizations.c.pk)
            .limit(first)
        )
        if name:
            stmt = stmt.where(
                organizations.c.name_key.contains(org_name_key(name), autoescape=True)
            )
        if after_pk is not None:
            stmt = stmt.where(organizations.c.pk > after_pk)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [organization_record(row) for row in rows]

    async def organizations_by_ids(
        self, ids: Sequence[str], policy: Policy | None = None
    ) -> dict[str, OrganizationRecord]:
        """Organizations by global id, without those the caller's policy excludes."""
        if not ids:
            return {}
        stmt = select(organizations).where(
            organizations.c.id.in_(list(ids)), _visible_organization(policy)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return {row["id"]: organization_record(row) for row in rows}

    async def open_mission_counts(self, partner_pks: Sequence[int]) -> dict[int, int]:
        """Open missions of each partner (its own listings, duplicates included)."""
        stmt = _open_counts().where(missions.c.partner_pk.in_(list(partner_pks)))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return {int(pk): int(n) for pk, n in rows}

    async def partner_list(self) -> list[PartnerRecord]:
        """Every partner with its open-mission count and its last sync run."""
        counts = _open_counts().subquery()
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
                record = PartnerRecord.from_row(row)
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
                record.health = partner_health(row, record.last_sync)
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
