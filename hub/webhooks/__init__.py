"""Webhooks: an outbox of signed deliveries from the event log, for intranets and partners that
cannot hold a WebSocket open (Standard Webhooks signatures, at-least-once, in order per endpoint,
retried with backoff, guarded against requests into private networks)."""

from hub.webhooks.guard import AddressGuard, Resolver, Target, TargetRefused, system_resolver
from hub.webhooks.routes import WEBHOOK_EVENT_TYPES
from hub.webhooks.runtime import WebhookRuntime
from hub.webhooks.sender import Attempt, Sender
from hub.webhooks.service import Webhooks, new_secret
from hub.webhooks.worker import WebhookWorker, retry_delay

__all__ = [
    "WEBHOOK_EVENT_TYPES",
    "AddressGuard",
    "Attempt",
    "Resolver",
    "Sender",
    "Target",
    "TargetRefused",
    "WebhookRuntime",
    "WebhookWorker",
    "Webhooks",
    "new_secret",
    "retry_delay",
    "system_resolver",
]
