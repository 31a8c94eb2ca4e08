"""Per-root-field fallback of the compiled read path: a document whose root fields are partly
covered answers the covered `missions` fields from their statements and the others on the
generic executor, in one response.

The generic part runs the document's own text with the compiled root fields blanked out
(`prune`): every character of a removed field, fragment or variable definition becomes a space,
line breaks kept, so that what remains parses to the same nodes at the same lines and columns,
and the generic part's errors carry the locations and paths the whole document's would. The
pruned text is made once per plan (schema/compiled.py keeps it) and checked against the schema
then; a document it cannot prune so (a comment inside its variable list, a fragment left empty
for another operation) stays on the generic executor whole, with the reason `prune`.

The answer is assembled in the document's response-key order (`Fields.assemble`): the compiled
fields' JSON passed through as bytes (orjson.Fragment), the generic part's data around them. A
non-null root field that failed makes the generic part's `data` null, and the answer's too, as
GraphQL requires; the generic part's errors are the answer's, unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    Node,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_operation_ast,
    parse,
    validate,
    visit,
)
from graphql.language import Visitor

__all__ = ["Assembled", "Fields", "encode", "prune"]

_BLANK = " \t\r\n,\ufeff"  # what GraphQL ignores between tokens (comments aside)


class Assembled(dict[str, Any]):
    """A response's `data` with compiled fields in it (orjson.Fragment values): `encode`."""


@dataclass(frozen=True, slots=True)
class Fields:
    """A mixed document's request: the compiled fields' JSON, and the text the generic
    executor runs for the rest."""

    rest: str  # the document with only the generic root fields
    keys: tuple[str, ...]  # every root field's response key, in the document's order
    parts: Mapping[str, bytes]  # the compiled root fields' JSON, by response key

    def assemble(self, data: Mapping[str, Any] | None) -> Assembled | None:
        """The whole answer's data from the generic part's (None stays None: a non-null
        root field failed, or nothing ran)."""
        if data is None:
            return None
        out = Assembled()
        for key in self.keys:
            part = self.parts.get(key)
            out[key] = orjson.Fragment(part) if part is not None else data.get(key)
        return out


def encode(response: object) -> bytes:
    """The response's JSON, the compiled fields' bytes passed through."""
    return orjson.dumps(response)


def prune(
    query: str,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    removed: Iterable[FieldNode],
    schema: GraphQLSchema,
) -> str | None:
    """The document's text with the `removed` root fields blanked, and whatever only they used
    (fragments, variable definitions); None when that does not leave a valid document."""
    chars = list(query)
    gone = {id(node) for node in removed}
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    emptied: dict[str, bool] = {}

    def blank(node: Node) -> None:
        assert node.loc is not None
        _blank(chars, node.loc.start, node.loc.end)

    def strip(selection: SelectionSetNode) -> bool:
        """Blank the removed fields of a root-level selection; True when nothing is left."""
        empty = True
        for node in selection.selections:
            if isinstance(node, FieldNode):
                if id(node) in gone:
                    blank(node)
                else:
                    empty = False
            elif isinstance(node, InlineFragmentNode):
                if strip(node.selection_set):
                    blank(node)
                else:
                    empty = False
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                if name not in emptied:
                    emptied[name] = strip(fragments[name].selection_set)
                if emptied[name]:
                    blank(node)  # the definition goes with the unused ones below
                else:
                    empty = False
        return empty

    try:
        if strip(operation.selection_set):
            return None  # nothing left for the generic executor
        text = _unused(chars, operation)
        if text is None or validate(schema, parse(text)):
            return None
    except (GraphQLError, AssertionError, KeyError):
        return None
    return text


def _unused(chars: list[str], operation: OperationDefinitionNode) -> str | None:
    """Blank the fragments and variable definitions nothing uses any more, until none is left;
    the text, or None."""
    name = operation.name.value if operation.name else None
    for _ in range(len(chars)):
        text = "".join(chars)
        document = parse(text)
        definitions = document.definitions
        fragments = {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
        used: set[str] = set()
        for op in definitions:
            if isinstance(op, OperationDefinitionNode):
                used |= _spread(op, fragments)
        stale: list[Node] = [d for n, d in fragments.items() if n not in used]
        target = get_operation_ast(document, name)
        if target is None:
            return None
        defined = target.variable_definitions or ()
        names = _variables([target, *(fragments[n] for n in _spread(target, fragments))])
        unused = [d for d in defined if d.variable.name.value not in names]
        if not stale and not unused:
            return text
        if unused and len(unused) == len(defined):
            if not _blank_parentheses(chars, defined):
                return None
        else:
            stale += unused
        for node in stale:
            assert node.loc is not None
            _blank(chars, node.loc.start, node.loc.end)
    return None


def _spread(node: Node, fragments: Mapping[str, FragmentDefinitionNode]) -> set[str]:
    """The fragments a node spreads, directly or through other fragments."""
    found: set[str] = set()
    todo = [node]
    while todo:
        for name in _names(todo.pop(), FragmentSpreadNode):
            if name not in found and name in fragments:
                found.add(name)
                todo.append(fragments[name])
    return found


def _variables(nodes: Sequence[Node]) -> set[str]:
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, OperationDefinitionNode):  # not its definitions' own variables
            for part in (node.selection_set, *(node.directives or ())):
                names |= _names(part, VariableNode)
        else:
            names |= _names(node, VariableNode)
    return names


def _names(node: Node, kind: type[FragmentSpreadNode] | type[VariableNode]) -> set[str]:
    found: set[str] = set()

    class Names(Visitor):
        def enter(self, node: Node, *_: Any) -> None:
            if isinstance(node, kind):
                found.add(node.name.value)

    visit(node, Names())
    return found


def _blank_parentheses(chars: list[str], defined: Sequence[Node]) -> bool:
    """Blank an operation's whole variable list, parentheses included."""
    first, last = defined[0].loc, defined[-1].loc
    assert first is not None and last is not None
    start = first.start - 1
    while start >= 0 and chars[start] in _BLANK:
        start -= 1
    end = last.end
    while end < len(chars) and chars[end] in _BLANK:
        end += 1
    if start < 0 or end >= len(chars) or chars[start] != "(" or chars[end] != ")":
        return False  # a comment in the way: not pruned
    _blank(chars, start, end + 1)
    return True


def _blank(chars: list[str], start: int, end: int) -> None:
    for i in range(start, end):
        if chars[i] not in "\r\n":
            chars[i] = " "
