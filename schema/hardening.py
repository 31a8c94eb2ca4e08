"""The strawberry extension that parses and validates each operation with the hub's limits.

It applies schema/limits.py (depth, aliases, repeats, tokens, introspection), schema/cost.py
(HUB_MAX_COST) and trusted documents, on every transport: HTTP, SSE, graphql-transport-ws and
graphql-ws all run operations through the schema. Every error it answers has its
`extensions.code`; a refusal of the whole document makes an HTTP response 400 (403 for a
document a trusted-documents client may not run).
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from functools import lru_cache
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse, validate
from graphql import ExecutionResult as GraphQLExecutionResult
from starlette.responses import Response
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from hub.settings import Settings
from schema.cost import operation_cost
from schema.errors import with_code
from schema.limits import (
    LIMIT_CODES,
    Limits,
    limit_error,
    may_introspect,
    parse_error,
    validation_error,
    without_suggestions,
)

__all__ = ["NOT_IN_LIST", "Hardening", "hardening", "parse_document"]

NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"
NOT_IN_LIST_MESSAGE = (
    "this client may only run the operations registered for it "
    "(entraide-hub documents add); this one is not registered"
)

# Shared by every schema and request, like strawberry's ParserCache and ValidationCache; keyed
# by the text and the limit (parse), or by the schema, the document and the rules (validate).
# Only documents of up to 4 KiB are kept (real operations are well under): a document of
# 5000 tokens is 2 MB of AST, and 512 of them, sent on purpose, would be a gigabyte.
CACHED_DOCUMENT_CHARS = 4096
_parse = lru_cache(maxsize=128)(parse)
_VALIDATED_MAX = 256
# Validation results by the identity of the (cached, so shared) parsed document, the schema and
# the rules: hashing a DocumentNode walks its whole tree, which cost more than the rest of a
# `{ __typename }` request. The value keeps the document alive, so its id is never reused.
_validated: OrderedDict[tuple[int, int, int, int], tuple[DocumentNode, list[GraphQLError]]] = (
    OrderedDict()
)


def _validate_cached(
    schema: GraphQLSchema, document: DocumentNode, rules: Any, validation_rules: Any
) -> list[GraphQLError]:
    key = (id(schema), id(document), id(rules), id(validation_rules))
    hit = _validated.get(key)
    if hit is not None and hit[0] is document:
        _validated.move_to_end(key)
        return hit[1]
    errors = list(validate(schema, document, rules)) or list(
        validate_document(schema, document, validation_rules)
    )
    _validated[key] = (document, errors)
    if len(_validated) > _VALIDATED_MAX:
        _validated.popitem(last=False)
    return errors


def parse_options(settings: Settings) -> dict[str, Any]:
    # A partner's large body may hold a large document: refused before lexing.
    return {"max_tokens": settings.max_tokens, "max_source_length": settings.max_body_bytes}


def parse_document(query: str, settings: Settings) -> DocumentNode:
    """The document, parsed within the limits (cached as the operation's own parse is);
    raises GraphQLError."""
    parser = _parse if len(query) <= CACHED_DOCUMENT_CHARS else parse
    return parser(query, **parse_options(settings))


class Hardening(SchemaExtension):
    """The hub's parse and validate steps (cached), with the limits; one instance an operation.

    It replaces strawberry's ParserCache and ValidationCache, because the limits must run
    before the rest: the parser stops at the token limit, and depth, aliases, repeats and
    introspection are checked before the full validation, whose cost they bound.
    """

    def __init__(self, limits: Limits) -> None:
        self.limits = limits

    def _open(self) -> bool:
        caller = getattr(self.execution_context.context, "caller", None)
        return may_introspect(self.limits.settings, caller)

    def _refused(self, status: int) -> None:
        response = getattr(self.execution_context.context, "response", None)
        if isinstance(response, Response):
            response.status_code = status

    async def _untrusted(self) -> GraphQLError | None:
        """A client bound to trusted documents runs only those, whatever the transport."""
        context = self.execution_context.context
        caller = getattr(context, "caller", None)
        if caller is None or not caller.trusted_documents_only:
            return None
        admits = getattr(context, "admits_document", None)
        if admits is not None and await admits(caller, self.execution_context.query or ""):
            return None
        return limit_error(NOT_IN_LIST, NOT_IN_LIST_MESSAGE)

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        settings = self.limits.settings
        context.parse_options.update(parse_options(settings))  # type: ignore[typeddict-item]
        yield
        result = context.result
        if result is None or not result.errors:
            return
        parsed = context.graphql_document is not None
        errors = result.errors if parsed else [parse_error(e) for e in result.errors]
        if not self._open():  # cached validation errors are shared: replace, never mutate
            errors = [without_suggestions(error) for error in errors]
        errors = [_coded(error, result.data is None) for error in errors]
        result.errors = errors
        codes = {(e.extensions or {}).get("code") for e in errors}
        if NOT_IN_LIST in codes:
            self._refused(403)
        elif not parsed or codes & LIMIT_CODES:
            self._refused(400)

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query
        if context.graphql_document is None and query:
            parser = _parse if len(query) <= CACHED_DOCUMENT_CHARS else parse
            # On failure strawberry parses again, inside the try that turns the error into a
            # result (a hook that raises would break streamed operations); on_operation then
            # gives the error its code.
            with contextlib.suppress(GraphQLError):
                context.graphql_document = parser(query, **context.parse_options)
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.pre_execution_errors is None:
            untrusted = await self._untrusted()
            if untrusted is not None:
                context.pre_execution_errors = [untrusted]
            else:
                schema = context.schema._schema
                rules = self.limits.rules if self._open() else self.limits.closed_rules
                if len(context.query or "") <= CACHED_DOCUMENT_CHARS:
                    errors = _validate_cached(schema, document, rules, context.validation_rules)
                else:
                    errors = list(validate(schema, document, rules)) or list(
                        validate_document(schema, document, context.validation_rules)
                    )
                context.pre_execution_errors = [validation_error(e) for e in errors]
        yield

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        settings = self.limits.settings
        if context.graphql_document is not None and context.result is None:
            cost = operation_cost(
                context.schema._schema,
                context.graphql_document,
                context.operation_name,
                context.variables or {},
                settings.page_size_default,
            )
            if cost > settings.max_cost:
                context.result = GraphQLExecutionResult(
                    data=None,
                    errors=[
                        limit_error(
                            "COST_LIMIT_EXCEEDED",
                            f"the operation would cost {cost}; at most {settings.max_cost} "
                            "is allowed (ask for smaller pages with `first`)",
                        )
                    ],
                )
        yield


def _coded(error: GraphQLError, request_error: bool) -> GraphQLError:
    """Errors that reached here without a code: a request error (no path, nothing ran) is the
    caller's input, such as a variable of the wrong type."""
    if (error.extensions or {}).get("code") or error.path is not None or not request_error:
        return error
    return with_code(error, "BAD_USER_INPUT")


def hardening(settings: Settings) -> Any:
    """The extension factory for build_schema: one instance an operation, rules built once."""
    limits = Limits(settings)
    return lambda: Hardening(limits)
