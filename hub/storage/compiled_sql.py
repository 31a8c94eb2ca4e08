"""JSON built in SQL, the same on SQLite (json_object, json_group_array) and PostgreSQL
(json_build_object, json_agg): the vocabulary of the compiled read path.

Values come out as the API shows them: datetimes as ISO 8601 with their offset (Python's
`isoformat` of a UTC datetime), booleans as JSON booleans, floats as numbers that read back to
the same double (SQLite prints 17 digits: its JSON writer keeps only 15).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Select,
    String,
    case,
    cast,
    func,
    literal,
    null,
    select,
)

__all__ = ["JsonSql"]


def _key(name: str) -> Any:
    # Response keys are GraphQL names ([_A-Za-z][_0-9A-Za-z]*): nothing to escape.
    return literal(name, String)


class JsonSql:
    def __init__(self, dialect: str) -> None:
        self.sqlite = dialect == "sqlite"

    def object(self, pairs: list[tuple[str, ColumnElement[Any]]]) -> ColumnElement[Any]:
        args: list[Any] = []
        for key, value in pairs:
            args += [_key(key), value]
        return func.json_object(*args) if self.sqlite else func.json_build_object(*args)

    def nested(self, value: ColumnElement[Any]) -> ColumnElement[Any]:
        """An object or array from a subquery or a CASE, embedded as JSON, not as text."""
        return func.json(value) if self.sqlite else value

    def array(self, items: Select[Any]) -> ColumnElement[Any]:
        """A JSON array of the `item` column of `items`, ordered by its `at` column ([] when
        empty)."""
        sub = items.subquery("items")
        if self.sqlite:  # SQLite aggregates rows in the order its subquery gives them
            ordered = select(sub.c.item).order_by(sub.c.at).subquery("ordered")
            aggregate = select(func.json_group_array(func.json(ordered.c.item)))
            return aggregate.scalar_subquery()
        # ARRAY(subquery) in order, not json_agg(... ORDER BY): no aggregate and no sort state
        # for each mission's few items (0.32 -> 0.19 ms of the backend's CPU for a page's
        # skills); an empty array gives [].
        in_order = select(sub.c.item).order_by(sub.c.at).scalar_subquery()
        return func.array_to_json(func.array(in_order))

    def moment(self, column: Any) -> ColumnElement[Any]:
        """A datetime as `datetime.isoformat()` writes an aware UTC one."""
        if self.sqlite:
            # SQLAlchemy keeps "YYYY-MM-DD HH:MM:SS.ffffff" (naive UTC) on SQLite.
            micro = func.substr(column, 21, 6)
            return case(
                (column.is_(None), null()),
                else_=func.replace(func.substr(column, 1, 19), " ", "T")
                + case((micro.in_(["", "000000"]), ""), else_="." + micro)
                + "+00:00",
            )
        utc = func.timezone("UTC", column)
        return case(
            (column.is_(None), null()),
            else_=func.to_char(utc, 'YYYY-MM-DD"T"HH24:MI:SS')
            + case(
                (func.extract("microseconds", utc) % 1000000 == 0, ""),
                else_="." + func.to_char(utc, "US"),
            )
            + "+00:00",
        )

    def boolean(self, column: Any) -> ColumnElement[Any]:
        if not self.sqlite:
            return column  # type: ignore[no-any-return]
        return case(
            (column.is_(None), null()),
            (column != 0, func.json("true")),
            else_=func.json("false"),
        )

    def number(self, column: Any) -> ColumnElement[Any]:
        if not self.sqlite:
            return column  # type: ignore[no-any-return]
        return case((column.is_(None), null()), else_=func.json(func.printf("%!.17g", column)))

    def embedded(self, column: Any) -> ColumnElement[Any]:
        """A JSON column's value, as JSON."""
        return func.json(column) if self.sqlite else column

    # -- the golden record: JSON text kept in missions.golden ------------------------------------

    def _doc(self, golden: Any) -> Any:
        return golden if self.sqlite else cast(golden, JSON)

    def golden_scalar(self, golden: Any, name: str) -> ColumnElement[Any]:
        if self.sqlite:
            return func.json_extract(golden, f"$.{name}")
        return func.json_extract_path_text(self._doc(golden), name)

    def _item(self, doc: Any, path: list[str], kind: str) -> ColumnElement[Any]:
        if kind == "literal":
            return literal(path[-1], String)
        number = kind == "number"
        if self.sqlite:
            where = "$." + ".".join(path)
            value = func.json_extract(doc, where)
            return self.number(value) if number else value
        if number:
            return func.json_extract_path(doc, *path)
        return func.json_extract_path_text(doc, *path)

    def golden_object(
        self, golden: Any, name: str, keys: list[tuple[str, str, str]]
    ) -> ColumnElement[Any]:
        """The object under `name`, projected to `keys` (response key, attribute, and "text",
        "number" or "literal": the attribute is the value); NULL when it is null."""
        doc = self._doc(golden)
        if self.sqlite:
            is_null = func.json_type(doc, f"$.{name}") == "null"
        else:
            is_null = func.json_typeof(func.json_extract_path(doc, name)) == "null"
        obj = self.object([(key, self._item(doc, [name, attr], num)) for key, attr, num in keys])
        return case((is_null, null()), else_=obj)

    def golden_list(
        self, golden: Any, name: str, keys: list[tuple[str, str, str]]
    ) -> ColumnElement[Any]:
        """The array of objects under `name`, each projected to `keys`, in its order."""
        if self.sqlite:
            each = func.json_each(golden, f"$.{name}").table_valued("key", "value")
            item = self.object(
                [(key, self._item(each.c.value, [attr], num)) for key, attr, num in keys]
            )
            inner = select(item.label("item"), each.c.key.label("at"))
            return self.array(inner)
        elements = (
            func.json_array_elements(func.json_extract_path(self._doc(golden), name))
            .table_valued("value", with_ordinality="at")
            .render_derived()
        )
        item = self.object(
            [(key, self._item(elements.c.value, [attr], num)) for key, attr, num in keys]
        )
        return self.array(select(item.label("item"), elements.c.at.label("at")))
