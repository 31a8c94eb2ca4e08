"""Requests before the fan-out: HTTP requests being served, which the fan-out gives way to.

The fan-out and the HTTP request path share one event loop. A large group's writer used to take
every other turn of the loop, so a writer's `upsertMissions` waited behind one slice of socket
writes at each of its many steps, and, on SQLite, held the store's one write lock that much
longer, making every other writer wait too (bench/RESULTS.md, issue 11 item 5). The app counts
the HTTP requests that have not started their response yet (`InFlight.track`); while there are
any, the group's writer rests after each slice of members for as long as the slice took, so the
requests get at least half of the loop. A request counts until its response starts, so a
long-lived response (a server-sent-events subscription) does not hold the fan-out back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ["InFlight"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class InFlight:
    """HTTP requests received whose response has not started yet."""

    def __init__(self) -> None:
        self.count = 0

    @property
    def active(self) -> bool:
        return self.count > 0

    async def track(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one HTTP request through `app`, counted until its response starts."""
        self.count += 1
        counted = True

        async def started(message: Message) -> None:
            nonlocal counted
            if counted and message["type"] == "http.response.start":
                counted = False
                self.count -= 1
            await send(message)

        try:
            await app(scope, receive, started)
        finally:
            if counted:
                self.count -= 1
