"""The projection of the compiled reads: a GraphQL selection of Mission (in the names of
hub.catalogue.records) as the SQL expression of each mission's JSON, merged missions' golden
records and the cluster's labels included; and a facet's counts as a JSON array.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Numeric,
    Select,
    String,
    Text,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    select,
    union,
)

from hub.catalogue import taxonomy
from hub.catalogue.model import MissionStatus
from hub.storage import search
from hub.storage.compiled_sql import JsonSql
from hub.storage.rows import LOCATION_FIELDS, ORGANIZATION_FIELDS
from hub.storage.tables import (
    mission_causes,
    mission_locations,
    mission_skills,
    missions,
    organizations,
    partners,
)

__all__ = ["COVERED", "Builder", "Field", "facet_json"]


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


class Builder:
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
        published = func.nullif(missions.c.published_organization, "")
        if all(s.name in ("name", "__typename") for s in fields):
            # The name alone: the organization's row is read only when the partner published
            # none (COALESCE stops at its first value).
            stored = (
                select(o.c.name)
                .where(o.c.pk == missions.c.organization_pk)
                .correlate(missions)
                .scalar_subquery()
            )
            named = self.sql.object(
                [
                    (s.key, func.coalesce(published, stored))
                    if s.name == "name"
                    else (s.key, self._col(o, s.name, s))
                    for s in fields
                ]
            )
            return case((missions.c.organization_pk.is_(None), null()), else_=named)

        def value(s: Field) -> ColumnElement[Any]:
            if s.name == "name":  # a listing alone shows the name its partner published
                return func.coalesce(published, o.c.name)
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
        if self.dialect == "sqlite":
            # SQLite's column is virtual (hub.storage.search._shown_labels): reading it parses
            # the match state, dearer than the children's index (2.28 against 2.06 ms of CPU
            # for the anchor page at 36,567 missions).
            return case((self.golden.is_(None), own), else_=merged)
        # An open listing shows the labels kept on its row (hub.storage.search._shown_labels):
        # its own, or its merged mission's union, already sorted.
        on_row = missions.c[f"shown_{f.name}"]
        each = func.unnest(on_row).table_valued("value", with_ordinality="at").render_derived()
        value, at = each.c.value, each.c.at
        shown = self.sql.array(select(self._label_object(f, value).label("item"), at.label("at")))
        return case(
            (missions.c.status == literal_column(f"'{MissionStatus.OPEN.value}'"), shown),
            (self.golden.is_(None), own),
            else_=merged,
        )

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


def facet_json(sql: JsonSql, counts: Select[Any], fields: tuple[Field, ...]) -> ColumnElement[Any]:
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
