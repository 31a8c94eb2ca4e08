"""The app factory: the only place that wires storage, auth, schema and HTTP together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send

from hub.auth import (
    Caller,
    ClientStore,
    IssuerStore,
    KeyStore,
    OAuthEndpoints,
    RevocationList,
    TokenValidator,
)
from hub.background import Steps
from hub.clock import Clock, SystemClock
from hub.engagement import ContactCipher
from hub.ingest.engagements import EngagementWriter
from hub.ingest.service import MissionWriter
from hub.live.priority import InFlight
from hub.live.stream import LiveEvents
from hub.observability import tracing
from hub.observability.logs import RequestIdMiddleware
from hub.observability.metrics import HubMetrics
from hub.pubsub import make_broker
from hub.settings import Settings, load_settings
from hub.storage.commits import on_committed_write
from hub.storage.db import make_engine
from hub.storage.engagement_reads import EngagementReads
from hub.storage.read_pool import ReadPool
from hub.storage.repository import MissionRepository
from hub.sync import Scheduler, SyncRunner
from hub.web.cache_stores import make_store
from hub.web.engagements import engagement_routes, sweep_contacts
from hub.web.fast import (
    Compiled,
    FastParts,
    FastPath,
)
from hub.web.graphql_view import HubGraphQL, Services, authenticate
from hub.web.persisted import DocumentStore
from hub.web.position import direct_position
from hub.web.ratelimit import make_limiter
from hub.web.response_cache import ResponseCache
from hub.webhooks import Resolver, WebhookRuntime
from schema.event_cursor import encode_event_cursor

__all__ = ["Services", "app_from_environment", "create_app"]

logger = logging.getLogger("hub")


class HubApp(Starlette):
    """Starlette behind two pure ASGI layers: the request id (every response and log line
    carries it), then the response cache's fast path (hub/web/fast.py), which answers hits
    before Starlette's middleware and routing run."""

    def __init__(self, compiled: Compiled | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fast = FastPath(self._starlette, compiled)
        self.front = RequestIdMiddleware(self.fast)
        self.requests = InFlight()  # HTTP requests being served: the fan-out gives way to them

    async def _starlette(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().__call__(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self
        if scope["type"] == "http":
            await self.requests.track(self.front, scope, receive, send)
        else:
            await self.front(scope, receive, send)


def _authenticator(app: Starlette) -> Any:
    """`authenticate` over the app's services, for routes outside GraphQL."""

    async def check(authorization: str | None) -> Caller | None:
        return await authenticate(app.state.services, authorization)

    return check


def create_app(
    settings: Settings,
    clock: Clock | None = None,
    *,
    resolver: Resolver | None = None,
    compiled: Compiled | None = None,
) -> Starlette:
    """A fresh app; the lifespan owns the engine, HTTP client and keys (none at import time).
    Every reading of the time goes through `clock` (the system's unless a test sets one); webhook
    hosts are resolved by `resolver` (the system's unless a test gives a fixed answer);
    `compiled` answers cache misses of known documents on the fast path (hub/web/fast.py)."""
    clock = clock or SystemClock()

    @contextlib.asynccontextmanager
    async def lifespan(app: HubApp) -> AsyncIterator[None]:
        engine = make_engine(settings)
        http = httpx.AsyncClient(timeout=10.0)
        keys = KeyStore(engine, timedelta(seconds=settings.token_ttl_seconds), clock=clock)
        await keys.ensure()
        clients = ClientStore(engine, ttl=settings.auth_cache_seconds, clock=clock)
        revocations = RevocationList(engine, ttl=settings.auth_cache_seconds, clock=clock)
        validator = TokenValidator(
            issuer=settings.issuer,
            audience=settings.audience,
            keys=keys,
            clients=clients,
            revocations=revocations,
            issuers=IssuerStore(
                engine, http, jwks_ttl=settings.issuer_jwks_ttl_seconds, clock=clock
            ),
            clock=clock,
        )
        oauth = OAuthEndpoints(
            settings, engine, keys, clients, revocations, validator, app.state.metrics, make_limiter
        )
        repository = MissionRepository(engine, clock)
        broker = make_broker(settings.broker_url)
        await broker.start()
        live = LiveEvents(
            repository,
            broker,
            queue_size=settings.subscriber_queue_size,
            poll_seconds=settings.live_poll_seconds,
            max_connections_per_client=settings.max_connections_per_client,
            retention_days=settings.event_retention_days,
            clock=clock,
        )
        await live.start()
        writer = MissionWriter(engine, clock, live.published)  # publishes after each commit
        cache = None
        if settings.response_cache:
            store = make_store(settings, clock, app.state.metrics)
            position = direct_position(engine)  # one kept connection, one prepared statement
            if position is None:
                cache = ResponseCache(store, repository.event_cursor)
            else:
                cache = ResponseCache(store, position, position.aclose, position.now)
            on_committed_write(engine, cache.changed)  # every writer, in this process
        oauth.on_revoke = live.revoked  # a revocation closes the token's sockets everywhere
        engagement_writer = EngagementWriter(
            engine,
            clock,
            ContactCipher(settings.contact_keys),
            link_base=settings.issuer,
            link_ttl=timedelta(days=settings.tracked_link_ttl_days),
            retention=timedelta(days=settings.contact_retention_days),
            publish=live.published,
        )
        sweeps = Steps("contact retention")
        sweeper = asyncio.create_task(
            sweep_contacts(engagement_writer, sweeps), name="contact-retention"
        )
        scheduler: Scheduler | None = None
        scheduler_task = None
        if settings.scheduler:  # pulls partners on their intervals (one replica at a time each)
            runner = SyncRunner(
                engine, http, settings, metrics=app.state.metrics, clock=clock, writer=writer
            )
            scheduler = Scheduler(engine, runner, settings)
            scheduler_task = asyncio.create_task(scheduler.run_forever(), name="scheduler")
        webhooks = WebhookRuntime(
            settings,
            engine,
            repository,
            clients,
            clock,
            live,
            encode_event_cursor,
            app.state.metrics,
            resolver,
        )
        webhooks.start()  # sends webhook deliveries (one replica at a time)
        app.state.services = Services(
            settings,
            engine,
            repository,
            http,
            keys,
            clients,
            revocations,
            validator,
            oauth,
            DocumentStore(engine, clock=clock),
            make_limiter(settings, clock),
            broker,
            live,
            clock,
            writer,
            engagement_writer,
            EngagementReads(engine, clock),
            webhooks,
            cache,
            ReadPool(engine, settings.db_pool_size),
        )
        app.state.engine = engine
        if app.fast.compiled is None and settings.compiled_reads:
            app.fast.compiled = graphql.compiled_answer  # the compiled reads, on the fast path
        if settings.response_cache_fast_path and not traced:
            app.fast.parts = FastParts(
                cache, validator, app.state.services.limiter, app.state.metrics,
                settings.max_body_bytes,
            )  # fmt: skip
        try:
            yield
        finally:
            app.fast.parts = None
            # Background loops end between their steps, never inside a database call
            # (hub/background.py), and before the engine they use is disposed of.
            await sweeps.stop(sweeper)
            if scheduler is not None:
                await scheduler.steps.stop(scheduler_task)
            await webhooks.stop()
            if cache is not None:
                await cache.aclose()
            await app.state.services.read_pool.aclose()
            await live.stop()
            await graphql.fanout.aclose()  # the subscriptions' executions, ended by live.stop
            await broker.close()
            await app.state.services.limiter.aclose()
            await oauth.aclose()
            await http.aclose()
            await engine.dispose()

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        try:
            async with request.app.state.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:  # any failure to reach the store means "not ready"
            logger.warning("readiness check failed: %s", exc)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
        return JSONResponse({"status": "ok", "database": "reachable"})

    def oauth(name: str) -> Any:
        async def endpoint(request: Request) -> Response:
            handler = getattr(request.app.state.services.oauth, name)
            response: Response = await handler(request)
            return response

        return endpoint

    app = HubApp(compiled, lifespan=lifespan)
    app.state.metrics = metrics = HubMetrics()  # per app: tests build many in one process
    graphql = HubGraphQL(app, settings, metrics)
    app.router.routes.extend(
        [
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics.endpoint),
            Route("/oauth/token", oauth("token"), methods=["POST"]),
            Route("/oauth/introspect", oauth("introspect"), methods=["POST"]),
            Route("/oauth/revoke", oauth("revoke_endpoint"), methods=["POST"]),
            Route("/.well-known/jwks.json", oauth("jwks")),
            Route("/.well-known/oauth-authorization-server", oauth("metadata")),
            *graphql.explorer.routes(),
            *engagement_routes(_authenticator(app)),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
        ]
    )
    # Only when HUB_OTEL_ENDPOINT is set; then every request goes through it (no fast path).
    traced = tracing.instrument(app, settings)
    return app


def app_from_environment() -> Starlette:
    """The app of the HUB_* variables, for an ASGI server's own command line: several worker
    processes with `uvicorn --factory hub.web.app:app_from_environment --workers N` (each
    process keeps its own in-memory response cache; with more than one, use Redis as the
    broker so that a write in one drops the entries of all, as between replicas)."""
    return create_app(load_settings())
