"""The cost model: what an operation may cost to run, computed from its document before it runs.

An operation costing more than HUB_MAX_COST is refused with COST_LIMIT_EXCEEDED
(schema/hardening.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    get_operation_ast,
    is_composite_type,
    is_list_type,
    value_from_ast_untyped,
)

from schema.limits import fragments as _fragments

__all__ = ["operation_cost"]


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any],
    page_size: int,
) -> int:
    """What an operation may cost to run, before running it.

    A scalar or enum field costs 0; an object field costs 1 plus its selection; a list costs
    its length times that. A field that takes `first` is a page of `first` items (its value, a
    variable's, the argument's default, else the default page size, HUB_PAGE_SIZE_DEFAULT).
    A list's length is its own `first`; else the `first` of the field just above it, when that
    field is not a list (a Relay connection's `edges` and `nodes`, or OrganizationPage's
    `nodes`, are the page asked for above them); else the default page size. Introspection
    fields cost 0 (graphql-core bounds their depth). A fragment costs as often as it is spread.

        missions(first: 50) { edges { node { title locations { city } } } }
        = 1 × (1 + 50 × (1 + 1 × (1 + 0 + 20 × (1 + 0)))) = 1101
    """
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    fragments = _fragments(document)
    values: dict[str, Any] = {
        definition.variable.name.value: value_from_ast_untyped(definition.default_value)
        for definition in operation.variable_definitions or ()
        if definition.default_value is not None
    }
    values.update(variables)
    memo: dict[tuple[str, int | None], int] = {}

    def first_of(node: FieldNode, field: GraphQLField) -> int | None:
        if "first" not in field.args:
            return None
        value = field.args["first"].default_value
        for argument in node.arguments or ():
            if argument.name.value == "first":
                if isinstance(argument.value, VariableNode):
                    value = values.get(argument.value.name.value)
                else:
                    value = value_from_ast_untyped(argument.value)
        if isinstance(value, int) and not isinstance(value, bool):
            return max(0, value)
        return page_size

    def selections(selection_set: SelectionSetNode, parent: Any, page: int | None) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += field_cost(selection, parent, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = schema.get_type(condition.name.value) if condition else parent
                total += selections(selection.selection_set, inner, page)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if (name, page) not in memo:
                    memo[(name, page)] = 0  # cycles are refused by validation; stop anyway
                    fragment = fragments.get(name)
                    if fragment is not None:
                        inner = schema.get_type(fragment.type_condition.name.value)
                        memo[(name, page)] = selections(fragment.selection_set, inner, page)
                total += memo[(name, page)]
        return total

    def field_cost(node: FieldNode, parent: GraphQLNamedType | None, page: int | None) -> int:
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        field = parent.fields.get(node.name.value)
        if field is None or node.selection_set is None:
            return 0  # __typename and introspection, or a leaf
        named = get_named_type(field.type)
        if not is_composite_type(named):
            return 0
        first = first_of(node, field)
        if is_list_type(get_nullable_type(field.type)):
            length = first if first is not None else page if page is not None else page_size
            return length * (1 + selections(node.selection_set, named, None))
        return 1 + selections(node.selection_set, named, first)

    return selections(operation.selection_set, root, None)
