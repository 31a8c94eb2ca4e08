"""Prometheus metrics, in one registry per app: tests build many apps in one process, and the
client's default registry is process-wide (it refuses a metric registered twice).

    metric                                   type       labels              what
    hub_graphql_requests_total               counter    operation, outcome  GraphQL operations
    hub_graphql_request_duration_seconds     histogram  operation, outcome  their latency
    hub_graphql_subscriptions_active         gauge                          open subscriptions
    hub_graphql_subscription_events_total    counter                        events sent to them
    hub_sync_runs_total                      counter    partner, status     sync runs
    hub_sync_run_duration_seconds            histogram  partner             their duration
    hub_sync_records_total                   counter    partner, outcome    what they wrote
    hub_oauth_tokens_total                   counter    outcome, reason     token requests
    hub_response_cache_hits_total            counter                        answers from it
    hub_response_cache_misses_total          counter                        lookups that ran
    hub_response_cache_hit_ratio             gauge                          hits ÷ lookups
    hub_response_cache_invalidations_total   counter                        entries a write
                                                                            dropped (Redis:
                                                                            writes announced)
    hub_response_cache_entries               gauge                          held here
    hub_response_cache_bytes                 gauge                          their size
    hub_compiled_reads_total                 counter    outcome, reason     root fields of
                                                                            planned documents
                                                                            answered by one
                                                                            statement (compiled)
                                                                            or not (fallback:
                                                                            why)
    process_*, python_*                                                     the process

`operation` is the GraphQL operation name, `(anonymous)` for an unnamed one, `(unknown)` when
the request was refused before its document was read, and `(other)` past the first
MAX_OPERATION_NAMES names (clients choose names: the series they can create are bounded).
`outcome` is `ok` (no errors), `refused` (the hub would not run it, or the client's mistake: a
bad token, a missing scope, a limit, the rate limit, a document that does not parse or
validate, a bad argument) or `error` (an unexpected failure, masked with an error id). A
subscription is counted by the gauge for its lifetime, not as a request.

Every replica serves its own /metrics; Prometheus scrapes each and sums.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.exposition import choose_encoder
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from hub.observability import tracing

__all__ = [
    "ERROR",
    "MAX_OPERATION_NAMES",
    "OK",
    "REFUSED",
    "HubMetrics",
    "Observation",
    "OperationMetrics",
    "outcome_of",
]

logger = logging.getLogger("hub.observability.metrics")

OK, REFUSED, ERROR = "ok", "refused", "error"
ANONYMOUS, UNKNOWN, OTHER = "(anonymous)", "(unknown)", "(other)"
MAX_OPERATION_NAMES = 200
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SYNC_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
SYNC_OUTCOMES = ("created", "updated", "unchanged", "closed", "refused")
# RFC 6749 §5.2 error codes; anything else a denial carries is counted as "other".
TOKEN_ERRORS = frozenset(
    {
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
    }
)
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,99}")
_STATE_KEY = "hub.operation"


@dataclass
class Observation:
    """One GraphQL request over HTTP: HubGraphQL records it once, whatever stopped it; the
    extension fills in the operation's name and outcome when the schema ran it."""

    started: float = field(default_factory=time.perf_counter)
    operation: str | None = None
    outcome: str | None = None
    finished: bool = False  # a streamed response runs its operation after HubGraphQL is done


def outcome_of(result: Any) -> str:
    """ok, refused or error, from an execution result (None: it never produced one)."""
    if result is None:
        return ERROR
    errors: list[GraphQLError] = list(getattr(result, "errors", None) or ())
    if not errors:
        return OK
    for error in errors:
        code = (error.extensions or {}).get("code")
        original = error.original_error
        unexpected = original is not None and not isinstance(original, GraphQLError)
        if code == "INTERNAL_SERVER_ERROR" or (unexpected and code is None):
            return ERROR
    return REFUSED


class HubMetrics:
    """The app's metrics and the helpers the rest of the hub calls; safe from any thread."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "hub_graphql_requests_total",
            "GraphQL operations by operation name and outcome (ok, refused, error).",
            ("operation", "outcome"),
            registry=r,
        )
        self.latency = Histogram(
            "hub_graphql_request_duration_seconds",
            "Time to answer a GraphQL operation, by operation name and outcome.",
            ("operation", "outcome"),
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.subscriptions = Gauge(
            "hub_graphql_subscriptions_active", "Subscriptions open on this replica.", registry=r
        )
        self.events = Counter(
            "hub_graphql_subscription_events_total",
            "Mission events delivered to subscribers.",
            registry=r,
        )
        self.sync_runs = Counter(
            "hub_sync_runs_total",
            "Sync runs by partner and status (SUCCEEDED, SUSPICIOUS, FAILED, SKIPPED).",
            ("partner", "status"),
            registry=r,
        )
        self.sync_duration = Histogram(
            "hub_sync_run_duration_seconds",
            "Duration of sync runs, by partner.",
            ("partner",),
            buckets=SYNC_BUCKETS,
            registry=r,
        )
        self.sync_records = Counter(
            "hub_sync_records_total",
            "What sync runs did to missions, by partner and outcome.",
            ("partner", "outcome"),
            registry=r,
        )
        self.tokens = Counter(
            "hub_oauth_tokens_total",
            "Token requests by outcome (issued, denied) and the RFC 6749 error of a denial.",
            ("outcome", "reason"),
            registry=r,
        )
        self.webhook_attempts = Counter(
            "hub_webhook_attempts_total",
            "Webhook delivery attempts by outcome (delivered, failed), and endpoints disabled.",
            ("outcome",),
            registry=r,
        )
        self.compiled_reads = Counter(
            "hub_compiled_reads_total",
            "Root fields of planned documents: answered by the compiled read path (outcome "
            "compiled), or by the generic executor (outcome fallback, with the reason); a "
            "document sent whole to the generic executor counts once.",
            ("outcome", "reason"),
            registry=r,
        )
        self.cache_hits = Counter(
            "hub_response_cache_hits_total", "Queries answered from the response cache.", registry=r
        )
        self.cache_misses = Counter(
            "hub_response_cache_misses_total",
            "Cacheable requests the response cache could not answer (they ran).",
            registry=r,
        )
        self.cache_invalidations = Counter(
            "hub_response_cache_invalidations_total",
            "Response cache entries dropped by a committed write (with Redis: writes announced).",
            registry=r,
        )
        self.cache_entries = Gauge(
            "hub_response_cache_entries", "Answers the response cache holds here.", registry=r
        )
        self.cache_bytes = Gauge(
            "hub_response_cache_bytes",
            "Bytes of answers the response cache holds here.",
            registry=r,
        )
        Gauge(
            "hub_response_cache_hit_ratio",
            "Hits ÷ lookups of the response cache since start (0 before any lookup).",
            registry=r,
        ).set_function(self._hit_ratio)
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)
        self._names: set[str] = set()
        self._names_lock = threading.Lock()

    # --- GraphQL --------------------------------------------------------------------------

    def operation_label(self, name: str | None) -> str:
        """The `operation` label of a name: bounded in length, shape and number."""
        if not name:
            return ANONYMOUS
        if not _NAME.fullmatch(name):
            return OTHER
        with self._names_lock:
            if name in self._names:
                return name
            if len(self._names) >= MAX_OPERATION_NAMES:
                return OTHER
            self._names.add(name)
        return name

    def graphql_request(self, operation: str | None, outcome: str, seconds: float) -> None:
        """Count one GraphQL operation; `operation` None means refused before it was read."""
        label = UNKNOWN if operation is None else self.operation_label(operation)
        self.requests.labels(label, outcome).inc()
        self.latency.labels(label, outcome).observe(seconds)

    def observe(self, scope: Scope) -> Observation:
        """Start timing an HTTP GraphQL request; the schema extension finds it in the scope."""
        observation = Observation()
        scope.setdefault("state", {})[_STATE_KEY] = observation
        return observation

    def finish(self, observation: Observation) -> None:
        """Record an HTTP request, unless it ran no operation (the explorer page, a stream)."""
        observation.finished = True
        if observation.outcome is not None:
            seconds = time.perf_counter() - observation.started
            # "" is an unnamed operation the extension saw; None, one it never saw.
            self.graphql_request(observation.operation, observation.outcome, seconds)

    def extension(self) -> Callable[[], OperationMetrics]:
        """The factory build_schema takes: one extension instance an operation."""
        return lambda: OperationMetrics(self)

    # --- subscriptions --------------------------------------------------------------------
    # OperationMetrics counts the subscriptions the schema runs, and their events, by itself;
    # these are for live feeds served some other way.

    def subscription_opened(self) -> None:
        self.subscriptions.inc()

    def subscription_closed(self) -> None:
        self.subscriptions.dec()

    @contextlib.contextmanager
    def subscription(self) -> Iterator[None]:
        """Counts a subscription as open for the lifetime of the block."""
        self.subscription_opened()
        try:
            yield
        finally:
            self.subscription_closed()

    def events_delivered(self, n: int = 1) -> None:
        if n > 0:
            self.events.inc(n)

    # --- response cache -------------------------------------------------------------------

    def _hit_ratio(self) -> float:
        hits = self.cache_hits._value.get()
        lookups = hits + self.cache_misses._value.get()
        return float(hits / lookups) if lookups else 0.0

    def cache_held(self, entries: int, size: int) -> None:
        self.cache_entries.set(entries)
        self.cache_bytes.set(size)

    # --- sync and tokens ------------------------------------------------------------------

    def sync_run(
        self,
        partner: str,
        status: str,
        seconds: float | None = None,
        counts: Mapping[str, int] | None = None,
    ) -> None:
        self.sync_runs.labels(partner, status).inc()
        if seconds is not None and status != "SKIPPED":
            self.sync_duration.labels(partner).observe(seconds)
        for outcome in SYNC_OUTCOMES:
            value = (counts or {}).get(outcome, 0)
            if value > 0:
                self.sync_records.labels(partner, outcome).inc(value)

    def webhook_attempt(self, outcome: str) -> None:
        """`outcome`: delivered, failed, or disabled (an endpoint given up on)."""
        self.webhook_attempts.labels(outcome).inc()

    def token_issued(self, outcome: str, reason: str | None = None) -> None:
        """`outcome` is issued or denied; `reason`, a denial's RFC 6749 error code."""
        if outcome == "issued":
            reason = ""
        elif reason not in TOKEN_ERRORS:
            reason = "other"
        self.tokens.labels(outcome, reason).inc()

    def token_response(self, response: Response) -> None:
        """Count what the token endpoint answered."""
        if response.status_code == 200:
            self.token_issued("issued")
            return
        try:
            reason = json.loads(bytes(response.body)).get("error")
        except (ValueError, AttributeError):
            reason = None
        self.token_issued("denied", reason if isinstance(reason, str) else None)

    # --- exposition -----------------------------------------------------------------------

    async def endpoint(self, request: Request) -> Response:
        """GET /metrics: the text format, or OpenMetrics when the scraper asks for it."""
        encoder, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encoder(self.registry), headers={"Content-Type": content_type})

    @classmethod
    def of(cls, connection: Any) -> HubMetrics:
        """The metrics of the app serving a request or WebSocket (or of an app)."""
        app = connection.scope.get("app") if hasattr(connection, "scope") else connection
        found = getattr(getattr(app, "state", None), "metrics", None)
        if isinstance(found, HubMetrics):
            return found
        return _detached()


@functools.cache
def _detached() -> HubMetrics:
    """Metrics nobody scrapes, for code running outside an app (scripts, some tests)."""
    return HubMetrics()


def _observation(context: Any) -> Observation | None:
    request = getattr(context, "request", None)
    scope = getattr(request, "scope", None)
    if not isinstance(scope, dict) or scope.get("type") != "http":
        return None
    found = (scope.get("state") or {}).get(_STATE_KEY)
    return found if isinstance(found, Observation) else None


class OperationMetrics(SchemaExtension):
    """Times each operation and finds its name and outcome; counts open subscriptions and the
    events sent to them, whatever the transport. It must come first in the extension list, so
    that it sees the errors as answered (coded by the hardening, masked)."""

    def __init__(self, metrics: HubMetrics) -> None:
        self.metrics = metrics
        self.subscribed = False

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield  # a subscription's operation lasts as long as the subscription
        finally:
            if self.subscribed:
                self.subscribed = False
                self.metrics.subscription_closed()
            try:
                self._observed(started)
            except Exception:  # counting must never break an answer
                logger.exception("could not record a GraphQL operation")

    def on_execute(self) -> Iterator[None]:
        # Reached once the document parsed and validated: the subscription is starting.
        if not self.subscribed and self._kind() is OperationType.SUBSCRIPTION:
            self.subscribed = True
            self.metrics.subscription_opened()
        yield

    def on_stream_result(self, result: Any) -> Iterator[None]:
        if self.subscribed and getattr(result, "data", None) is not None:
            self.metrics.events_delivered(1)
        yield

    def _kind(self) -> OperationType | None:
        try:
            return self.execution_context.operation_type
        except RuntimeError:  # no document: it did not parse
            return None

    def _observed(self, started: float) -> None:
        context = self.execution_context
        name: str | None = context.operation_name
        if name is None and context.graphql_document is not None:
            name = ""  # parsed, unnamed: (anonymous); not parsed: (unknown)
        kind = self._kind()
        if kind is OperationType.SUBSCRIPTION:
            return  # its lifetime is the gauge's; its refusals are the transport's
        outcome = outcome_of(context.result)
        observation = _observation(context.context)
        if observation is not None and not observation.finished:
            observation.operation, observation.outcome = name, outcome
            if kind is not None:
                tracing.name_operation(kind.value, name or "")
        else:  # over a WebSocket, or streamed after the response began: record it here
            self.metrics.graphql_request(name, outcome, time.perf_counter() - started)
