"""OpenTelemetry tracing, only when HUB_OTEL_ENDPOINT is set.

The OpenTelemetry packages are an optional extra (`pip install 'entraide-hub[otel]'`), imported
here and only once tracing is configured. Each HTTP request and WebSocket gets a server span
(health checks and /metrics excepted); a GraphQL request's span is named after its operation
(`query FirstSearch`). Spans are exported over OTLP/HTTP in batches, and JSON log lines carry
the trace and span ids.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette

from hub.settings import Settings, SettingsError

__all__ = ["current_ids", "enabled", "instrument", "name_operation", "traces_url"]

_provider: Any = None  # the process's tracer provider, once tracing is configured
EXCLUDED_URLS = "/healthz,/readyz,/metrics"


def enabled() -> bool:
    return _provider is not None


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL: a collector's base URL gets the standard /v1/traces path."""
    if urlsplit(endpoint).path in ("", "/"):
        return endpoint.rstrip("/") + "/v1/traces"
    return endpoint


def instrument(app: Starlette, settings: Settings, exporter: Any = None) -> bool:
    """Trace the app's requests when HUB_OTEL_ENDPOINT is set; returns whether it does.

    `exporter` replaces the OTLP exporter (tests pass an in-memory one).
    """
    global _provider
    if not settings.otel_endpoint:
        return False
    try:
        from opentelemetry import trace
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        raise SettingsError(
            "HUB_OTEL_ENDPOINT is set but OpenTelemetry is not installed: "
            "pip install 'entraide-hub[otel]'"
        ) from exc
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=traces_url(settings.otel_endpoint))
    provider = TracerProvider(
        resource=Resource.create({"service.name": settings.otel_service_name})
    )
    provider.add_span_processor(BatchSpanProcessor(exporter))
    if _provider is None:
        trace.set_tracer_provider(provider)  # for libraries that trace through the global one
    _provider = provider
    app.add_middleware(
        OpenTelemetryMiddleware,
        tracer_provider=provider,
        excluded_urls=EXCLUDED_URLS,
        exclude_spans=["receive", "send"],
    )
    return True


def name_operation(kind: str, name: str) -> None:
    """Name the current request's span after its GraphQL operation (OpenTelemetry's GraphQL
    conventions: `query FirstSearch`); nothing when tracing is off."""
    if _provider is None:
        return
    from opentelemetry import trace

    span = trace.get_current_span()
    if span.is_recording():
        span.set_attribute("graphql.operation.type", kind)
        if name:
            span.set_attribute("graphql.operation.name", name)
        span.update_name(f"{kind} {name}".strip())


def current_ids() -> tuple[str, str] | None:
    """The current trace and span ids in hex, for log lines; None when there is no span."""
    if _provider is None:
        return None
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return f"{context.trace_id:032x}", f"{context.span_id:016x}"
