"""Live events in one replica: read the log once, hand each batch to every local subscriber.

A broker message only wakes this replica; the rows come from the event log, read from this
replica's own high-water mark, so a lost, repeated or reordered notification loses or repeats
nothing. Every subscriber reads from its own Inbox (hub/live/inbox.py): one that falls behind is
told to resume from its last cursor (FellBehind) instead of slowing the others. Connections are
tracked so that a token's end (expiry, or a revocation announced through the broker) closes its
sockets with 4403.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from hub.auth.caller import Caller
from hub.background import Steps
from hub.clock import Clock, SystemClock
from hub.live.inbox import Inbox
from hub.pubsub import Broker
from hub.storage.repository import EventRow, MissionRepository

__all__ = [
    "CLOSE_FELL_BEHIND",
    "CLOSE_GOING_AWAY",
    "CLOSE_TOKEN_ENDED",
    "Batches",
    "LiveEvents",
]

logger = logging.getLogger("hub.live.stream")

CLOSE_TOKEN_ENDED = 4403  # the token expired or was revoked: reconnect with a fresh one
CLOSE_FELL_BEHIND = 4290  # the subscriber fell behind: reconnect and resume from the last cursor
CLOSE_GOING_AWAY = 1001  # this replica is stopping: reconnect (elsewhere) and resume
_PAGE = 500  # events read from the log at a time

Batches = Inbox[list[EventRow]]  # a subscriber's inbox of the stream: one batch per read


@dataclass(eq=False)
class _Connection:
    socket: Any
    caller: Caller
    expiry: asyncio.Task[None] | None = None


@dataclass
class LiveEvents:
    repository: MissionRepository
    broker: Broker
    queue_size: int = 1000
    poll_seconds: float = 2.0
    max_connections_per_client: int = 20
    retention_days: float = 30.0
    clock: Clock = field(default_factory=SystemClock)
    high_water_mark: int = 0
    _listeners: set[Batches] = field(default_factory=set)
    _wakers: set[asyncio.Event] = field(default_factory=set)
    _connections: set[_Connection] = field(default_factory=set)
    _per_client: dict[str, int] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    # The reads of the log are steps: stopping lets the one under way end (hub/background.py).
    _steps: Steps = field(default_factory=lambda: Steps("live events"))

    async def start(self) -> None:
        self.high_water_mark = await self.repository.event_cursor()
        ready = asyncio.Event()
        self._tasks = [
            asyncio.create_task(self._listen(ready)),
            asyncio.create_task(self._poll()),
        ]
        await ready.wait()

    async def stop(self) -> None:
        """Tell every subscriber to resume elsewhere, then stop reading."""
        for connection in list(self._connections):
            await self._close(connection, CLOSE_GOING_AWAY, "going away: resume from your cursor")
        await self._steps.stop(*self._tasks)

    # --- the stream ---------------------------------------------------------------------------

    async def published(self, seqs: list[int]) -> None:
        """After a commit: wake every replica, this one included."""
        if seqs:
            await self.broker.publish({"events": seqs})

    async def revoked(self, jti: str) -> None:
        await self.broker.publish({"revoked": jti})

    async def _listen(self, ready: asyncio.Event) -> None:
        while True:
            try:
                async with self.broker.subscribe() as messages:
                    ready.set()
                    async for message in messages:
                        if self._steps.stopping:
                            return
                        with self._steps.step():
                            if "events" in message:
                                await self.catch_up()
                            if isinstance(message.get("revoked"), str):
                                await self._end_token(message["revoked"])
                    return  # the broker closed
            except asyncio.CancelledError:
                raise
            except Exception:  # the broker went away: the poll keeps events flowing
                logger.exception("broker subscription lost; retrying in 1 s")
                ready.set()
                await asyncio.sleep(1.0)

    async def _poll(self) -> None:
        """A safety net: a notification lost on the way delays an event, never loses it.
        Once an hour it also drops events older than the retention."""
        last_prune = 0.0
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.poll_seconds)
            if self._steps.stopping:
                return
            try:
                with self._steps.step():
                    await self.catch_up()
                    if loop.time() - last_prune > 3600:
                        last_prune = loop.time()
                        cutoff = self.clock.now() - timedelta(days=self.retention_days)
                        pruned = await self.repository.prune_events(cutoff)
                        if pruned:
                            logger.info(
                                "event log: dropped %d events older than %s", pruned, cutoff
                            )
            except Exception:
                logger.exception("event log poll failed")

    async def catch_up(self) -> None:
        async with self._lock:
            if not self._listeners and await self._skip_to_the_end():
                self._wake()
                return
            while rows := await self.repository.events_after(self.high_water_mark, _PAGE):
                self.high_water_mark = rows[-1].seq
                self._deliver(rows)
                if len(rows) < _PAGE:
                    # The log held no more when it was read: whatever commits later announces
                    # itself (and the poll catches a lost notice), so a second, empty read
                    # would only delay the next wake-up's delivery.
                    break
        self._wake()

    async def _skip_to_the_end(self) -> bool:
        """With no subscriber listening, the mark moves to the log's end without loading a
        mission (each batch read costs the missions' records: most of a push's CPU on a hub
        nobody subscribes to). False when a listener came while the end was read: it gets the
        rows read the usual way, since its replay may have stopped short of that end."""
        end = await self.repository.event_cursor()
        if self._listeners:
            return False
        self.high_water_mark = max(self.high_water_mark, end)
        return True

    def _wake(self) -> None:
        for waker in list(self._wakers):  # the log may have moved for other readers too
            waker.set()

    def _deliver(self, rows: list[EventRow]) -> None:
        for listener in list(self._listeners):
            listener.offer(rows)  # never waits: a full inbox ends that subscriber alone

    @contextlib.asynccontextmanager
    async def listen(self) -> AsyncIterator[Batches]:
        """An inbox of every batch read from now on, `queue_size` batches deep."""
        listener: Batches = Inbox(self.queue_size)
        self._listeners.add(listener)
        try:
            yield listener
        finally:
            self._listeners.discard(listener)

    @contextlib.asynccontextmanager
    async def wakeups(self) -> AsyncIterator[asyncio.Event]:
        """An event set whenever the log may have moved (a commit announced through the broker,
        or the poll): readers of other events than missions' (engagements) wait on it, clear it,
        and read the log from their own position."""
        waker = asyncio.Event()
        self._wakers.add(waker)
        try:
            yield waker
        finally:
            self._wakers.discard(waker)

    # --- connections --------------------------------------------------------------------------

    def admit(self, socket: Any, caller: Caller) -> bool:
        """Track a WebSocket until its token ends; False when the client has too many."""
        if self._per_client.get(caller.client_id, 0) >= self.max_connections_per_client:
            return False
        self._per_client[caller.client_id] = self._per_client.get(caller.client_id, 0) + 1
        connection = _Connection(socket, caller)
        connection.expiry = asyncio.create_task(self._expire(connection))
        self._connections.add(connection)
        return True

    def forget(self, scope: Any) -> None:
        """The connection with this ASGI scope ended."""
        for connection in list(self._connections):
            if connection.socket.scope is scope:
                self._drop(connection)
                if connection.expiry is not None:
                    connection.expiry.cancel()

    def _drop(self, connection: _Connection) -> None:
        if connection in self._connections:
            self._connections.discard(connection)
            client = connection.caller.client_id
            self._per_client[client] = self._per_client.get(client, 1) - 1
            if self._per_client[client] <= 0:
                self._per_client.pop(client, None)

    async def _expire(self, connection: _Connection) -> None:
        delay = (connection.caller.expires_at - self.clock.now()).total_seconds()
        await self.clock.sleep(delay)
        await self._close(connection, CLOSE_TOKEN_ENDED, "token expired")

    async def _end_token(self, jti: str) -> None:
        for connection in list(self._connections):
            if connection.caller.jti == jti:
                await self._close(connection, CLOSE_TOKEN_ENDED, "token revoked")

    async def _close(self, connection: _Connection, code: int, reason: str) -> None:
        self._drop(connection)
        if connection.expiry is not None and connection.expiry is not asyncio.current_task():
            connection.expiry.cancel()
        with contextlib.suppress(Exception):  # already closed by the client
            await connection.socket.close(code=code, reason=reason)

    @property
    def connection_count(self) -> int:
        return len(self._connections)
