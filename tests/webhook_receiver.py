"""An intranet's webhook receiver, as a real HTTP server: it verifies every delivery with the
`standardwebhooks` library and can be told to fail for a while."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hub.clock import Clock

__all__ = ["Receipt", "Receiver"]


class _AtHubTime(Webhook):
    """The library's verification, with its 5-minute timestamp tolerance read against the
    test's clock instead of the machine's (the hub signs with its clock, which the test sets)."""

    def __init__(
        self, secret: str, clock: Clock, tolerance: timedelta = timedelta(minutes=5)
    ) -> None:
        super().__init__(secret)
        self.clock = clock
        self.tolerance = tolerance

    def _Webhook__verify_timestamp(self, timestamp_header: str) -> datetime:
        sent = datetime.fromtimestamp(float(timestamp_header), tz=self.clock.now().tzinfo)
        if abs(sent - self.clock.now()) > self.tolerance:
            raise WebhookVerificationError("Message timestamp too old or too new")
        return sent


@dataclass(frozen=True)
class Receipt:
    message_id: str
    payload: dict[str, Any]
    signatures: int  # how many signatures the header carried
    answered: int
    host: str  # the Host header
    body: bytes
    headers: dict[str, str]

    def verifies_with(self, secret: str, clock: Clock) -> bool:
        """Whether the `standardwebhooks` library accepts this delivery with `secret`."""
        try:
            _AtHubTime(secret, clock).verify(self.body, self.headers)
        except WebhookVerificationError:
            return False
        return True


class Receiver:
    """POST /hook: verifies with any of `secrets`, answers `fail_with` to the first `failures`
    verified requests, then 200. Unverified requests are answered 401 and counted apart."""

    def __init__(
        self,
        clock: Clock,
        failures: int = 0,
        fail_with: int = 500,
        tolerance: timedelta = timedelta(minutes=5),
    ) -> None:
        self.clock = clock
        self.tolerance = tolerance  # a test that leaps hours at a time widens it
        self.secrets: list[str] = []
        self.failures = failures
        self.fail_with = fail_with
        self.receipts: list[Receipt] = []
        self.unverified = 0
        self._lock = threading.Lock()
        self.app = Starlette(routes=[Route("/hook", self._hook, methods=["POST"])])

    def _verify(self, body: bytes, headers: dict[str, str]) -> dict[str, Any] | None:
        for secret in self.secrets:
            try:
                verifier = _AtHubTime(secret, self.clock, self.tolerance)
                payload: dict[str, Any] = verifier.verify(body, headers)
            except WebhookVerificationError:
                continue
            return payload
        return None

    async def _hook(self, request: Request) -> Response:
        body = await request.body()
        headers = dict(request.headers)
        payload = self._verify(body, headers)
        with self._lock:
            if payload is None:
                self.unverified += 1
                return JSONResponse({"error": "bad signature"}, 401)
            status = self.fail_with if self.failures > 0 else 200
            self.failures -= 1
            self.receipts.append(
                Receipt(
                    headers["webhook-id"],
                    payload,
                    len(headers["webhook-signature"].split(" ")),
                    status,
                    headers["host"],
                    body,
                    headers,
                )
            )
        return JSONResponse({"ok": status == 200}, status)

    def accepted(self) -> list[Receipt]:
        """Receipts answered 200, each message id once (the first), in arrival order."""
        return self.deduplicated(answered=200)

    def deduplicated(self, answered: int | None = None) -> list[Receipt]:
        """Receipts (those answered `answered`, when given), each message id once (the
        first), in arrival order."""
        seen: set[str] = set()
        out = []
        with self._lock:
            receipts = list(self.receipts)
        for receipt in receipts:
            if answered not in (None, receipt.answered) or receipt.message_id in seen:
                continue
            seen.add(receipt.message_id)
            out.append(receipt)
        return out
