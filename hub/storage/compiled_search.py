"""A page of missions as JSON built by the database: the compiled read path's one statement.

The planner (schema/compiled.py) turns a GraphQL selection into a projection (`Field` trees, in
the names of hub.catalogue.records); this module turns a projection, a filter, an order, a page
and the caller's policy into one SQL statement whose rows carry each mission's JSON, ready to be
passed through to the client. The filter, order, keyset and policy are those of the generic path
(hub.storage.search): the two paths cannot disagree on which missions a page holds, and the
differential test (tests/test_compiled.py) holds them to the same answers field by field.

A merged mission shows its golden record: the fields its rules take from another listing are
read from `missions.golden` (hub.storage.golden_rows), causes and skills from every open listing
of its cluster, as the generic path shows them (the JSON expressions: hub.storage.
compiled_projection). The statements run on the compiled reads' own connections
(hub.storage.read_pool).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    Text,
    and_,
    cast,
    func,
    literal,
    literal_column,
    select,
    true,
)
from sqlalchemy.dialects import sqlite

from hub.catalogue.filters import MissionFilter, MissionOrder, Policy
from hub.storage import search
from hub.storage.catalogue_reads import facet_statements
from hub.storage.compiled_projection import COVERED, Builder, Field, facet_json
from hub.storage.compiled_sql import JsonSql
from hub.storage.label_rarity import rare_labels
from hub.storage.read_pool import ReadPool
from hub.storage.tables import (
    UTCDateTime,
    mission_events,
    missions,
)

__all__ = ["COVERED", "CompiledPage", "Field", "search_page"]

_SQLITE = sqlite.dialect()

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


@dataclass(frozen=True, slots=True)
class _Statement:
    """A page's statement compiled once to the driver's SQL and arguments."""

    sql: str
    args: tuple[Any, ...]
    order: search.CompiledOrder
    extras: tuple[str, ...]
    generic_plan: bool  # its best plan does not depend on its arguments (read_pool)


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
    rare: frozenset[str] = frozenset(),
) -> tuple[_Statement, bool]:
    """The statement, and whether its order read the clock (STARTING_SOON without a cursor).

    Built and compiled once per question: a statement that does not depend on the clock is
    kept (least recently used out), so a repeated search costs its execution only."""
    key = (
        dialect.name,
        node,
        flt,
        order,
        first,
        after,
        policy,
        total_count,
        event_cursor,
        facets,
        rare,
    )
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
    if search.drives_from_labels(dialect.name, flt, policy, rare):
        compiled = compiled.unindexed()
    conditions = search.compile_filter(dialect.name, flt, policy, rare=rare)
    where = and_(true(), *conditions.values())
    keys = [key.label(f"k{i}") for i, (key, _) in enumerate(compiled.keys)]
    columns: list[Any] = list(keys)
    if node is not None:
        distance = compiled.keys[0][0] if order is MissionOrder.NEAREST else None
        node_json = Builder(dialect.name, distance).mission(node)
        columns.append(cast(node_json, Text).label("node"))  # text, not decoded
    page = select(*columns).where(where)
    if position is not None:
        page = page.where(compiled.after(position))
    # The limit written out: a generic plan (hub.storage.read_pool) would otherwise guess that
    # a tenth of the table is read.
    page = page.order_by(*compiled.order_by()).limit(literal_column(str(int(first) + 1)))
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
            extras.append(facet_json(sql, by_dimension[dimension], fields).label(f"f{i}"))
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
    # PostgreSQL plans a rare label's statement for its values: a generic plan, blind to how
    # few listings carry them, would walk the catalogue in order (hub.storage.label_rarity).
    generic = flt.text is None and flt.near is None and not rare
    built = _Statement(
        *_driver_sql(stmt, dialect), compiled, tuple(e.name for e in extras), generic
    )
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
        await rare_labels(pool.engine, flt),
    )
    if reads_clock and on_time is not None:
        on_time()
    rows = await pool.fetch(built.sql, built.args, generic_plan=built.generic_plan)
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
