"""The response cache's fast path: a pure ASGI layer, ahead of Starlette's middleware and routing,
that answers `POST /graphql` from the response cache with the least work.

For a POST to /graphql with `Content-Type: application/json`, a `Content-Length` within
HUB_MAX_BODY_BYTES and a bearer token, it reads the body, authenticates (the verified-token
cache; the revocation deny-list and the client's state still apply), takes from the client's
rate-limit bucket, looks the request up in the response cache (which reads the event-log
position first, hub.web.response_cache) and, on a hit, sends the stored bytes with the status
and headers the normal path sends for a hit (tests/test_fast_path.py compares them). The
request-id middleware wraps this layer, so the id header and the log lines (uvicorn's access
line too) carry the request's id; hits and the operation's latency are counted like the normal
path counts them.

Everything else goes on to the full app unchanged, with the body replayed: any other method,
path or content type, WebSockets, a body without a length or over the limit, no token or one
the validator refuses (the app refuses it with its own words), an empty bucket, a request the
cache does not answer, a miss, any failure. What the fast path learned on the way is handed on
in the scope (`Prepared`): the app does not authenticate, take from the bucket or look the
request up a second time, and a miss's answer is kept for next time by the app as before.

The compiled read path (a seam for later work): `compiled`, when given, is called on a miss,
after the lookup, with what the request asks and who asks (`CompiledRequest`); it returns the
answer's bytes, exactly what the normal path would answer (status 200, `{"data": ...}` without
errors), or None to let the full app run. Its answer is kept in the response cache like any
other, at the version and log position read before it was computed, so it must only answer
queries the cache may keep (no time read, none of UNLOGGED_FIELDS), for the caller's scopes and
policy. Clients restricted to trusted documents never reach it: the app checks their documents.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from starlette.types import ASGIApp, Receive, Scope, Send

from hub.auth.caller import Caller
from hub.catalogue.filters import Policy
from hub.observability.metrics import MAX_OPERATION_NAMES, OK, HubMetrics
from hub.web.ratelimit import RateLimiter
from hub.web.response_cache import CacheRequest, Lookup, ResponseCache, parse_request, replay
from hub.web.rules import rate_key

__all__ = [
    "GRAPHQL_RESPONSE",
    "PREPARED",
    "Compiled",
    "CompiledRequest",
    "FastParts",
    "FastPath",
    "Prepared",
    "prefers_graphql_response",
]

logger = logging.getLogger("hub.web.fast")

GRAPHQL_RESPONSE = "application/graphql-response+json"
PREPARED = "hub.prepared"  # scope state: what the fast path did before handing a request on


@dataclass(frozen=True, slots=True)
class CompiledRequest:
    """What the compiled read path is asked: who asks, and the request as sent."""

    caller: Caller
    policy: Policy
    document: str  # the document's SHA-256 (the persisted-query hash, or the text's)
    query: str | None  # None: a persisted query sent by its hash alone
    operation: str | None
    variables: Mapping[str, Any]


Compiled = Callable[[CompiledRequest], Awaitable[bytes | None]]


class Validator(Protocol):
    async def validate(self, token: str) -> Caller: ...


@dataclass(slots=True)
class Prepared:
    """Handed on to the app in the scope's state: the caller, what the bucket answered and,
    when the lookup ran, its result (None: not a request the cache answers)."""

    caller: Caller
    wait: float
    looked_up: bool = False
    lookup: Lookup | None = None
    compiled_tried: bool = False  # the compiled read path said no: the app does not ask again


@dataclass(frozen=True, slots=True)
class FastParts:
    """What the fast path needs from the running app (the lifespan opens them)."""

    cache: ResponseCache | None  # None: HUB_RESPONSE_CACHE=false, compiled reads only
    validator: Validator
    limiter: RateLimiter
    metrics: HubMetrics
    max_body_bytes: int
    # The counter and histogram of each operation answered here, found once (bounded).
    _series: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def answered(self, operation: str, seconds: float) -> None:
        """Count an operation answered with `ok`, as HubMetrics.graphql_request does."""
        series = self._series.get(operation)
        if series is None:
            if len(self._series) >= 2 * MAX_OPERATION_NAMES:
                self.metrics.graphql_request(operation, OK, seconds)
                return
            label = self.metrics.operation_label(operation)
            series = (
                self.metrics.requests.labels(label, OK),
                self.metrics.latency.labels(label, OK),
            )
            self._series[operation] = series
        series[0].inc()
        series[1].observe(seconds)


@functools.lru_cache(maxsize=256)
def prefers_graphql_response(accept: str) -> bool:
    """GraphQL over HTTP: application/graphql-response+json when Accept ranks it at least as high
    as application/json; application/json otherwise (no Accept, `*/*`: legacy clients)."""
    ranks = {GRAPHQL_RESPONSE: 0.0, "application/json": 0.0}
    for item in accept.split(","):
        media, *params = (part.strip().lower() for part in item.split(";"))
        media = "application/json" if media in ("*/*", "application/*") else media
        if media in ranks:
            q = next((p.partition("=")[2] for p in params if p.startswith("q=")), "1")
            with contextlib.suppress(ValueError):
                ranks[media] = max(ranks[media], float(q))
    return ranks[GRAPHQL_RESPONSE] > 0 and ranks[GRAPHQL_RESPONSE] >= ranks["application/json"]


_JSON = b"application/json"
_MEDIA = {False: _JSON, True: GRAPHQL_RESPONSE.encode()}


class FastPath:
    """Pure ASGI, around the app; `parts` is set while the app runs (None: everything passes)."""

    def __init__(self, app: ASGIApp, compiled: Compiled | None = None) -> None:
        self.app = app
        self.compiled = compiled
        self.parts: FastParts | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        parts = self.parts
        if (
            parts is None
            or scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] != "/graphql"
        ):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        authorization = length = None
        accept = b""
        json = False
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
            elif name == b"content-length":
                length = value
            elif name == b"content-type":
                json = value.partition(b";")[0].strip().lower() == _JSON
            elif name == b"accept":
                accept = value
        if (
            authorization is None
            or not json
            or length is None
            or not length.isdigit()
            or int(length) > parts.max_body_bytes
        ):
            await self.app(scope, receive, send)
            return
        scheme, _, token = authorization.partition(b" ")
        token = token.strip()
        if scheme.lower() != b"bearer" or not token:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:
            return  # the client left before sending its body: nobody to answer
        receive = replay(body, receive)
        try:
            caller = await parts.validator.validate(token.decode("latin-1"))
            prepared = Prepared(caller, await parts.limiter.take(rate_key(scope, caller)))
        except Exception:  # a refused token, or a failure: the app answers it in its words
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})[PREPARED] = prepared
        if prepared.wait:
            await self.app(scope, receive, send)  # the app refuses it (429, Retry-After)
            return
        if parts.cache is None:  # no response cache: the compiled read path alone
            await self._compiled_only(scope, receive, send, parts, body, caller, accept, started)
            return
        try:
            lookup = await parts.cache.lookup(body, caller)
        except Exception:  # the log position could not be read: the app tries, or answers 500
            logger.debug("fast path lookup failed; the app takes the request", exc_info=True)
            await self.app(scope, receive, send)
            return
        prepared.looked_up, prepared.lookup = True, lookup
        if lookup is not None and lookup.hit is not None:
            parts.metrics.cache_hits.inc()
            parts.answered(lookup.hit.operation, time.perf_counter() - started)
            await _send(send, lookup.hit.body, accept)
            return
        if lookup is not None and self.compiled is not None and not caller.trusted_documents_only:
            prepared.compiled_tried = True
            answer = await self._compiled(lookup, caller)
            if answer is not None:
                operation = lookup.request.operation if lookup.request else None
                await parts.cache.keep_bytes(lookup, answer, operation or "")
                parts.metrics.cache_misses.inc()
                parts.answered(operation or "", time.perf_counter() - started)
                await _send(send, answer, accept)
                return
        await self.app(scope, receive, send)

    async def _compiled_only(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        parts: FastParts,
        body: bytes,
        caller: Caller,
        accept: bytes,
        started: float,
    ) -> None:
        """Without a response cache: the compiled read path answers, or the app does."""
        request = parse_request(body)
        prepared: Prepared = scope["state"][PREPARED]
        if request is not None and self.compiled is not None and not caller.trusted_documents_only:
            prepared.compiled_tried = True
            answer = await self._ask(request, caller)
            if answer is not None:
                parts.answered(request.operation or "", time.perf_counter() - started)
                await _send(send, answer, accept)
                return
        await self.app(scope, receive, send)

    async def _compiled(self, lookup: Lookup, caller: Caller) -> bytes | None:
        request = lookup.request
        if request is None:
            return None
        return await self._ask(request, caller)

    async def _ask(self, request: CacheRequest, caller: Caller) -> bytes | None:
        assert self.compiled is not None
        asked = CompiledRequest(
            caller, caller.policy, request.document, request.query, request.operation,
            request.variables,
        )  # fmt: skip
        try:
            return await self.compiled(asked)
        except Exception:  # the full app answers; the failure is logged for the operators
            logger.exception("the compiled read path failed; the full app answers")
            return None


async def _read_body(receive: Receive) -> bytes | None:
    """The whole body (its length is bounded by the Content-Length checked before); None when
    the client disconnected first."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _send(send: Send, body: bytes, accept: bytes) -> None:
    """What the normal path sends for a hit: Starlette's Response with the media type the
    client prefers and `Vary: Accept` (the request-id middleware adds its header)."""
    media = _MEDIA[bool(accept) and prefers_graphql_response(accept.decode("latin-1"))]
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-length", b"%d" % len(body)),
                (b"content-type", media),
                (b"vary", b"Accept"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
