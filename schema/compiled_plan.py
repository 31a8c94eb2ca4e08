"""The compiled read path's planner: which root fields of a query document one SQL statement
answers (schema/compiled.py answers them), and the document the generic executor runs for the
others (schema/compiled_assembly.py).

Each root field `missions` whose selection the statement can build (hub.storage.compiled_search
.COVERED) becomes a projection (`Connection`); any other root field, or a `missions` the
statement cannot build, is for the generic executor, with the reason its metric counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_operation_ast,
)

from hub.storage.compiled_search import COVERED, Field
from schema.compiled_assembly import prune

__all__ = ["Connection", "Plan", "Unplanned", "plan_document"]

_TYPE_NAMES = {
    "organization": "Organization",
    "partner": "Partner",
    "locations": "Location",
    "commitment": "Commitment",
    "places": "Places",
    "causes": "CauseInfo",
    "skills": "Skill",
}


class Unplanned(Exception):
    """The document, or this request of it, is not for the compiled path; the reason is a
    metric label."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


@dataclass(frozen=True, slots=True)
class Connection:
    """One root field `missions`: its arguments as sent, and what its selection asks for."""

    key: str
    node: FieldNode
    parts: tuple[tuple[str, str, Any], ...]  # (response key, part, sub-parts or projection)
    projection: tuple[Field, ...] | None
    total_count: bool
    event_cursor: bool
    facets: tuple[tuple[str, tuple[Field, ...]], ...]  # (dimension, projection), once each
    cursors: str  # which results' cursors the selection shows: "all", "ends" or "none"


@dataclass(frozen=True, slots=True)
class Plan:
    document: DocumentNode
    operation: OperationDefinitionNode
    roots: tuple[tuple[str, Connection | None], ...]  # compiled; None: the root `__typename`
    generic: tuple[tuple[str, str], ...] = ()  # (response key, reason; "" for `__typename`)
    keys: tuple[str, ...] = ()  # a mixed plan's root response keys, in the document's order
    rest: str | None = None  # a mixed plan's document, its compiled root fields blanked


def plan_document(
    query: str, document: DocumentNode, operation_name: str | None, schema: GraphQLSchema
) -> Plan:
    """The plan of a document that ran without errors on the generic executor; raises
    Unplanned when nothing of it is for the compiled path."""
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation is not OperationType.QUERY:
        raise Unplanned("not_a_query")
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    if operation.directives:
        raise Unplanned("directives")
    roots: list[tuple[str, Connection | None]] = []
    generic: list[tuple[str, str]] = []
    nodes = _fields(operation.selection_set, fragments, "Query")
    for node in nodes:
        key = node.alias.value if node.alias else node.name.value
        if node.name.value == "__typename":
            roots.append((key, None))
        elif node.name.value == "missions":
            try:
                roots.append((key, _connection(key, node, fragments)))
            except Unplanned as exc:  # this root field alone goes to the generic executor
                generic.append((key, exc.reason))
        else:
            generic.append((key, f"root_{node.name.value}"))
    if not generic:
        return Plan(document, operation, tuple(roots))
    compiled = tuple((k, c) for k, c in roots if c is not None)
    generic += [(k, "") for k, c in roots if c is None]  # the executor answers those
    if not compiled:  # nothing to compile: the generic executor answers all of it
        return Plan(document, operation, (), tuple(generic))
    rest = prune(query, document, operation, (c.node for _, c in compiled), schema)
    if rest is None:
        raise Unplanned("prune")
    keys = tuple(n.alias.value if n.alias else n.name.value for n in nodes)
    return Plan(document, operation, compiled, tuple(generic), keys, rest)


def _connection(
    key: str, node: FieldNode, fragments: dict[str, FragmentDefinitionNode]
) -> Connection:
    parts: list[tuple[str, str, Any]] = []
    projection: tuple[Field, ...] | None = None
    flags = {"totalCount": False, "eventCursor": False}
    facets: list[tuple[str, tuple[Field, ...]]] = []
    for sub in _fields(node.selection_set, fragments, "MissionConnection"):
        name = sub.name.value
        out = sub.alias.value if sub.alias else name
        if name in ("totalCount", "eventCursor"):
            flags[name] = True
            parts.append((out, name, None))
        elif name == "__typename":
            parts.append((out, name, "MissionConnection"))
        elif name == "pageInfo":
            names = [
                (s.alias.value if s.alias else s.name.value, s.name.value)
                for s in _fields(sub.selection_set, fragments, "PageInfo")
            ]
            parts.append((out, name, tuple(names)))
        elif name == "nodes":
            fields = _mission(sub.selection_set, fragments)
            projection = _same(projection, fields)
            parts.append((out, name, None))
        elif name == "edges":
            edge: list[tuple[str, str]] = []
            for e in _fields(sub.selection_set, fragments, "MissionEdge"):
                e_out = e.alias.value if e.alias else e.name.value
                if e.name.value == "node":
                    fields = _mission(e.selection_set, fragments)
                    projection = _same(projection, fields)
                edge.append((e_out, e.name.value))
            parts.append((out, name, tuple(edge)))
        elif name == "facets":
            dimensions: list[tuple[str, str, tuple[Field, ...]]] = []
            for dim in _fields(sub.selection_set, fragments, "MissionFacets"):
                d_out = dim.alias.value if dim.alias else dim.name.value
                if dim.name.value == "__typename":
                    dimensions.append((d_out, "__typename", ()))
                    continue
                counts = tuple(
                    Field(
                        c.alias.value if c.alias else c.name.value,
                        c.name.value,
                        (Field("FacetCount", ""),) if c.name.value == "__typename" else (),
                    )
                    for c in _fields(dim.selection_set, fragments, "FacetCount")
                )
                dimensions.append((d_out, dim.name.value, counts))
            facets += [(d, counts) for _, d, counts in dimensions if d != "__typename"]
            parts.append((out, name, tuple(dimensions)))
        else:
            raise Unplanned(f"connection_{name}")
    edge_cursor = any(
        name == "cursor" for _, part, sub in parts if part == "edges" for _, name in sub
    )
    page_cursor = any(
        name in ("startCursor", "endCursor")
        for _, part, sub in parts
        if part == "pageInfo"
        for _, name in sub
    )
    return Connection(
        key,
        node,
        tuple(parts),
        projection,
        flags["totalCount"],
        flags["eventCursor"],
        tuple(dict.fromkeys(facets)),
        "all" if edge_cursor else "ends" if page_cursor else "none",
    )


def _mission(
    selection: SelectionSetNode | None, fragments: dict[str, FragmentDefinitionNode]
) -> tuple[Field, ...]:
    out: list[Field] = []
    for node in _fields(selection, fragments, "Mission"):
        key = node.alias.value if node.alias else node.name.value
        if node.name.value == "__typename":
            out.append(Field(key, "__typename", (Field("Mission", ""),)))
            continue
        name = _snake(node.name.value)
        if name not in COVERED:
            raise Unplanned(f"mission_{node.name.value}")
        allowed = COVERED[name]
        if allowed is None:
            out.append(Field(key, name))
            continue
        type_name = _TYPE_NAMES[name]
        subs: list[Field] = []
        for s in _fields(node.selection_set, fragments, type_name):
            s_key = s.alias.value if s.alias else s.name.value
            if s.name.value == "__typename":
                subs.append(Field(s_key, "__typename", (Field(type_name, ""),)))
                continue
            s_name = _snake(s.name.value)
            if s_name not in allowed:
                raise Unplanned(f"{type_name.lower()}_{s.name.value}")
            subs.append(Field(s_key, s_name))
        out.append(Field(key, name, tuple(subs)))
    return tuple(out)


def _same(before: tuple[Field, ...] | None, after: tuple[Field, ...]) -> tuple[Field, ...]:
    if before is not None and before != after:
        raise Unplanned("two_projections")
    return after


def _fields(
    selection: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    type_name: str,
) -> list[FieldNode]:
    """The fields of a selection, fragments flattened; a repeated response key is merged by
    graphql-core, which the plan does not do: such a document stays on the generic path."""
    out: list[FieldNode] = []
    seen: set[str] = set()

    def walk(sel: SelectionSetNode | None) -> None:
        for node in sel.selections if sel is not None else ():
            if node.directives:
                raise Unplanned("directives")
            if isinstance(node, FieldNode):
                key = node.alias.value if node.alias else node.name.value
                if key in seen:
                    raise Unplanned("repeated_key")
                seen.add(key)
                out.append(node)
            elif isinstance(node, FragmentSpreadNode):
                fragment = fragments[node.name.value]
                if fragment.type_condition.name.value != type_name:
                    raise Unplanned("fragment_type")
                walk(fragment.selection_set)
            elif isinstance(node, InlineFragmentNode):
                if node.type_condition and node.type_condition.name.value != type_name:
                    raise Unplanned("fragment_type")
                walk(node.selection_set)

    walk(selection)
    return out
