"""The GraphQL endpoint over HTTP and WebSocket: strawberry's view with the hub's authentication,
rules, response cache, compiled reads and grouped subscriptions (created by hub.web.app)."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

import httpx
import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.subscriptions import (
    GRAPHQL_SSE_PROTOCOL,
    GRAPHQL_TRANSPORT_WS_PROTOCOL,
    GRAPHQL_WS_PROTOCOL,
)
from strawberry.types import ExecutionResult, SubscriptionExecutionResult

from hub.auth import (
    Caller,
    ClientStore,
    InvalidToken,
    KeyStore,
    OAuthEndpoints,
    RevocationList,
    TokenValidator,
)
from hub.clock import Clock, answer_reads_time, watching_time
from hub.ingest.engagements import EngagementWriter
from hub.ingest.service import MissionWriter
from hub.live.fanout import Fanout, GroupedTransportWS
from hub.live.stream import LiveEvents
from hub.observability.metrics import ERROR, OK, REFUSED, HubMetrics, Observation
from hub.pubsub import Broker
from hub.settings import Settings
from hub.storage.engagement_reads import EngagementReads
from hub.storage.read_pool import ReadPool
from hub.storage.repository import MissionRepository
from hub.web.explorer import Explorer
from hub.web.fast import (
    GRAPHQL_RESPONSE,
    PREPARED,
    CompiledRequest,
    Prepared,
    prefers_graphql_response,
)
from hub.web.persisted import DocumentStore, PersistedQueryError, sha256_hex
from hub.web.ratelimit import RateLimiter
from hub.web.response_cache import Lookup, ResponseCache, keepable, read_body, replay
from hub.web.rules import HttpRefusal, RequestRules, internal_error, rate_key
from hub.webhooks import WebhookRuntime
from schema import Context, build_schema
from schema.compiled import CompiledReads
from schema.compiled_assembly import Assembled, Fields, encode
from schema.hardening import parse_document
from schema.limits import anonymous_may_run

__all__ = ["AUTHENTICATION_REQUIRED", "HubGraphQL", "Services", "authenticate"]

logger = logging.getLogger("hub")

_QUERY = "hub.query"  # scope state: the operation that ran may be kept (response_cache)


@dataclass
class Services:
    """Everything the lifespan opens, in one place for handlers and tests."""

    settings: Settings
    engine: Any
    repository: MissionRepository
    http: httpx.AsyncClient
    keys: KeyStore
    clients: ClientStore
    revocations: RevocationList
    validator: TokenValidator
    oauth: OAuthEndpoints
    documents: DocumentStore
    limiter: RateLimiter
    broker: Broker
    live: LiveEvents
    clock: Clock
    writer: MissionWriter
    engagement_writer: EngagementWriter
    engagement_reads: EngagementReads
    webhooks: WebhookRuntime
    cache: ResponseCache | None = None  # None when HUB_RESPONSE_CACHE=false
    read_pool: ReadPool | None = None  # the compiled reads' connections


# The same answer to every anonymous request for data, valid or not: validation messages
# would tell a caller without a token what the schema holds.
AUTHENTICATION_REQUIRED = (
    "authentication required: send a bearer token (OAuth 2.0 client credentials)"
)


def _prefers_graphql_response(scope: Scope) -> bool:
    """GraphQL over HTTP's media type choice (hub.web.fast.prefers_graphql_response)."""
    return prefers_graphql_response(Headers(scope=scope).get("accept", ""))


def _anonymous_may_run(query: str | None, settings: Settings) -> bool:
    """A document that does not parse is answered with its parse error (it names nothing of
    the schema); one that does may ask for `__typename` and introspection only."""
    if query is None:
        return True  # no operation at all: strawberry says so
    try:
        document = parse_document(query, settings)
    except GraphQLError:
        return True
    return anonymous_may_run(document)


async def authenticate(services: Services, authorization: str | None) -> Caller | None:
    """The caller named by an Authorization header; None when there is none."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("the Authorization header must be 'Bearer <token>'")
    return await services.validator.validate(token.strip())


class HubGraphQL(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = GroupedTransportWS
    """strawberry's ASGI view, behind the request rules, the bearer-token check and the rate
    limit (hub/web/rules.py); persisted queries are resolved before each operation, and a
    caller without a token runs only `__typename` and introspection."""

    def __init__(
        self, app: Starlette, settings: Settings, metrics: HubMetrics, **kwargs: Any
    ) -> None:
        super().__init__(
            build_schema(settings, metrics),
            subscription_protocols=(
                GRAPHQL_TRANSPORT_WS_PROTOCOL,
                GRAPHQL_WS_PROTOCOL,
                GRAPHQL_SSE_PROTOCOL,
            ),
            keep_alive=True,
            keep_alive_interval=15,
            max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
            **kwargs,
        )
        self.app = app
        self.metrics = metrics
        # Identical subscriptions share one execution; the fan-out gives way to HTTP requests.
        self.fanout = Fanout(
            settings.subscriber_queue_size, requests=getattr(app, "requests", None)
        )
        self.rules = RequestRules(settings)
        self.explorer = Explorer(files("schema") / "operations")  # GET /graphql from a browser
        self.compiled_reads: CompiledReads | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            try:
                await super().__call__(scope, receive, send)
            finally:
                self.app.state.services.live.forget(scope)
            return
        services: Services = self.app.state.services
        # What the fast path did already (hub/web/fast.py): not done twice.
        prepared: Prepared | None = scope.setdefault("state", {}).pop(PREPARED, None)
        observed = self.metrics.observe(scope)  # the schema's extension fills it in
        response: Response
        try:
            if prepared is not None:
                caller: Caller | None = prepared.caller
            else:
                raw = dict(scope.get("headers") or []).get(b"authorization")
                caller = await authenticate(services, raw.decode("latin-1") if raw else None)
            scope["state"]["caller"] = caller
            bounded = self.rules.check(scope, receive, caller)
            if prepared is not None:
                wait = prepared.wait
            else:
                wait = await services.limiter.take(rate_key(scope, caller))
            if wait:
                raise HttpRefusal.rate_limited(wait)
            response = await self._answer(scope, bounded, caller, observed, prepared)
        except InvalidToken as exc:
            response = HttpRefusal.unauthenticated(str(exc), token_sent=True).response()
            observed.outcome = REFUSED
        except (HttpRefusal, PersistedQueryError, HTTPException) as exc:
            response = HttpRefusal.of(exc).response()
            observed.outcome = REFUSED
        except Exception as exc:  # masked like resolver errors, logged with an id
            response = internal_error(exc)
            observed.outcome = ERROR
        self.metrics.finish(observed)
        if response.media_type == "application/json" and _prefers_graphql_response(scope):
            response.headers["content-type"] = GRAPHQL_RESPONSE
        response.headers.add_vary_header("Accept")
        await response(scope, receive, send)

    async def _answer(
        self,
        scope: Scope,
        receive: Receive,
        caller: Caller | None,
        observed: Observation,
        prepared: Prepared | None = None,
    ) -> Response:
        """From the response cache when it holds the answer; else run the operation, and keep
        the answer when it may be kept: a query that ran without errors, did not read the time
        and selects nothing written without a change event (hub/web/response_cache.py)."""
        cache: ResponseCache | None = self.app.state.services.cache
        lookup: Lookup | None = None
        if prepared is not None and prepared.looked_up:
            lookup = prepared.lookup  # a miss, or a request the cache does not answer
        elif cache is not None and caller is not None and scope["method"] == "POST":
            body = await read_body(receive)
            lookup = await cache.lookup(body, caller)
            receive = replay(body, receive)
        if lookup is not None and lookup.hit is not None:
            self.metrics.cache_hits.inc()
            observed.operation, observed.outcome = lookup.hit.operation, OK
            return lookup.response()
        with watching_time() as watch:
            compiled = None
            tried = prepared is not None and prepared.compiled_tried
            reads = None if tried else self._reads()
            if reads is not None and caller is not None and scope["method"] == "POST":
                body = await read_body(receive)
                receive = replay(body, receive)
                compiled = await self._compiled(scope, body, caller, observed)
            response = compiled or await self.run(Request(scope, receive))
        if cache is None:
            return response
        await cache.settle()  # this request's writes reach the other replicas before it answers
        if lookup is not None:
            self.metrics.cache_misses.inc()
            query = scope.get("state", {}).get(_QUERY, False)
            if query and observed.outcome == OK and not watch.read:
                await cache.keep(lookup, response, observed.operation or "")
        return response

    async def compiled_answer(self, asked: CompiledRequest) -> bytes | None:
        """The compiled read path for the fast path (hub/web/fast.py): an answer it may keep
        in the response cache, or None for the app to answer (an answer that read the time is
        never kept: the app runs that request again)."""
        reads = self._reads()
        if reads is None:
            return None
        query = asked.query
        if query is None:  # sent by its hash: the document stored for it, if any
            documents: DocumentStore = self.app.state.services.documents
            persisted = {"persistedQuery": {"version": 1, "sha256Hash": asked.document}}
            try:
                query = (await documents.resolve(None, persisted, asked.caller)).query
            except (PersistedQueryError, HttpRefusal):
                return None
            if query is None:
                return None
        with watching_time() as watch:
            answer = await reads.answer(query, asked.operation, dict(asked.variables), asked.caller)
        return None if watch.read else answer

    def _reads(self) -> CompiledReads | None:
        """The compiled read path, made on first use (it needs the lifespan's engine)."""
        services: Services = self.app.state.services
        if self.compiled_reads is None and services.settings.compiled_reads:
            self.compiled_reads = CompiledReads(
                self.schema,
                services.settings,
                services.read_pool or ReadPool(services.engine, 1),
                services.clock,
                lambda outcome, reason: self.metrics.compiled_reads.labels(outcome, reason).inc(),
                answer_reads_time,
            )
        return self.compiled_reads

    async def _compiled(
        self, scope: Scope, body: bytes, caller: Caller, observed: Observation
    ) -> Response | None:
        """The answer of the compiled read path, or None for the generic executor to give."""
        reads = self.compiled_reads
        try:
            request = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(request, dict) or reads is None:
            return None
        query, name = request.get("query"), request.get("operationName")
        variables, extensions = request.get("variables"), request.get("extensions")
        if not isinstance(name, str | None) or not isinstance(variables, dict | None):
            return None
        if not isinstance(query, str | None) or not isinstance(extensions, dict | None):
            return None
        services: Services = self.app.state.services
        try:
            resolved = await services.documents.resolve(query, extensions, caller)
        except (PersistedQueryError, HttpRefusal):
            return None
        if resolved.query is None:
            return None
        answer = await reads.answer(resolved.query, name, variables, caller)
        if answer is None:
            return None
        observed.operation, observed.outcome = name or "(anonymous)", OK
        if keepable(resolved.query, name, services.settings):
            scope.setdefault("state", {})[_QUERY] = True
        return Response(answer, media_type="application/json")

    def _validate_batch_request(
        self, request_data: list[GraphQLRequestData], protocol: Any
    ) -> None:
        raise HttpRefusal(
            400, "BATCHING_DISABLED", "batching is off: send one operation per request"
        )

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        # A GET with only a persisted-query hash is an operation, not a browser.
        return super().should_render_graphql_ide(request) and not request.query_params.get(
            "extensions"
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        return self.explorer.page(request)

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        data = await super().parse_http_body(request)
        # strawberry checks the types of query, variables and extensions, not operationName.
        if isinstance(data, GraphQLRequestData) and not isinstance(data.operation_name, str | None):
            raise HttpRefusal(
                400, "BAD_REQUEST", "The GraphQL operation's `operationName` must be a string"
            )
        return data

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        response = await super().process_result(request, result)
        # GraphQL over HTTP: a request error (nothing ran: parse, validation, variables; no
        # error has a path) is answered without `data` in application/graphql-response+json...
        request_error = result.data is None and all(e.path is None for e in result.errors or ())
        if result.errors and request_error and _prefers_graphql_response(request.scope):
            response.pop("data", None)
        return response

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        # ... and with a 4xx status (400 unless the hub's rules chose another).
        request_error = isinstance(response_data, dict) and "data" not in response_data
        if request_error and (sub_response.status_code or 200) < 400:
            sub_response.status_code = 400
        return super().create_response(response_data, sub_response)

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> ExecutionResult | list[ExecutionResult] | SubscriptionExecutionResult:
        if isinstance(request_data, list):  # refused while parsing; never run one unchecked
            self._validate_batch_request(request_data, "http")
            raise AssertionError("batching is off")
        # Persisted queries and trusted documents, for every HTTP transport (JSON, streams).
        documents = self.app.state.services.documents
        resolved = await documents.resolve(
            request_data.query, request_data.extensions, context.caller
        )
        if context.caller is None and not _anonymous_may_run(resolved.query, context.settings):
            raise HttpRefusal.unauthenticated(AUTHENTICATION_REQUIRED, token_sent=False)
        fields = await self._fields(resolved.query, request_data, context.caller)
        result = await super().execute_operation(
            request=request,
            request_adapter=request_adapter,
            request_data=dataclasses.replace(
                request_data, query=resolved.query if fields is None else fields.rest
            ),
            context=context,
            root_value=root_value,
            sub_response=sub_response,
        )
        if fields is not None and isinstance(result, ExecutionResult):
            result.data = fields.assemble(result.data)  # the compiled root fields put back
        if isinstance(result, ExecutionResult) and result.data is not None:
            await documents.keep(resolved)
            reads = self._reads()
            if reads is not None and not result.errors and resolved.query is not None:
                reads.learn(resolved.query, request_data.operation_name)  # planned once
            if keepable(resolved.query, request_data.operation_name, context.settings):
                request.scope.setdefault("state", {})[_QUERY] = True
        return result

    async def _fields(
        self, query: str | None, request_data: GraphQLRequestData, caller: Caller | None
    ) -> Fields | None:
        """A document whose root fields are partly covered by the compiled read path: those
        fields' answers, and the document the executor runs for the others (a trusted-documents
        client runs its documents as registered, whole)."""
        reads = self._reads()
        if reads is None or query is None or caller is None or caller.trusted_documents_only:
            return None
        variables = request_data.variables
        return await reads.answer_fields(
            query, request_data.operation_name, variables if isinstance(variables, dict) else None,
            caller,
        )  # fmt: skip

    def encode_json(self, data: object) -> str | bytes:
        if isinstance(data, dict) and isinstance(data.get("data"), Assembled):
            return encode(data)  # the compiled root fields' JSON passed through
        return super().encode_json(data)

    async def get_context(self, request: Any, response: Any) -> Context:
        services: Services = self.app.state.services
        return Context(
            request=request,
            response=response,
            settings=services.settings,
            repository=services.repository,
            caller=request.scope.get("state", {}).get("caller"),
            live=services.live,
            on_events=services.live.published,
            writer=services.writer,
            engagement_writer=services.engagement_writer,
            engagement_reads=services.engagement_reads,
            admits_document=self._admits,
            webhooks=services.webhooks.api,
        )

    async def _admits(self, caller: Caller, document: str) -> bool:
        """Whether `document`, as sent, is registered for this trusted-documents client."""
        documents: DocumentStore = self.app.state.services.documents
        found = await documents.find(sha256_hex(document), caller.client_pk, shared=False)
        return found is not None

    async def on_ws_connect(self, context: Context) -> dict[str, object] | None:
        """The token comes in connection_init (or the handshake's Authorization header)."""
        services: Services = self.app.state.services
        params = context.connection_params or {}
        header = params.get("Authorization") or params.get("authorization")
        if not isinstance(header, str):
            header = context.request.headers.get("authorization")
        try:
            caller = await authenticate(services, header)
        except InvalidToken as exc:
            raise ConnectionRejectionError({"reason": str(exc)}) from exc
        if caller is None:
            raise ConnectionRejectionError({"reason": "send a bearer token in connection_init"})
        if not services.live.admit(context.request, caller):
            raise ConnectionRejectionError({"reason": "too many connections for this client"})
        context.caller = caller
        return None  # no payload in connection_ack
