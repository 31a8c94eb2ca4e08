"""A webhook's life: update, secret rotation, replay, disabling after persistent failure,
re-enabling, deletion, the delivery history, partners' webhooks, one sender at a time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from hub.clock import ManualClock
from hub.settings import Settings
from hub.storage.db import make_engine
from hub.storage.tables import audit_log
from tests.conftest import Store, run
from tests.servers import serve
from tests.test_webhooks import (
    ALL,
    CREATE,
    DELIVERIES,
    Hub,
    mission,
    running,
    settled,
    summary,
    until_delivered,
    with_loopback,
)
from tests.webhook_receiver import Receiver

UPDATE = """
mutation($id: ID!, $url: String, $events: [WebhookEventType!], $enabled: Boolean) {
  updateWebhook(id: $id, url: $url, events: $events, enabled: $enabled) {
    id url events status statusReason
  }
}"""
ROTATE = """
mutation($id: ID!, $hours: Float!) {
  rotateWebhookSecret(id: $id, overlapHours: $hours) {
    secret webhook { previousSecretValidUntil }
  }
}"""
REPLAY = """
mutation($id: ID!, $from: String!) {
  replayWebhook(webhookId: $id, fromCursor: $from) { id cursor }
}"""
LIST = "{ webhooks { id status statusReason events } }"


def audited(settings: Settings) -> list[str]:
    """The audit log's events about webhooks, oldest first."""

    async def go() -> list[str]:
        engine = make_engine(settings)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(select(audit_log.c.event).order_by(audit_log.c.pk))
                return [row[0] for row in rows if row[0].startswith("webhook.")]
        finally:
            await engine.dispose()

    result: list[str] = run(go())
    return result


@pytest.fixture
def loopback(settings: Settings) -> Settings:
    return with_loopback(settings)


@contextmanager
def hooked(settings: Settings, clock: ManualClock, receiver: Receiver) -> Iterator[tuple[Hub, str]]:
    """A receiver served, a hub running, and a webhook of a company to the receiver."""
    with serve(receiver.app) as base, running(settings, clock) as hub:
        yield hub, _create(hub, receiver, base)


def _create(hub: Hub, receiver: Receiver, base: str, **variables: Any) -> str:
    variables.setdefault("events", ALL)
    created = hub.data(CREATE, url=f"{base}/hook", **variables)["createWebhook"]
    receiver.secrets.append(created["secret"])
    webhook_id: str = created["webhook"]["id"]
    return webhook_id


def test_rotation_signs_with_both_secrets_during_the_overlap_only(
    loopback: Settings, clock: ManualClock, store: Store
) -> None:
    receiver = Receiver(clock)
    with hooked(loopback, clock, receiver) as (hub, webhook_id):
        old = receiver.secrets[0]
        store.ingest("alpha", [mission("m1", "environnement")])
        until_delivered(clock, lambda: len(receiver.accepted()) == 1, "the first delivery")
        rotated = hub.data(ROTATE, id=webhook_id, hours=24)["rotateWebhookSecret"]
        new = rotated["secret"]
        receiver.secrets[:] = [new]
        store.ingest("alpha", [mission("m2", "environnement")])
        until_delivered(clock, lambda: len(receiver.accepted()) == 2, "the overlap delivery")
        during = receiver.accepted()[1]
        both = during.verifies_with(old, clock), during.verifies_with(new, clock)
        clock.advance(hours=25)
        store.ingest("alpha", [mission("m3", "environnement")])
        until_delivered(clock, lambda: len(receiver.accepted()) == 3, "the later delivery")
    first, _, after = receiver.accepted()
    assert new != old and rotated["webhook"]["previousSecretValidUntil"].startswith("2026-11-16")
    assert first.signatures == 1
    assert during.signatures == 2
    assert both == (True, True)
    assert after.signatures == 1
    assert after.verifies_with(new, clock) and not after.verifies_with(old, clock)


def test_persistent_failure_disables_the_endpoint_and_re_enabling_sends_its_queue(
    loopback: Settings, clock: ManualClock, store: Store
) -> None:
    # The clock leaps 3 hours at a time: a request in flight may see it move.
    receiver = Receiver(clock, failures=10**6, fail_with=503, tolerance=timedelta(hours=7))
    with hooked(loopback, clock, receiver) as (hub, webhook_id):
        store.ingest("alpha", [mission("m1", "environnement")])
        store.ingest("alpha", [mission("m2", "environnement")])

        def disabled() -> bool:
            return bool(hub.data(LIST)["webhooks"][0]["status"] == "DISABLED")

        until_delivered(clock, disabled, "the endpoint to be disabled", step_seconds=3 * 3600)
        (listed,) = hub.data(LIST)["webhooks"]
        pending = hub.data(DELIVERIES, id=webhook_id)["webhookDeliveries"]["nodes"]
        tried = len(receiver.receipts)
        receiver.failures = 0  # the intranet fixes its endpoint
        enabled = hub.data(UPDATE, id=webhook_id, enabled=True)["updateWebhook"]
        until_delivered(clock, lambda: len(receiver.accepted()) == 2, "the queued deliveries")
    assert listed["status"] == "DISABLED"
    assert "deliveries failed for 3 days" in listed["statusReason"]
    assert "HTTP 503" in listed["statusReason"]
    assert [n["status"] for n in pending] == ["PENDING", "PENDING"]
    assert pending[1]["lastStatusCode"] == 503 and pending[1]["attempts"] > 10
    assert pending[0]["attempts"] == 0  # in order: nothing after the head was tried
    assert {r.message_id for r in receiver.receipts[:tried]} == {receiver.receipts[0].message_id}
    assert enabled["status"] == "ACTIVE" and enabled["statusReason"] is None
    assert audited(loopback) == ["webhook.created", "webhook.disabled", "webhook.updated"]
    assert summary(receiver.accepted()) == [("PUBLISHED", "m1"), ("PUBLISHED", "m2")]


def test_replay_sends_again_what_followed_a_cursor_with_the_same_ids(
    loopback: Settings, clock: ManualClock, store: Store
) -> None:
    receiver = Receiver(clock)
    with hooked(loopback, clock, receiver) as (hub, webhook_id):
        for name in ("m1", "m2", "m3"):
            store.ingest("alpha", [mission(name, "environnement")])
        until_delivered(clock, lambda: len(receiver.accepted()) == 3, "three deliveries")
        first_cursor = receiver.accepted()[0].payload["cursor"]
        hub.data(REPLAY, id=webhook_id, **{"from": first_cursor})
        until_delivered(clock, lambda: len(receiver.receipts) == 5, "the replay")
        ahead = hub.call(REPLAY, id=webhook_id, **{"from": "999999"})
        malformed = hub.call(REPLAY, id=webhook_id, **{"from": "not a cursor"})
        history = hub.data(DELIVERIES, id=webhook_id, first=2)["webhookDeliveries"]
        rest = hub.data(DELIVERIES, id=webhook_id, after=history["pageInfo"]["endCursor"])
    ids = [r.message_id for r in receiver.receipts]
    assert ids[3:] == ids[1:3]  # m2 and m3 again, in order, with the same webhook-id
    assert ahead["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "has not reached this cursor" in ahead["errors"][0]["message"]
    assert malformed["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert history["pageInfo"]["hasNextPage"] is True
    assert len(history["nodes"]) == 2 and len(rest["webhookDeliveries"]["nodes"]) == 3
    assert rest["webhookDeliveries"]["pageInfo"]["hasNextPage"] is False


def test_update_changes_what_is_sent_and_refuses_a_bad_url(
    loopback: Settings, clock: ManualClock, store: Store
) -> None:
    receiver = Receiver(clock)
    with hooked(loopback, clock, receiver) as (hub, webhook_id):
        refused = hub.call(UPDATE, id=webhook_id, url="https://169.254.169.254/")
        only_closed = hub.data(UPDATE, id=webhook_id, events=["CLOSED"])["updateWebhook"]
        store.ingest("alpha", [mission("m1", "environnement")])
        store.close("alpha", ["m1"])
        until_delivered(clock, lambda: receiver.accepted(), "the CLOSED delivery")
        paused = hub.data(UPDATE, id=webhook_id, enabled=False)["updateWebhook"]
        (listed,) = hub.data(LIST)["webhooks"]
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert only_closed["url"].endswith("/hook")  # unchanged by the refused update
    assert only_closed["events"] == ["CLOSED"]
    assert summary(receiver.accepted()) == [("CLOSED", "m1")]
    assert paused["status"] == "DISABLED" and paused["statusReason"] == "disabled by its owner"
    assert listed["status"] == "DISABLED"


def test_webhooks_belong_to_their_client(
    loopback: Settings, clock: ManualClock, store: Store
) -> None:
    receiver = Receiver(clock)
    with hooked(loopback, clock, receiver) as (hub, webhook_id):
        from tests.conftest import Clients

        clients = Clients(loopback, hub.http, clock)
        other = Hub(hub.http, clients.create("company", "Other"), clock)
        theirs = other.data(LIST)["webhooks"]
        foreign = other.call("mutation($id: ID!) { deleteWebhook(id: $id) }", id=webhook_id)
        deleted = hub.data("mutation($id: ID!) { deleteWebhook(id: $id) }", id=webhook_id)
        again = hub.call("mutation($id: ID!) { deleteWebhook(id: $id) }", id=webhook_id)
        mine = hub.data(LIST)["webhooks"]
    assert theirs == []
    assert foreign["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert deleted["deleteWebhook"] == webhook_id
    assert again["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert mine == []
    assert audited(loopback) == ["webhook.created", "webhook.deleted"]


def test_a_partners_webhook_hears_of_its_own_missions_only(
    loopback: Settings, clock: ManualClock, store: Store
) -> None:
    receiver = Receiver(clock)
    partner = running(loopback, clock, kind="partner", partner="alpha")
    with serve(receiver.app) as base, partner as hub:
        with_filter = hub.call(CREATE, url=f"{base}/hook", events=ALL, filter={"causes": ["SANTE"]})
        _create(hub, receiver, base)
        store.ingest("beta", [mission("b1", "environnement")])
        store.ingest("alpha", [mission("a1", "sante")])
        store.close("beta", ["b1"])
        store.close("alpha", ["a1"])
        until_delivered(clock, lambda: len(receiver.accepted()) == 2, "alpha's events")
        store.ingest("alpha", [mission("a2", "sante")])
        until_delivered(clock, lambda: len(receiver.accepted()) == 3, "one more")
    assert with_filter["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert summary(receiver.accepted()) == [
        ("PUBLISHED", "a1"),
        ("CLOSED", "a1"),
        ("PUBLISHED", "a2"),
    ]


def test_two_replicas_send_each_delivery_once(
    loopback: Settings, clock: ManualClock, store: Store
) -> None:
    receiver = Receiver(clock)
    with serve(receiver.app) as base, running(loopback, clock) as hub:
        _create(hub, receiver, base)
        with running(loopback, clock, client=hub.client):  # a second replica, its own worker
            for name in ("m1", "m2", "m3", "m4", "m5"):
                store.ingest("alpha", [mission(name, "environnement")])
            until_delivered(clock, lambda: len(receiver.accepted()) == 5, "five deliveries")
    assert len(receiver.receipts) == 5  # none sent twice
    assert [r.payload["mission"]["externalId"] for r in receiver.receipts] == [
        "m1",
        "m2",
        "m3",
        "m4",
        "m5",
    ]


def test_the_delivery_history_is_kept_as_long_as_the_event_log(
    loopback: Settings, clock: ManualClock, store: Store
) -> None:
    receiver = Receiver(clock)
    with hooked(loopback, clock, receiver) as (hub, webhook_id):
        store.ingest("alpha", [mission("m1", "environnement")])
        until_delivered(clock, lambda: receiver.accepted(), "the delivery")
        kept = settled(hub, webhook_id, 1)["nodes"]
        clock.advance(days=loopback.event_retention_days + 1)

        def pruned() -> bool:
            return not hub.data(DELIVERIES, id=webhook_id)["webhookDeliveries"]["nodes"]

        until_delivered(clock, pruned, "the history to be pruned")
    assert [n["status"] for n in kept] == ["DELIVERED"]


def test_bad_input_is_a_clear_error_and_changes_nothing(
    loopback: Settings, clock: ManualClock
) -> None:
    url = "http://127.0.0.1:9/hook"
    with running(loopback.model_copy(update={"webhook_max_per_client": 1}), clock) as hub:
        no_events = hub.call(CREATE, url=url, events=[])
        bad_skill = hub.call(CREATE, url=url, events=ALL, filter={"skills": ["juggling"]})
        webhook_id = hub.data(CREATE, url=url, events=ALL)["createWebhook"]["webhook"]["id"]
        too_many = hub.call(CREATE, url=url, events=ALL)
        long_overlap = hub.call(ROTATE, id=webhook_id, hours=1000)
        bad_after = hub.call(DELIVERIES, id=webhook_id, after="nonsense")
        unknown = hub.call(DELIVERIES, id="wh_nothing")
        (listed,) = hub.data(LIST)["webhooks"]
    for body, says in [
        (no_events, "name at least one event type"),
        (bad_skill, "unknown skill"),
        (too_many, "at most 1 webhooks"),
        (long_overlap, "overlapHours"),
        (bad_after, "malformed cursor"),
    ]:
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
        assert says in body["errors"][0]["message"]
    assert unknown["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert listed["id"] == webhook_id  # the refused create stored nothing
