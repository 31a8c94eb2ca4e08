"""Metrics, logs and tracing, through the real app: what an operator's tools will read."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from hub.catalogue.model import MissionDraft
from hub.observability import tracing
from hub.observability.logs import configure_logging
from hub.observability.metrics import LATENCY_BUCKETS, MAX_OPERATION_NAMES, HubMetrics
from hub.settings import Settings
from hub.storage.db import make_engine
from hub.storage.repository import MissionRepository
from hub.sync import SyncReport, SyncRunner, add_partner
from hub.web.app import create_app
from tests.conftest import TEST_NOW, Clients, Store, run
from tests.partners import PARTNERS, SimulatedPartner
from tests.servers import poll_until

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def post(client: TestClient, query: str, token: str, **headers: str) -> httpx.Response:
    return client.post(
        "/graphql",
        json={"query": query},
        headers={"Authorization": f"Bearer {token}", **headers},
    )


def test_requests_latency_and_tokens_show_in_metrics(client: TestClient, clients: Clients) -> None:
    company = clients.create("company", "ACME")
    token = clients.token(company)
    denied = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(company.client_id, "no")
    )
    assert denied.status_code == 401
    for _ in range(2):
        assert "errors" not in post(client, "query Causes { causes { label } }", token).json()
    assert post(client, "{ skills { slug } }", token).status_code == 200
    assert post(client, "query Wrong { nope }", token).status_code == 200  # does not validate
    bad_filter = 'query BadFilter { missions(filter: {skills: ["nope"]}) { totalCount } }'
    assert post(client, bad_filter, token).json()["errors"][0]["extensions"]["code"]
    assert post(client, "query Causes { causes { label } }", "not-a-token").status_code == 401
    assert client.get("/graphql", headers={"Accept": "text/html"}).status_code == 200  # explorer

    samples = scrape(client)
    requests = "hub_graphql_requests_total"
    assert value(samples, requests, operation="Causes", outcome="ok") == 2
    assert value(samples, requests, operation="(anonymous)", outcome="ok") == 1
    assert value(samples, requests, operation="Wrong", outcome="refused") == 1
    assert value(samples, requests, operation="BadFilter", outcome="refused") == 1
    assert value(samples, requests, operation="(unknown)", outcome="refused") == 1  # bad token
    assert sum(v for (name, _), v in samples.items() if name == requests) == 6  # not the page
    histogram = "hub_graphql_request_duration_seconds"
    buckets = {
        dict(labels)["le"]: v
        for (name, labels), v in samples.items()
        if name == f"{histogram}_bucket" and ("operation", "Causes") in labels
    }
    assert set(buckets) == {*(str(b) for b in LATENCY_BUCKETS), "+Inf"}
    assert buckets["+Inf"] == 2
    assert value(samples, f"{histogram}_count", operation="Causes", outcome="ok") == 2
    tokens = "hub_oauth_tokens_total"
    assert value(samples, tokens, outcome="issued", reason="") == 1
    assert value(samples, tokens, outcome="denied", reason="invalid_client") == 1
    assert value(samples, "hub_graphql_subscriptions_active") == 0
    assert value(samples, "hub_graphql_subscription_events_total") == 0
    assert any(name.startswith("process_") for name, _ in samples)
    openmetrics = client.get("/metrics", headers={"Accept": "application/openmetrics-text"})
    assert openmetrics.headers["content-type"].startswith("application/openmetrics-text")
    assert openmetrics.text.rstrip().endswith("# EOF")


def test_an_unexpected_failure_is_an_error_and_its_log_line_carries_the_request_id(
    client: TestClient,
    company_token: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    json_logs: None,
) -> None:
    async def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("the database fell over")

    monkeypatch.setattr(MissionRepository, "partner_list", broken)
    response = post(client, "query Partners { partners { name } }", company_token, **{
        "X-Request-ID": "req-1234"
    })  # fmt: skip
    assert response.headers["x-request-id"] == "req-1234"
    assert response.json()["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    samples = scrape(client)
    assert value(samples, "hub_graphql_requests_total", operation="Partners", outcome="error") == 1
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    [logged] = [line for line in lines if line["message"].startswith("unexpected error")]
    assert logged["level"] == "ERROR" and logged["logger"] == "hub.graphql"
    assert logged["request_id"] == "req-1234"
    assert "the database fell over" in logged["exception"]


@pytest.fixture
def json_logs() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    configure_logging("info", "json")
    yield
    configure_logging("info", "text")
    root.handlers = [h for h in root.handlers if type(h).__name__ != "_StderrHandler"]
    root.setLevel(level)


def test_request_ids_are_made_when_missing_or_unsafe(client: TestClient) -> None:
    made = client.get("/healthz").headers["x-request-id"]
    assert len(made) == 32
    assert client.get("/healthz").headers["x-request-id"] != made
    unsafe = client.get("/healthz", headers={"X-Request-ID": "a b<script>" + "x" * 200})
    assert len(unsafe.headers["x-request-id"]) == 32


def test_operation_names_are_bounded(client: TestClient) -> None:
    metrics: HubMetrics = client.app.state.metrics  # type: ignore[attr-defined]
    for i in range(MAX_OPERATION_NAMES):
        assert metrics.operation_label(f"Op{i}") == f"Op{i}"
    assert metrics.operation_label("OneTooMany") == "(other)"
    assert metrics.operation_label("Op7") == "Op7"
    assert metrics.operation_label("not a name") == "(other)"


def test_every_app_has_its_own_registry(settings: Settings) -> None:
    first, second = create_app(settings), create_app(settings)
    assert first.state.metrics.registry is not second.state.metrics.registry
    first.state.metrics.token_issued("issued")
    assert second.state.metrics.tokens.labels("issued", "")._value.get() == 0


# --- sync runs ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def feed() -> Iterator[SimulatedPartner]:
    partner = PARTNERS["api-engagement-xml"]().start()
    yield partner
    partner.stop()


def test_sync_runs_are_counted_by_partner_and_status(
    client: TestClient, settings: Settings, feed: SimulatedPartner
) -> None:
    feed.reset()
    config = feed.config()
    metrics: HubMetrics = client.app.state.metrics  # type: ignore[attr-defined]

    async def sync_twice() -> list[SyncReport]:
        engine = make_engine(settings)
        try:
            await add_partner(
                engine,
                "feed",
                connector=feed.connector_name,
                url=config.url,
                every="15m",
                push_only=False,
                config={
                    "username": config.username,
                    "password": config.password,
                    "retry": dataclasses.asdict(config.retry),
                },
                now=TEST_NOW,
            )
            async with httpx.AsyncClient() as http:
                runner = SyncRunner(engine, http, settings, metrics=metrics)
                reports = [await runner.sync("feed")]
                feed.faults.errors = 10_000
                reports.append(await runner.sync("feed"))
                return reports
        finally:
            feed.reset()
            await engine.dispose()

    succeeded, failed = run(sync_twice())
    assert (succeeded.status, failed.status) == ("SUCCEEDED", "FAILED")
    samples = scrape(client)
    runs = "hub_sync_runs_total"
    assert value(samples, runs, partner="feed", status="SUCCEEDED") == 1
    assert value(samples, runs, partner="feed", status="FAILED") == 1
    created = value(samples, "hub_sync_records_total", partner="feed", outcome="created")
    assert created == succeeded.counts["created"] == feed.count
    assert value(samples, "hub_sync_run_duration_seconds_count", partner="feed") == 2


# --- tracing -----------------------------------------------------------------------------


def test_tracing_is_a_no_op_when_unset(settings: Settings) -> None:
    assert settings.otel_endpoint is None
    app = create_app(settings)
    assert not any("OpenTelemetry" in m.cls.__name__ for m in app.user_middleware)  # type: ignore[attr-defined]
    assert not tracing.instrument(app, settings)
    # Without the endpoint the hub loads none of OpenTelemetry's tracing, installed or not
    # (other libraries, such as redis, may import its API or metrics on their own).
    code = (
        "import sys; from starlette.testclient import TestClient;"
        "from hub.web.app import create_app;"
        "from hub.settings import load_settings;"
        f"app = create_app(load_settings(database_url={settings.database_url!r}));"
        "c = TestClient(app).__enter__(); assert c.get('/metrics').status_code == 200;"
        "tracing = ('opentelemetry.instrumentation', 'opentelemetry.exporter',"
        " 'opentelemetry.sdk.trace');"
        "loaded = [m for m in sys.modules if m.startswith(tracing)];"
        "assert not loaded, loaded"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_tracing_needs_the_otel_extra(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from hub.settings import SettingsError

    monkeypatch.setitem(sys.modules, "opentelemetry.instrumentation.asgi", None)
    configured = settings.model_copy(update={"otel_endpoint": "http://127.0.0.1:4318"})
    with pytest.raises(SettingsError, match=r"entraide-hub\[otel\]"):
        create_app(configured)


def test_tracing_names_spans_after_the_operation(
    settings: Settings, clients: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    if os.environ.get("CI") == "true":  # make test installs the otel extra: never skip in CI
        import opentelemetry.sdk  # noqa: F401
    pytest.importorskip("opentelemetry.sdk", reason="the `otel` extra is not installed")
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    monkeypatch.setattr(tracing, "_provider", None)
    exporter = InMemorySpanExporter()
    app = create_app(settings, clients.clock)
    configured = settings.model_copy(update={"otel_endpoint": "http://127.0.0.1:4318"})
    assert tracing.instrument(app, configured, exporter=exporter)
    token = clients.token(clients.create("company", "Traced"))
    with TestClient(app) as traced:
        assert post(traced, "query Causes { causes { label } }", token).status_code == 200
        traced.get("/healthz")
    tracing._provider.force_flush()
    spans = exporter.get_finished_spans()
    [span] = [s for s in spans if s.name == "query Causes"]
    assert span.attributes is not None
    assert span.attributes["graphql.operation.name"] == "Causes"
    assert not [s for s in spans if "/healthz" in s.name]
    assert tracing.traces_url("http://collector:4318") == "http://collector:4318/v1/traces"


# --- subscriptions -----------------------------------------------------------------------

FOLLOW = """
subscription Follow($after: String) {
  missionEvents(after: $after) { cursor type mission { externalId } }
}
"""


def test_open_subscriptions_and_delivered_events_are_counted(
    client: TestClient, company_token: str, store: Store
) -> None:
    store.ingest("alpha", [MissionDraft("a-1", "Jardin partagé", "https://alpha.example/1")])
    store.ingest("alpha", [MissionDraft("a-2", "Soutien scolaire", "https://alpha.example/2")])
    gauge, events = "hub_graphql_subscriptions_active", "hub_graphql_subscription_events_total"
    with client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_json(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {company_token}"}}
        )
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_json(
            {
                "type": "subscribe",
                "id": "1",
                "payload": {"query": FOLLOW, "variables": {"after": "0"}},
            }
        )
        received = [ws.receive_json() for _ in range(2)]
        assert [m["payload"]["data"]["missionEvents"]["type"] for m in received] == [
            "PUBLISHED"
        ] * 2
        samples = scrape(client)
        assert value(samples, gauge) == 1
        assert value(samples, events) == 2
        ws.send_json({"type": "complete", "id": "1"})
    # The server ends the subscription after the socket's close reaches it: wait for that fact.
    poll_until(lambda: value(scrape(client), gauge) == 0, "the subscription to end")
    samples = scrape(client)
    assert value(samples, gauge) == 0
    assert value(samples, events) == 2
    assert not [name for (name, labels), _ in samples.items() if ("operation", "Follow") in labels]
