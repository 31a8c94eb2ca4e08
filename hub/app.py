"""The app factory: the only place that wires storage, schema and HTTP together."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL

from hub.settings import Settings
from hub.storage.db import make_engine
from hub.storage.repository import MissionRepository
from schema import Context, build_schema

__all__ = ["create_app"]

logger = logging.getLogger("hub")


class HubGraphQL(GraphQL[Context, None]):
    """strawberry's ASGI view, with the hub's per-request context."""

    def __init__(self, app: Starlette, **kwargs: Any) -> None:
        super().__init__(build_schema(), **kwargs)
        self.app = app

    async def get_context(self, request: Any, response: Any) -> Context:
        state = self.app.state
        return Context(
            request=request,
            response=response,
            settings=state.settings,
            repository=state.repository,
        )


def create_app(settings: Settings) -> Starlette:
    """A fresh app; the lifespan owns the engine (nothing is opened at import time)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = make_engine(settings)
        app.state.engine = engine
        app.state.repository = MissionRepository(engine)
        try:
            yield
        finally:
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

    app = Starlette(lifespan=lifespan)
    app.state.settings = settings
    graphql = HubGraphQL(app)
    app.router.routes.extend(
        [
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
        ]
    )
    return app
