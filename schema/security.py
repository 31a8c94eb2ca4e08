"""Hardening of the GraphQL endpoint: document limits, who may introspect, and the HTTP rules.

Every refusal is GraphQL-shaped, `{"errors": [{"message", "extensions": {"code"}}]}`:

    code                          status  when
    DEPTH_LIMIT_EXCEEDED          400     fields nested deeper than HUB_MAX_DEPTH
    ALIAS_LIMIT_EXCEEDED          400     more aliases than HUB_MAX_ALIASES in the document
    REPEAT_LIMIT_EXCEEDED         400     one field repeated over 100 times in a selection set
    TOKEN_LIMIT_EXCEEDED          400     more lexical tokens than HUB_MAX_TOKENS (the parser stops)
    COST_LIMIT_EXCEEDED           400     an operation costing more than HUB_MAX_COST
    INTROSPECTION_DISABLED        400     __schema, __type or _service for a caller not allowed
    GRAPHQL_PARSE_FAILED          400     a document that does not parse
    REQUEST_TOO_LARGE             413/414 a body (or GET query string) over HUB_MAX_BODY_BYTES,
                                  HUB_MAX_PUSH_BODY_BYTES for a missions:write client; 400
                                  for a document over HUB_MAX_BODY_BYTES in such a body
    UNSUPPORTED_MEDIA_TYPE        415     a POST whose Content-Type is not application/json
    BATCHING_DISABLED             400     a JSON array of operations
    METHOD_NOT_ALLOWED            405     a mutation over GET
    RATE_LIMITED                  429     the client's bucket is empty (with Retry-After)
    PERSISTED_QUERY_*             200/400/403  see hub/web/persisted.py
    INTERNAL_SERVER_ERROR         500     unexpected: masked, with an errorId found in the logs
    BAD_REQUEST                   400     anything else strawberry refuses before running

Cross-site request forgery: the hub reads only JSON bodies on POST. A browser cannot send
`Content-Type: application/json` across origins without a CORS preflight, so text/plain, form
and multipart bodies (the "simple requests" a hostile page can send) are refused with 415
whatever their other headers: there is no non-JSON body format for a preflight-forcing header
(`apollo-require-preflight`) to unlock. GET runs queries only, and credentials are bearer
tokens, never cookies, so a cross-site GET runs as an anonymous caller.

Introspection (`__schema`, `__type`, and the federation `_service { sdl }`) and the
"Did you mean ...?" suggestions in error messages follow HUB_INTROSPECTION: `authenticated`
(any valid token), `always` or `never`. `__typename` is always allowed.
"""

from __future__ import annotations

import contextlib
import logging
import re
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

from cross_web import HTTPException
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
    get_named_type,
    get_nullable_type,
    get_operation_ast,
    is_composite_type,
    is_list_type,
    parse,
    validate,
    value_from_ast_untyped,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.schema.schema import validate_document

from hub.auth.caller import WRITE, Caller
from hub.settings import Settings
from hub.web.persisted import PersistedQueryError
from hub.web.ratelimit import retry_after

__all__ = [
    "Hardening",
    "Refusal",
    "RequestRules",
    "hardening",
    "internal_error",
    "may_introspect",
    "operation_cost",
    "rate_key",
]

logger = logging.getLogger("hub.graphql")

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


class Refusal(Exception):
    """A request the hub will not run, answered with a GraphQL-shaped body."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    @classmethod
    def of(cls, exc: Refusal | PersistedQueryError | HTTPException) -> Refusal:
        """The hub's refusals, and strawberry's own (plain text there), in one shape."""
        if isinstance(exc, Refusal):
            return exc
        if isinstance(exc, PersistedQueryError):
            return cls(exc.status, exc.code, exc.message)
        if isinstance(exc.__cause__, InvalidOperationTypeError):
            # GraphQL over HTTP: a mutation over GET is 405, and POST is the way.
            return cls(405, "METHOD_NOT_ALLOWED", f"{exc.reason}: use POST", {"Allow": "POST"})
        code = {405: "METHOD_NOT_ALLOWED", 415: "UNSUPPORTED_MEDIA_TYPE"}.get(
            exc.status_code, "BAD_REQUEST"
        )
        return cls(exc.status_code, code, exc.reason)

    @classmethod
    def rate_limited(cls, wait: float) -> Refusal:
        seconds = retry_after(wait)
        return cls(
            429,
            "RATE_LIMITED",
            f"too many requests from this client; retry in {seconds} s",
            {"Retry-After": str(seconds)},
        )

    def response(self) -> Response:
        return JSONResponse(
            {"errors": [{"message": self.message, "extensions": {"code": self.code}}]},
            status_code=self.status,
            headers={"Cache-Control": "no-store", **self.headers},
        )


# --- HTTP ----------------------------------------------------------------------------------


class RequestRules:
    """What a request must look like before anything reads its body: size and content type.

    Partners push batches of up to a thousand missions in one mutation's variables: a client
    holding missions:write may send larger bodies; its document is bounded all the same.
    """

    def __init__(self, settings: Settings) -> None:
        self.max_body_bytes = settings.max_body_bytes
        self.max_push_body_bytes = max(settings.max_push_body_bytes, settings.max_body_bytes)

    def check(self, scope: Scope, receive: Receive, caller: Caller | None) -> Receive:
        """Refuse a bad request at once; return a `receive` that refuses an oversized body."""
        limit = self.max_body_bytes
        if caller is not None and caller.has(WRITE):
            limit = self.max_push_body_bytes
        if scope["method"] == "GET":
            if len(scope.get("query_string", b"")) > limit:
                raise Refusal(414, "REQUEST_TOO_LARGE", f"the query string is over {limit} bytes")
            return receive
        if scope["method"] != "POST":
            return receive
        headers = Headers(scope=scope)
        media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
        if media_type != "application/json":
            raise Refusal(
                415,
                "UNSUPPORTED_MEDIA_TYPE",
                "POST bodies must be JSON (Content-Type: application/json); "
                f"{media_type or 'a body without a Content-Type'} is refused "
                "(cross-site request forgery prevention)",
                {"Accept": "application/json"},
            )
        length = headers.get("content-length")
        if length is not None:
            if not length.strip().isdigit():
                raise Refusal(400, "BAD_REQUEST", "malformed Content-Length header")
            if int(length) > limit:
                raise Refusal(413, "REQUEST_TOO_LARGE", f"the body is over {limit} bytes")
        return _bounded(receive, limit)


def _bounded(receive: Receive, limit: int) -> Receive:
    """Count a body as it arrives (chunked bodies name no length) and stop past the limit."""
    seen = 0

    async def bounded_receive() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise Refusal(413, "REQUEST_TOO_LARGE", f"the body is over {limit} bytes")
        return message

    return bounded_receive


def internal_error(exc: Exception) -> Response:
    """An unexpected failure outside a resolver: masked, logged with an id to quote."""
    error_id = uuid.uuid4().hex[:16]
    logger.error("unexpected error %s serving a GraphQL request", error_id, exc_info=exc)
    body = {
        "errors": [
            {
                "message": f"Unexpected error; quote error id {error_id} to the hub's operators.",
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "errorId": error_id},
            }
        ]
    }
    return JSONResponse(body, status_code=500)


def rate_key(scope: Scope, caller: Caller | None) -> str:
    """Whose bucket a request takes from: its client, or its address when anonymous."""
    if caller is not None:
        return f"client:{caller.client_id}"
    client = scope.get("client")
    return f"ip:{client[0] if client else 'unknown'}"


def may_introspect(settings: Settings, caller: Caller | None) -> bool:
    return settings.introspection == "always" or (
        settings.introspection == "authenticated" and caller is not None
    )


# --- document limits -----------------------------------------------------------------------


def _error(code: str, message: str, nodes: Any = None) -> GraphQLError:
    return GraphQLError(message, nodes, extensions={"code": code})


def _depth_rule(max_depth: int) -> type[ValidationRule]:
    class DepthLimit(ValidationRule):
        """Fields nested at most `max_depth` deep; introspection is bounded by graphql-core's
        MaxIntrospectionDepthRule, so its subtree is not counted (GraphiQL's query is deep)."""

        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            document = context.document
            self.fragments = _fragments(document)
            self.seen: dict[tuple[str, int], bool] = {}
            for definition in document.definitions:
                if isinstance(definition, OperationDefinitionNode) and self.too_deep(
                    definition.selection_set, 1
                ):
                    name = definition.name.value if definition.name else "anonymous"
                    context.report_error(
                        _error(
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
                    _error(
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
                _error("INTROSPECTION_DISABLED", f"{name}: introspection {self.reason}", node)
            )


class NoIntrospectionWithoutToken(_NoIntrospection):
    reason = "needs authentication: send a bearer token (OAuth 2.0 client credentials)"


class NoIntrospectionAtAll(_NoIntrospection):
    reason = "is disabled on this hub; the SDL is published in the hub's repository"


def _fragments(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


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
                    _error(
                        "REPEAT_LIMIT_EXCEEDED",
                        f"{name!r} is selected {count} times in one selection set; "
                        f"at most {max_repeats} are allowed",
                        node,
                    )
                )

    return RepeatLimit


# Shared by every schema and request, like strawberry's ParserCache and ValidationCache; keyed
# by the text and the limit (parse), or by the schema, the document and the rules (validate).
# Only documents of up to 4 KiB are kept (real operations are well under): a document of
# 5000 tokens is 2 MB of AST, and 512 of them, sent on purpose, would be a gigabyte.
CACHED_DOCUMENT_CHARS = 4096
_parse = lru_cache(maxsize=128)(parse)
_validate = lru_cache(maxsize=128)(validate_document)
_check = lru_cache(maxsize=128)(validate)


class _Limits:
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


class Hardening(SchemaExtension):
    """The hub's parse and validate steps (cached), with the limits; one instance an operation.

    It replaces strawberry's ParserCache and ValidationCache, because the limits must run
    before the rest: the parser stops at the token limit, and depth, aliases, repeats and
    introspection are checked before the full validation, whose cost they bound.
    """

    def __init__(self, limits: _Limits) -> None:
        self.limits = limits

    def _open(self) -> bool:
        caller = getattr(self.execution_context.context, "caller", None)
        return may_introspect(self.limits.settings, caller)

    def _refused(self) -> None:
        response = getattr(self.execution_context.context, "response", None)
        if isinstance(response, Response):
            response.status_code = 400

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        settings = self.limits.settings
        context.parse_options["max_tokens"] = settings.max_tokens
        # A partner's large body may hold a large document: refused before lexing.
        context.parse_options["max_source_length"] = settings.max_body_bytes  # type: ignore[typeddict-unknown-key]
        yield
        result = context.result
        if result is None or not result.errors:
            return
        parsed = context.graphql_document is not None
        errors = result.errors if parsed else [_parse_error(e) for e in result.errors]
        if not self._open():  # cached validation errors are shared: replace, never mutate
            errors = [_without_suggestions(error) for error in errors]
        result.errors = errors
        if not parsed or any((e.extensions or {}).get("code") in LIMIT_CODES for e in errors):
            self._refused()

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

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.pre_execution_errors is None:
            schema = context.schema._schema
            rules = self.limits.rules if self._open() else self.limits.closed_rules
            cached = len(context.query or "") <= CACHED_DOCUMENT_CHARS
            check, full = (_check, _validate) if cached else (validate, validate_document)
            errors = check(schema, document, rules) or full(
                schema, document, context.validation_rules
            )
            context.pre_execution_errors = list(errors)
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
                        _error(
                            "COST_LIMIT_EXCEEDED",
                            f"the operation would cost {cost}; at most {settings.max_cost} "
                            "is allowed (ask for smaller pages with `first`)",
                        )
                    ],
                )
        yield


def _parse_error(error: GraphQLError) -> GraphQLError:
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


def _without_suggestions(error: GraphQLError) -> GraphQLError:
    message = _SUGGESTION.sub("", error.message)
    if message == error.message:
        return error
    return GraphQLError(
        message,
        error.nodes,
        error.source,
        error.positions,
        error.path,
        error.original_error,
        error.extensions,
    )


def hardening(settings: Settings) -> Any:
    """The extension factory for build_schema: one instance an operation, rules built once."""
    limits = _Limits(settings)
    return lambda: Hardening(limits)
