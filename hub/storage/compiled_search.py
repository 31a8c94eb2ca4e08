"""A page of missions as JSON built by the database: the compiled read path's one statement.

The planner (schema/compiled.py) turns a GraphQL selection into a projection (`Field` trees, in
the names of hub.catalogue.records); this module turns a projection, a filter, an order, a page
and the caller's policy into one SQL statement whose rows carry each mission's JSON, ready to be
passed through to the client. The filter, order, keyset and policy are those of the generic path
(hub.storage.search): the two paths cannot disagree on which missions a page holds, and the
differential test (tests/test_compiled.py) holds them to the same answers field by field.

A merged mission shows its golden record: the fields its rules take from another listing are
read from `missions.golden` (hub.storage.golden_rows), causes and skills from every open listing
of its cluster, as the generic path shows them.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiosqlite
import asyncpg
from sqlalchemy import (
    ColumnElement,
    Integer,
    Numeric,
    Select,
    String,
    Text,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    select,
    true,
    union,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.catalogue import taxonomy
from hub.catalogue.filters import MissionFilter, MissionOrder, Policy
from hub.catalogue.model import MissionStatus
from hub.storage import search
from hub.storage.catalogue_reads import facet_statements
from hub.storage.compiled_sql import JsonSql
from hub.storage.db import sqlite_distance
from hub.storage.rows import LOCATION_FIELDS, ORGANIZATION_FIELDS
from hub.storage.tables import (
    UTCDateTime,
    mission_causes,
    mission_events,
    mission_locations,
    mission_skills,
    missions,
    organizations,
    partners,
)

__all__ = ["COVERED", "CompiledPage", "Field", "ReadPool", "search_page"]

_SQLITE = sqlite.dialect()
_SQLITE_READERS = 4


@dataclass(frozen=True, slots=True)
class Field:
    """One key of a JSON object: the response key, the record attribute it shows, and the
    projection of an object or list of objects under it."""

    key: str
    name: str
    fields: tuple[Field, ...] = ()


# What the statement can build: the mission's attributes, and those of the objects under it.
_SCALARS = {
    "id",
    "external_id",
    "application_url",
    "title",
    "description",
    "description_html",
    "engagement_type",
    "remote",
    "status",
    "start_at",
    "end_at",
    "posted_at",
    "created_at",
    "updated_at",
    "closed_at",
    "open_to_minors",
    "reduced_mobility_accessible",
    "tags",
    "audience",
}
_ORGANIZATION = set(ORGANIZATION_FIELDS)
_PARTNER = {"id", "name", "display_name", "connector", "push_only"}
_LOCATION = set(LOCATION_FIELDS)
_COMMITMENT = {"hours_per_week_min", "hours_per_week_max", "total_hours", "kind", "schedule_label"}
_PLACES = {"total", "remaining"}
_CAUSE = {"value", "label"}
_SKILL = {"slug", "label", "family"}
COVERED: dict[str, set[str] | None] = {
    **dict.fromkeys(_SCALARS),
    "organization": _ORGANIZATION,
    "partner": _PARTNER,
    "locations": _LOCATION,
    "commitment": _COMMITMENT,
    "places": _PLACES,
    "causes": _CAUSE,
    "skills": _SKILL,
    "distance_km": None,
}
# Fields whose value a merged mission takes from its golden record (hub.catalogue.golden).
_GOLDEN_SCALARS = {"title", "description", "description_html", "posted_at", "start_at", "remote"}
_DATES = {"start_at", "end_at", "posted_at", "created_at", "updated_at", "closed_at"}
_BOOLEANS = {"open_to_minors", "reduced_mobility_accessible", "push_only"}
_FLOATS = {"latitude", "longitude", "hours_per_week_min", "hours_per_week_max", "total_hours"}


# The facets asked for: (dimension, the FacetCount projection), in the order asked.
Facets = tuple[tuple[str, tuple[Field, ...]], ...]


@dataclass(slots=True)
class CompiledPage:
    """The statement's answer: each mission's JSON text and cursor, and what else was asked."""

    nodes: list[str]
    cursors: list[str]
    has_next_page: bool
    total_count: int | None = None
    event_cursor: int | None = None
    facets: list[str] = field(default_factory=list)  # each asked dimension's JSON array


class _Builder:
    """The JSON expressions of one projection, over `missions` (the page's row)."""

    def __init__(self, dialect: str, distance: ColumnElement[Any] | None) -> None:
        self.sql = JsonSql(dialect)
        self.dialect = dialect
        self.distance = distance  # the NEAREST order's first key, else None
        self.golden = missions.c.golden

    # -- the mission ------------------------------------------------------------------------

    def mission(self, fields: tuple[Field, ...]) -> ColumnElement[Any]:
        return self.sql.object([(f.key, self._value(f)) for f in fields])

    def _value(self, f: Field) -> ColumnElement[Any]:
        value = self._mission_field(f)
        return self.sql.nested(value) if f.fields and f.name != "__typename" else value

    def _mission_field(self, f: Field) -> ColumnElement[Any]:
        sql = self.sql
        if f.name == "__typename":
            return literal(f.fields[0].key if f.fields else "Mission", String)
        if f.name == "distance_km":  # under NEAREST only, as the generic path: to the metre
            if self.distance is None:
                return null()
            exact = self.distance if self.dialect == "sqlite" else cast(self.distance, Numeric)
            return case((self.distance < search.FAR, func.round(exact, 3)), else_=null())
        if f.name in _SCALARS:
            own = self._own_scalar(f.name)
            if f.name in _GOLDEN_SCALARS:
                return case(
                    (self.golden.is_(None), own), else_=sql.golden_scalar(self.golden, f.name)
                )
            return own
        if f.name == "organization":
            own_org = self._own_organization(f.fields)
            return case(
                (self.golden.is_(None), own_org),
                else_=sql.golden_object(self.golden, "organization", self._keys(f.fields)),
            )
        if f.name == "partner":
            p = partners.alias("cp")
            obj = self.sql.object([(s.key, self._col(p, s.name, s)) for s in f.fields])
            return (
                select(obj)
                .where(p.c.pk == missions.c.partner_pk)
                .correlate(missions)
                .scalar_subquery()
            )
        if f.name == "locations":
            return case(
                (self.golden.is_(None), self._own_locations(f.fields)),
                else_=sql.golden_list(self.golden, "locations", self._keys(f.fields)),
            )
        if f.name == "commitment":
            own = sql.object(
                [
                    (
                        s.key,
                        self._col(missions, "commitment_kind" if s.name == "kind" else s.name, s),
                    )
                    for s in f.fields
                ]
            )
            return case(
                (self.golden.is_(None), own),
                else_=sql.golden_object(self.golden, "commitment", self._keys(f.fields)),
            )
        if f.name == "places":
            return sql.object(
                [(s.key, self._col(missions, f"places_{s.name}", s)) for s in f.fields]
            )
        if f.name in ("causes", "skills"):
            return self._labels(f)
        raise AssertionError(f"not covered: {f.name}")

    def _keys(self, fields: tuple[Field, ...]) -> list[tuple[str, str, str]]:
        """(response key, attribute, how to read it) of an object kept in the golden record."""
        return [
            (s.key, s.fields[0].key, "literal")
            if s.name == "__typename"
            else (s.key, s.name, "number" if s.name in _FLOATS else "text")
            for s in fields
        ]

    def _col(self, table: Any, column: str, s: Field) -> ColumnElement[Any]:
        """The value of `s` from a column of `table`, or its type's name for `__typename`."""
        if s.name == "__typename":
            return literal(s.fields[0].key, String)
        return self._column(table.c[column], s.name)

    def _own_scalar(self, name: str) -> ColumnElement[Any]:
        return self._column(missions.c[name], name)

    def _column(self, column: Any, name: str) -> ColumnElement[Any]:
        if name in _DATES:
            return self.sql.moment(column)
        if name in _BOOLEANS:
            return self.sql.boolean(column)
        if name in _FLOATS:
            return self.sql.number(column)
        if name in ("tags", "audience"):
            return self.sql.embedded(column)
        return column  # type: ignore[no-any-return]

    def _own_organization(self, fields: tuple[Field, ...]) -> ColumnElement[Any]:
        o = organizations.alias("co")
        published = self.sql.raw_text(missions.c.raw, "organization_name")

        def value(s: Field) -> ColumnElement[Any]:
            if s.name == "name":  # a listing alone shows the name its partner published
                return func.coalesce(func.nullif(published, ""), o.c.name)
            return self._col(o, s.name, s)

        obj = self.sql.object([(s.key, value(s)) for s in fields])
        return (
            select(obj)
            .where(o.c.pk == missions.c.organization_pk)
            .correlate(missions)
            .scalar_subquery()
        )

    def _own_locations(self, fields: tuple[Field, ...]) -> ColumnElement[Any]:
        loc = mission_locations
        obj = self.sql.object([(s.key, self._col(loc, s.name, s)) for s in fields])
        return self.sql.array(
            select(obj.label("item"), loc.c.position.label("at"))
            .where(loc.c.mission_pk == missions.c.pk)
            .correlate(missions)
        )

    def _labels(self, f: Field) -> ColumnElement[Any]:
        table, column = (
            (mission_causes, "cause") if f.name == "causes" else (mission_skills, "skill")
        )
        member = missions.alias("cm")
        mine = table.c[column]
        own = self.sql.array(
            select(self._label_object(f, mine).label("item"), mine.label("at"))
            .where(table.c.mission_pk == missions.c.pk)
            .correlate(missions)
        )
        # A merged mission: the union of its open listings' labels (rare: a second branch).
        lent = (
            select(mine.label("slug"))
            .join(member, member.c.pk == table.c.mission_pk)
            .where(
                member.c.canonical_pk == missions.c.pk,
                member.c.status == MissionStatus.OPEN.value,
            )
        )
        slugs = union(
            select(mine.label("slug"))
            .where(table.c.mission_pk == missions.c.pk)
            .correlate(missions),
            lent.correlate(missions),
        ).subquery()
        merged = self.sql.array(
            select(self._label_object(f, slugs.c.slug).label("item"), slugs.c.slug.label("at"))
        )
        return case((self.golden.is_(None), own), else_=merged)

    def _label_object(self, f: Field, value: ColumnElement[Any]) -> ColumnElement[Any]:
        parts: list[tuple[str, ColumnElement[Any]]] = []
        for s in f.fields:
            if s.name == "value":
                parts.append((s.key, func.upper(func.replace(value, "-", "_"))))
            elif s.name == "slug":
                parts.append((s.key, value))
            elif s.name == "__typename":
                parts.append((s.key, literal(s.fields[0].key, String)))
            else:
                parts.append((s.key, _lookup(value, _label_table(f.name, s.name))))
        return self.sql.object(parts)


def _facet(sql: JsonSql, counts: Select[Any], fields: tuple[Field, ...]) -> ColumnElement[Any]:
    """A facet's (value, count) rows as a JSON array of FacetCount objects, in their order."""
    sub = counts.correlate(None).subquery("facet")
    value, count = list(sub.c)
    parts: list[tuple[str, ColumnElement[Any]]] = []
    for f in fields:
        if f.name == "__typename":
            parts.append((f.key, literal(f.fields[0].key, String)))
        else:
            parts.append((f.key, cast(value, Text) if f.name == "value" else count))
    at = func.row_number().over(order_by=(count.desc(), value))
    return sql.array(select(sql.object(parts).label("item"), at.label("at")))


def _label_table(kind: str, attribute: str) -> dict[str, str]:
    if kind == "causes":
        return {c.slug: c.label for c in taxonomy.CAUSES}
    if attribute == "family":
        return {s.slug: taxonomy.skill_family(s.slug) for s in taxonomy.SKILLS}
    return {s.slug: s.label for s in taxonomy.SKILLS}


def _lookup(value: ColumnElement[Any], table: dict[str, str]) -> ColumnElement[Any]:
    return case(*((value == k, literal(v, String)) for k, v in table.items()), else_=null())


class ReadPool:
    """The compiled reads' connections: on PostgreSQL the driver's own pool (asyncpg, prepared
    statements kept per connection, no ping before each use: a broken connection fails the
    read, which the generic path then answers, and is replaced); on SQLite the engine's."""

    def __init__(self, engine: AsyncEngine, size: int) -> None:
        self.engine = engine
        self.size = size
        self._pool: Any = None
        self._idle: asyncio.Queue[Any] | None = None
        self._opening = asyncio.Lock()

    async def fetch(self, sql: str, args: tuple[Any, ...]) -> list[Any]:
        if self.engine.dialect.name == "sqlite":
            return await self._fetch_sqlite(sql, args)
        if self._pool is None:
            async with self._opening:
                if self._pool is None:
                    url = self.engine.url.set(drivername="postgresql")
                    self._pool = await asyncpg.create_pool(
                        url.render_as_string(hide_password=False),
                        min_size=1,
                        max_size=self.size,
                        reset=_keep_session,
                    )
        async with self._pool.acquire() as conn:
            return list(await conn.fetch(sql, *args))

    async def _fetch_sqlite(self, sql: str, args: tuple[Any, ...]) -> list[Any]:
        """A few connections of the driver's own (aiosqlite, one thread each: WAL lets them
        read side by side), each read one call into its thread."""
        path = self.engine.url.database
        if not path or path == ":memory:":  # one connection holds the data: the engine's
            async with self.engine.connect() as conn:
                raw: Any = (await conn.get_raw_connection()).driver_connection
                return list(await raw.execute_fetchall(sql, args))
        if self._idle is None:
            async with self._opening:
                if self._idle is None:
                    idle: asyncio.Queue[Any] = asyncio.Queue()
                    for _ in range(min(self.size, _SQLITE_READERS)):
                        reader = await aiosqlite.connect(path)
                        await reader.create_function(
                            "hub_distance_km", 4, sqlite_distance, deterministic=True
                        )
                        await reader.execute("PRAGMA busy_timeout=10000")
                        idle.put_nowait(reader)
                    self._idle = idle
        conn = await self._idle.get()
        try:
            return list(await conn.execute_fetchall(sql, args))
        finally:
            self._idle.put_nowait(conn)

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
        if self._idle is not None:
            while not self._idle.empty():
                await self._idle.get_nowait().close()
            self._idle = None


async def _keep_session(_conn: Any) -> None:
    """Nothing to reset between uses: the reads run SELECTs only and never change a setting,
    so the pool skips asyncpg's default RESET ALL round trip on each release."""


@dataclass(frozen=True, slots=True)
class _Statement:
    """A page's statement compiled once to the driver's SQL and arguments."""

    sql: str
    args: tuple[Any, ...]
    order: search.CompiledOrder
    extras: tuple[str, ...]


_STATEMENTS: OrderedDict[tuple[Any, ...], _Statement] = OrderedDict()
_STATEMENTS_KEPT = 256


def _statement(
    dialect: Any,
    node: tuple[Field, ...] | None,
    flt: MissionFilter,
    order: MissionOrder,
    first: int,
    after: str | None,
    policy: Policy | None,
    now: datetime,
    total_count: bool,
    event_cursor: bool,
    facets: Facets = (),
) -> tuple[_Statement, bool]:
    """The statement, and whether its order read the clock (STARTING_SOON without a cursor).

    Built and compiled once per question: a statement that does not depend on the clock is
    kept (least recently used out), so a repeated search costs its execution only."""
    key = (dialect.name, node, flt, order, first, after, policy, total_count, event_cursor, facets)
    kept = _STATEMENTS.get(key)
    if kept is not None:
        _STATEMENTS.move_to_end(key)
        return kept, False
    from_clock = True
    position: list[Any] | None = None
    if after is not None:
        values, pinned = search.decode_cursor(after, order)
        from_clock = pinned is None
        now = pinned or now
        compiled = search.compile_order(dialect.name, order, flt, now)
        position = search.typed_values(compiled, values)
    else:
        compiled = search.compile_order(dialect.name, order, flt, now)
    conditions = search.compile_filter(dialect.name, flt, policy)
    where = and_(true(), *conditions.values())
    keys = [key.label(f"k{i}") for i, (key, _) in enumerate(compiled.keys)]
    columns: list[Any] = list(keys)
    if node is not None:
        distance = compiled.keys[0][0] if order is MissionOrder.NEAREST else None
        node_json = _Builder(dialect.name, distance).mission(node)
        columns.append(cast(node_json, Text).label("node"))  # text, not decoded
    page = select(*columns).where(where)
    if position is not None:
        page = page.where(compiled.after(position))
    page = page.order_by(*compiled.order_by()).limit(first + 1)
    extras: list[Any] = []
    if total_count:
        counted = select(func.count()).select_from(missions).where(where).correlate(None)
        extras.append(counted.scalar_subquery().label("total"))
    if event_cursor:
        latest = select(func.coalesce(func.max(mission_events.c.seq), 0)).correlate(None)
        extras.append(latest.scalar_subquery().label("log"))
    if facets:
        by_dimension = facet_statements(conditions)
        sql = JsonSql(dialect.name)
        for i, (dimension, fields) in enumerate(facets):
            extras.append(_facet(sql, by_dimension[dimension], fields).label(f"f{i}"))
    stmt: Any = page
    if extras:  # one row even for an empty page, which carries the count and position
        inner = page.subquery("page")
        stmt = (
            select(*extras, *(inner.c[c.name] for c in columns))
            .select_from(select(literal(1, Integer).label("one")).subquery("one"))
            .outerjoin(inner, true())
            .order_by(
                *(
                    inner.c[f"k{i}"].desc() if desc else inner.c[f"k{i}"].asc()
                    for i, (_, desc) in enumerate(compiled.keys)
                )
            )
        )
    built = _Statement(*_driver_sql(stmt, dialect), compiled, tuple(e.name for e in extras))
    reads_clock = compiled.now is not None and from_clock
    if not reads_clock:
        _STATEMENTS[key] = built
        if len(_STATEMENTS) > _STATEMENTS_KEPT:
            _STATEMENTS.popitem(last=False)
    return built, reads_clock


def _driver_sql(stmt: Any, dialect: Any) -> tuple[str, tuple[Any, ...]]:
    """The statement's SQL for the driver, and its arguments with the types' bind processing
    (UTC datetimes for SQLite, for instance) done, in the driver's order."""
    compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    processors = compiled._bind_processors
    values = {k: processors[k](v) if k in processors else v for k, v in params.items()}
    return compiled.string, tuple(values[name] for name in compiled.positiontup)


async def search_page(
    pool: ReadPool,
    node: tuple[Field, ...] | None,
    flt: MissionFilter,
    order: MissionOrder,
    first: int,
    after: str | None,
    policy: Policy | None,
    now: datetime,
    *,
    total_count: bool = False,
    event_cursor: bool = False,
    facets: Facets = (),
    cursors: str = "all",
    on_time: Callable[[], None] | None = None,
) -> CompiledPage:
    """One statement: the page's missions as JSON (when `node` is given), their keys, and the
    count and log position when asked for; `cursors` says which results' cursors are encoded:
    "all", "ends" (the first and last: the page information's) or "none" (the others are "").
    Raises what the generic path raises (BadCursor, FilterError) for the caller to answer as it
    does."""
    built, reads_clock = _statement(
        pool.engine.dialect,
        node,
        flt,
        order,
        first,
        after,
        policy,
        now,
        total_count,
        event_cursor,
        facets,
    )
    if reads_clock and on_time is not None:
        on_time()
    rows = await pool.fetch(built.sql, built.args)
    n_extra = len(built.extras)
    n_keys = len(built.order.keys)
    out = CompiledPage([], [], False)
    if n_extra:
        first_row = rows[0]
        for i, name in enumerate(built.extras):
            if name == "total":
                out.total_count = int(first_row[i])
            elif name == "log":
                out.event_cursor = int(first_row[i])
            else:
                out.facets.append(first_row[i] if first_row[i] is not None else "[]")
        rows = [row for row in rows if row[n_extra] is not None]
    out.has_next_page = len(rows) > first
    page = rows[:first]
    for at, row in enumerate(page):
        # Each result's cursor when the selection shows them all, else the ends' alone.
        if cursors == "all" or (cursors == "ends" and at in (0, len(page) - 1)):
            kinds = built.order.kinds
            values = [_key_value(kind, row[n_extra + i]) for i, kind in enumerate(kinds)]
            out.cursors.append(search.encode_cursor(built.order, values))
        else:
            out.cursors.append("")
        if node is not None:
            out.nodes.append(row[n_extra + n_keys])
    return out


def _key_value(kind: str, value: Any) -> Any:
    """A key as the generic path reads it through SQLAlchemy's types."""
    if kind == "date":
        return UTCDateTime().process_result_value(value, _SQLITE) if value is not None else None
    if kind == "float":
        return float(value)
    return value
