"""The limits on a GraphQL document, checked before it runs: depth, aliases, repeated fields,
tokens, and who may introspect (HUB_INTROSPECTION: `authenticated`, `always` or `never`;
`__typename` is always allowed). schema/hardening.py applies them; each refusal has its code:

    code                          when
    DEPTH_LIMIT_EXCEEDED          fields nested deeper than HUB_MAX_DEPTH (or an introspection
                                  query deeper than graphql-core's MaxIntrospectionDepthRule)
    ALIAS_LIMIT_EXCEEDED          more aliases than HUB_MAX_ALIASES in the document
    REPEAT_LIMIT_EXCEEDED         one field repeated over 100 times in a selection set
    TOKEN_LIMIT_EXCEEDED          more lexical tokens than HUB_MAX_TOKENS (the parser stops)
    REQUEST_TOO_LARGE             a document over HUB_MAX_BODY_BYTES characters
    INTROSPECTION_DISABLED        __schema, __type or _service for a caller not allowed
    GRAPHQL_PARSE_FAILED          a document that does not parse
    GRAPHQL_VALIDATION_FAILED     a document that does not validate against the schema
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)

from hub.auth.caller import Caller
from hub.settings import Settings
from schema.errors import with_code, with_message

__all__ = [
    "ANONYMOUS_FIELDS",
    "LIMIT_CODES",
    "Limits",
    "anonymous_may_run",
    "fragments",
    "limit_error",
    "may_introspect",
    "parse_error",
    "validation_error",
    "without_suggestions",
]

# Refusals of a whole document, answered with status 400.
LIMIT_CODES = frozenset(
    {
        "DEPTH_LIMIT_EXCEEDED",
        "ALIAS_LIMIT_EXCEEDED",
        "TOKEN_LIMIT_EXCEEDED",
        "COST_LIMIT_EXCEEDED",
        "REPEAT_LIMIT_EXCEEDED",
        "INTROSPECTION_DISABLED",
        "REQUEST_TOO_LARGE",
    }
)
MAX_REPEATS = 100
_TOKENS = re.compile(r"Document contains more than (\d+) tokens")
_LENGTH = re.compile(r"Source contains more than (\d+) code points")
_SUGGESTION = re.compile(r"\s*Did you mean .*\?\s*$", re.DOTALL)


def may_introspect(settings: Settings, caller: Caller | None) -> bool:
    """Whether the caller may read the schema (introspection, suggestions in messages)."""
    return settings.introspection == "always" or (
        settings.introspection == "authenticated" and caller is not None
    )


def limit_error(code: str, message: str, nodes: Any = None) -> GraphQLError:
    return GraphQLError(message, nodes, extensions={"code": code})


def _depth_rule(max_depth: int) -> type[ValidationRule]:
    class DepthLimit(ValidationRule):
        """Fields nested at most `max_depth` deep; introspection is bounded by graphql-core's
        MaxIntrospectionDepthRule, so its subtree is not counted (GraphiQL's query is deep)."""

        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            document = context.document
            self.fragments = fragments(document)
            self.seen: dict[tuple[str, int], bool] = {}
            for definition in document.definitions:
                if isinstance(definition, OperationDefinitionNode) and self.too_deep(
                    definition.selection_set, 1
                ):
                    name = definition.name.value if definition.name else "anonymous"
                    context.report_error(
                        limit_error(
                            "DEPTH_LIMIT_EXCEEDED",
                            f"operation {name!r} nests fields more than {max_depth} levels "
                            f"deep; at most {max_depth} are allowed",
                            definition,
                        )
                    )

        def too_deep(self, selection_set: SelectionSetNode, level: int) -> bool:
            """Stops at the limit, so recursion is bounded by `max_depth` whatever the input."""
            if level > max_depth:
                return True
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    inner = selection.selection_set
                    counted = not selection.name.value.startswith("__")
                    if inner is not None and counted and self.too_deep(inner, level + 1):
                        return True
                elif isinstance(selection, InlineFragmentNode):
                    if self.too_deep(selection.selection_set, level):
                        return True
                elif isinstance(selection, FragmentSpreadNode):
                    key = (selection.name.value, level)
                    if key not in self.seen:
                        self.seen[key] = False  # a cycle (reported by another rule) ends here
                        fragment = self.fragments.get(key[0])
                        self.seen[key] = fragment is not None and self.too_deep(
                            fragment.selection_set, level
                        )
                    if self.seen[key]:
                        return True
            return False

    return DepthLimit


def _alias_rule(max_aliases: int) -> type[ValidationRule]:
    class AliasLimit(ValidationRule):
        """Aliases written in the document, fragments included."""

        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.count = 0

        def enter_field(self, node: FieldNode, *_args: Any) -> None:
            if node.alias:
                self.count += 1

        def leave_document(self, *_args: Any) -> None:
            if self.count > max_aliases:
                self.report_error(
                    limit_error(
                        "ALIAS_LIMIT_EXCEEDED",
                        f"the document has {self.count} aliases; at most {max_aliases} are allowed",
                    )
                )

    return AliasLimit


class _NoIntrospection(ValidationRule):
    reason = ""

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        name = node.name.value
        root = self.context.get_parent_type() is self.context.schema.query_type
        if name in ("__schema", "__type") or (name == "_service" and root):
            self.report_error(
                limit_error("INTROSPECTION_DISABLED", f"{name}: introspection {self.reason}", node)
            )


class NoIntrospectionWithoutToken(_NoIntrospection):
    reason = "needs authentication: send a bearer token (OAuth 2.0 client credentials)"


class NoIntrospectionAtAll(_NoIntrospection):
    reason = "is disabled on this hub; the SDL is published in the hub's repository"


def fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def _repeat_rule(max_repeats: int) -> type[ValidationRule]:
    class RepeatLimit(ValidationRule):
        """graphql-core compares every pair of same-named fields of a selection set: a thousand
        `__typename` in a row take a second to validate. Refused before that comparison."""

        def enter_selection_set(self, node: SelectionSetNode, *_args: Any) -> None:
            counts: Counter[str] = Counter()
            pending = [node]
            while pending:
                for selection in pending.pop().selections:
                    if isinstance(selection, FieldNode):
                        counts[(selection.alias or selection.name).value] += 1
                    elif isinstance(selection, InlineFragmentNode):
                        pending.append(selection.selection_set)
            name, count = counts.most_common(1)[0] if counts else ("", 0)
            if count > max_repeats:
                self.report_error(
                    limit_error(
                        "REPEAT_LIMIT_EXCEEDED",
                        f"{name!r} is selected {count} times in one selection set; "
                        f"at most {max_repeats} are allowed",
                        node,
                    )
                )

    return RepeatLimit


class Limits:
    """Rule classes built once per schema, so that the validation caches keep working."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.rules: tuple[type[ValidationRule], ...] = (
            _depth_rule(settings.max_depth),
            _alias_rule(settings.max_aliases),
            _repeat_rule(MAX_REPEATS),
        )
        no_introspection = (
            NoIntrospectionWithoutToken
            if settings.introspection == "authenticated"
            else NoIntrospectionAtAll
        )
        self.closed_rules = (*self.rules, no_introspection)


def parse_error(error: GraphQLError) -> GraphQLError:
    """graphql-core's parser limits, as the hub's refusals; other syntax errors, with a code."""
    if error.extensions:
        return error
    message, code = error.message, "GRAPHQL_PARSE_FAILED"
    tokens = _TOKENS.search(message)
    length = _LENGTH.search(message)
    if tokens:
        limit = tokens.group(1)
        message = f"the document has more than {limit} tokens; at most {limit} are allowed"
        code = "TOKEN_LIMIT_EXCEEDED"
    elif length:
        message = f"the document is over {length.group(1)} characters"
        code = "REQUEST_TOO_LARGE"
    elif "nested too deeply" in message:
        code = "DEPTH_LIMIT_EXCEEDED"
    return GraphQLError(message, None, error.source, error.positions, extensions={"code": code})


def validation_error(error: GraphQLError) -> GraphQLError:
    """A validation error with its code (a copy: cached validation errors are shared)."""
    if error.extensions and "code" in error.extensions:
        return error
    code = "GRAPHQL_VALIDATION_FAILED"
    if error.message.startswith("Maximum introspection depth exceeded"):
        code = "DEPTH_LIMIT_EXCEEDED"  # graphql-core's MaxIntrospectionDepthRule
    return with_code(error, code)


def without_suggestions(error: GraphQLError) -> GraphQLError:
    """The message without "Did you mean ...?", for callers who may not read the schema."""
    message = _SUGGESTION.sub("", error.message)
    return error if message == error.message else with_message(error, message)


# What a caller without a token may ask for: `__typename`, and introspection, which the
# introspection rule then allows or refuses. Anything else is refused before validation, so
# that no validation message tells an anonymous caller what the schema holds.
ANONYMOUS_FIELDS = frozenset({"__typename", "__schema", "__type", "_service"})


def anonymous_may_run(document: DocumentNode) -> bool:
    """Whether every root field of the document, fragments included, is in ANONYMOUS_FIELDS."""
    known = fragments(document)
    seen: set[str] = set()
    pending = [
        d.selection_set for d in document.definitions if isinstance(d, OperationDefinitionNode)
    ]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                if selection.name.value not in ANONYMOUS_FIELDS:
                    return False
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = known.get(name)
                if fragment is None:
                    return False
                if name not in seen:
                    seen.add(name)
                    pending.append(fragment.selection_set)
    return True
