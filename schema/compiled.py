"""The compiled read path: a search document seen before answers from one SQL statement.

A query that ran once on the generic executor without errors (so it parsed, validated and
passed every limit) is planned (schema/compiled_plan.py), keyed by the SHA-256 of its text and
its operation name: each root field `missions` whose selection the statement can build
(hub.storage.compiled_search.COVERED) becomes a projection. Later requests for that document
coerce their variables with graphql-core, convert the arguments with strawberry (the same
inputs the resolver gets), check the scope and the cost, and run one statement per root field;
the missions' JSON is the database's, passed through; the envelope around it (edges, cursors,
page info) is written here.

Whatever the planner does not cover answers on the generic executor, per root field, and says
why in `hub_compiled_reads_total{outcome="fallback", reason=...}`: another root field, a
`missions` whose selection the statement cannot build (facets, listings, a partner's mission
count...) or with directives in it. A document whose root fields are partly covered answers the
covered ones here and the others on the generic executor (schema/compiled_assembly.py, through
`answer_fields`); each compiled root field counts `outcome="compiled"`. What stays per document
(the whole document on the generic executor, counted once): not a query, directives or repeated
keys among the root fields, a document that cannot be pruned, and at request time the scope,
the variables, the cost, a cursor or filter the generic path refuses (it answers the error).
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import (
    GraphQLSchema,
    parse,
)
from graphql.execution.values import get_argument_values, get_variable_values
from strawberry.types.arguments import convert_arguments

from hub.auth.caller import READ, Caller
from hub.catalogue.filters import MissionFilter, MissionOrder
from hub.clock import Clock
from hub.errors import HubError
from hub.settings import Settings
from hub.storage.compiled_search import search_page
from hub.storage.read_pool import ReadPool
from hub.storage.repository import check_first
from schema.compiled_assembly import Fields
from schema.compiled_plan import Connection, Plan, Unplanned, plan_document
from schema.cost import operation_cost
from schema.inputs import to_filter

__all__ = ["CompiledReads", "Unplanned"]

log = logging.getLogger(__name__)

_PLANS = 512


@dataclass(frozen=True, slots=True)
class _Page:
    """What one root field asks for, its arguments converted."""

    filter: MissionFilter
    order: MissionOrder
    first: int
    after: str | None


class CompiledReads:
    def __init__(
        self,
        schema: Any,
        settings: Settings,
        pool: ReadPool,
        clock: Clock,
        on_outcome: Callable[[str, str], None],
        on_time: Callable[[], None],
    ) -> None:
        self.schema = schema
        self.graphql: GraphQLSchema = schema._schema
        self.settings = settings
        self.pool = pool
        self.clock = clock
        self.on_outcome = on_outcome
        self.on_time = on_time
        self.plans: OrderedDict[tuple[bytes, str | None], Plan | str] = OrderedDict()
        self.pages: OrderedDict[tuple[int, bytes], tuple[Plan, list[_Page | None]]] = OrderedDict()
        field = schema.get_type_by_name("Query").get_field("missions")
        self.arguments = field.arguments

    # -- planning ------------------------------------------------------------------------------

    def learn(self, query: str, operation_name: str | None) -> None:
        """Plan a document that has just run without errors on the generic executor."""
        key = (hashlib.sha256(query.encode()).digest(), operation_name)
        if key in self.plans:
            return
        try:
            planned: Plan | str = plan_document(query, parse(query), operation_name, self.graphql)
        except Unplanned as exc:
            planned = exc.reason
        self.plans[key] = planned
        if len(self.plans) > _PLANS:
            self.plans.popitem(last=False)

    # -- answering -----------------------------------------------------------------------------

    async def answer(
        self,
        query: str,
        operation_name: str | None,
        variables: dict[str, Any] | None,
        caller: Caller,
    ) -> bytes | None:
        """The answer's bytes, or None for the generic executor to answer."""
        plan = self.plans.get((hashlib.sha256(query.encode()).digest(), operation_name))
        if plan is None:
            return None
        if isinstance(plan, str):
            self.on_outcome("fallback", plan)
            return None
        if plan.generic:  # a mixed plan answers through answer_fields, from the executor
            if plan.rest is None:
                self._fell_back(plan)
            return None
        parts = await self._parts(plan, variables, caller)
        if parts is None:
            return None
        return b'{"data":{' + b",".join(orjson.dumps(k) + b":" + v for k, v in parts) + b"}}"

    async def answer_fields(
        self,
        query: str,
        operation_name: str | None,
        variables: dict[str, Any] | None,
        caller: Caller,
    ) -> Fields | None:
        """For a document whose root fields are partly covered: the compiled fields' JSON and
        the text the generic executor runs for the others; None: the whole document runs there."""
        plan = self.plans.get((hashlib.sha256(query.encode()).digest(), operation_name))
        if not isinstance(plan, Plan) or plan.rest is None:
            return None
        parts = await self._parts(plan, variables, caller)
        if parts is None:
            return None
        self._fell_back(plan)
        return Fields(plan.rest, plan.keys, dict(parts))

    def _fell_back(self, plan: Plan) -> None:
        for _, reason in plan.generic:
            if reason:
                self.on_outcome("fallback", reason)

    async def _parts(
        self, plan: Plan, variables: dict[str, Any] | None, caller: Caller
    ) -> list[tuple[str, bytes]] | None:
        """Each compiled root field's JSON, counted; None (counted) for the generic path."""
        try:
            parts = await self._run(plan, variables or {}, caller)
        except Unplanned as exc:
            self.on_outcome("fallback", exc.reason)
            return None
        except HubError:
            self.on_outcome("fallback", "refused_input")  # the generic path says why
            return None
        except Exception:  # a defect here must not fail a request the generic path answers
            log.exception("compiled read failed; answered by the generic executor")
            self.on_outcome("fallback", "error")
            return None
        for _ in parts:
            self.on_outcome("compiled", "")
        return parts

    async def _run(
        self, plan: Plan, variables: dict[str, Any], caller: Caller
    ) -> list[tuple[str, bytes]]:
        if not caller.has(READ):
            raise Unplanned("scope")
        pages = self._arguments(plan, variables)
        parts: list[tuple[str, bytes]] = []
        for (key, connection), page in zip(plan.roots, pages, strict=True):
            if connection is None or page is None:
                parts.append((key, b'"Query"'))
                continue
            parts.append((key, await self._page(connection, page, caller)))
        return parts

    def _arguments(self, plan: Plan, variables: dict[str, Any]) -> list[_Page | None]:
        """Each root field's page, from the variables: coerced by graphql-core, converted by
        strawberry as the resolver gets them, the cost checked; kept per variables."""
        key = (id(plan), orjson.dumps(variables, option=orjson.OPT_SORT_KEYS))
        kept = self.pages.get(key)
        if kept is not None and kept[0] is plan:
            return kept[1]
        coerced = get_variable_values(
            self.graphql, plan.operation.variable_definitions or (), variables
        )
        if isinstance(coerced, list):
            raise Unplanned("variables")
        cost = operation_cost(
            self.graphql,
            plan.document,
            plan.operation.name.value if plan.operation.name else None,
            variables,
            self.settings.page_size_default,
        )
        if cost > self.settings.max_cost:
            raise Unplanned("cost")
        field_def = self.graphql.query_type.fields["missions"]  # type: ignore[union-attr]
        settings = self.settings
        pages: list[_Page | None] = []
        for _, connection in plan.roots:
            if connection is None:
                pages.append(None)
                continue
            kwargs = convert_arguments(
                get_argument_values(field_def, connection.node, coerced),
                self.arguments,
                scalar_registry=self.schema.schema_converter.scalar_registry,
                config=self.schema.config,
            )
            size = check_first(
                kwargs.get("first"), settings.page_size_default, settings.page_size_max
            )
            order = MissionOrder(kwargs.get("order_by", MissionOrder.RECENT))
            pages.append(_Page(to_filter(kwargs.get("filter")), order, size, kwargs.get("after")))
        self.pages[key] = (plan, pages)
        if len(self.pages) > _PLANS:
            self.pages.popitem(last=False)
        return pages

    async def _page(self, connection: Connection, asked: _Page, caller: Caller) -> bytes:
        after = asked.after
        page = await search_page(
            self.pool,
            connection.projection,
            asked.filter,
            asked.order,
            asked.first,
            after,
            caller.policy,
            self.clock.now(),
            total_count=connection.total_count,
            event_cursor=connection.event_cursor,
            facets=connection.facets,
            cursors=connection.cursors,
            on_time=self.on_time,
        )
        out: list[bytes] = []
        for key, part, sub in connection.parts:
            name = orjson.dumps(key) + b":"
            if part == "totalCount":
                out.append(name + str(page.total_count).encode())
            elif part == "eventCursor":
                out.append(name + orjson.dumps(str(page.event_cursor)))
            elif part == "__typename":
                out.append(name + orjson.dumps(sub))
            elif part == "pageInfo":
                info = {
                    "hasNextPage": page.has_next_page,
                    "hasPreviousPage": after is not None,
                    "startCursor": page.cursors[0] if page.cursors else None,
                    "endCursor": page.cursors[-1] if page.cursors else None,
                    "__typename": "PageInfo",
                }
                out.append(name + orjson.dumps({k: info[n] for k, n in sub}))
            elif part == "facets":
                arrays = dict(zip(connection.facets, page.facets, strict=True))
                items = []
                for d_out, dim, counts in sub:
                    value = b'"MissionFacets"' if dim == "__typename" else arrays[dim, counts]
                    items.append(orjson.dumps(d_out) + b":" + _bytes(value))
                out.append(name + b"{" + b",".join(items) + b"}")
            elif part == "nodes":
                out.append(name + b"[" + ",".join(page.nodes).encode() + b"]")
            else:  # edges
                nodes = page.nodes or [""] * len(page.cursors)  # cursors only: no node asked
                edges = [_edge(sub, c, n) for c, n in zip(page.cursors, nodes, strict=True)]
                out.append(name + b"[" + b",".join(edges) + b"]")
        return b"{" + b",".join(out) + b"}"


def _edge(parts: tuple[tuple[str, str], ...], cursor: str, node: str) -> bytes:
    items = []
    for key, name in parts:
        if name == "cursor":
            value = orjson.dumps(cursor)
        elif name == "node":
            value = node.encode()
        else:
            value = b'"MissionEdge"'
        items.append(orjson.dumps(key) + b":" + value)
    return b"{" + b",".join(items) + b"}"


def _bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode()
