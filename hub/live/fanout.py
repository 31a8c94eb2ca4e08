"""Subscriptions that ask the same thing share one execution (graphql-transport-ws).

An intranet's pages all subscribe with the same document and variables, under the same
company policy. Executing and serialising each event once per subscriber is what made
subscriptions slow (see PERFORMANCE.md); here a group of identical subscriptions runs one
execution, serialises each result once, and frames it once per distinct operation id.

The group's one task also writes: it hands each frame to every member in turn, and an idle
socket takes it there and then (no task switch, no queue); it lets other tasks run after each
slice of members, so that writers' mutations are not starved by a large group, and while HTTP
requests are being served it rests after each slice as long as the slice took, so that they get
at least half of the loop (hub/live/priority.py). A member whose
socket is busy or full gets its frames in its Inbox (hub/live/inbox.py), drained in order by its
own writer: a member that falls behind gets FellBehind, its socket is closed with 4290 (resume
from your cursor), and it never holds the others back. When the group's execution itself falls
behind the stream, its subscription ends with FellBehind, and every member is told the same way.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Hashable
from dataclasses import dataclass, field
from typing import Any

from graphql import OperationType, parse
from graphql.error import GraphQLError
from graphql.utilities import get_operation_ast
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.utils.aio import aclosing

from hub.live.frames import Direct, text_frame
from hub.live.inbox import FellBehind, Inbox
from hub.live.member import COMPLETE, End, Member, dumps
from hub.live.priority import InFlight
from hub.live.stream import CLOSE_FELL_BEHIND

__all__ = ["End", "Fanout", "GroupedTransportWS", "Member"]

logger = logging.getLogger("hub.live.fanout")

SLICE = 16
"""Members written to before the group's writer lets other tasks run (a few hundred µs)."""
PENDING = 256
"""Results the execution may run ahead of the group's writer before it waits for it."""
REST = (0.001, 0.01)
"""Bounds of the writer's rest after a slice while HTTP requests are in flight (seconds): at
least the loop's timer tick, at most a few slices' worth."""
BATCH = 32
"""Results the execution runs in a row (they usually come without waiting, a whole batch of
the stream at once) before it lets other tasks run; the writer then sends them together."""


@dataclass(eq=False)
class Group:
    """Identical subscriptions: one execution (its task) serving every member."""

    key: Hashable
    members: set[Member] = field(default_factory=set)
    task: asyncio.Task[None] | None = None


class Fanout:
    """The groups of one replica, keyed by document, variables, operation and caller's rights."""

    def __init__(
        self, queue_size: int = 1000, slice_size: int = SLICE, requests: InFlight | None = None
    ) -> None:
        self.queue_size = queue_size
        self.slice_size = max(1, slice_size)
        self.requests = requests
        self.groups: dict[Hashable, Group] = {}
        self._tasks: set[asyncio.Task[None]] = set()  # every execution until it has ended

    @property
    def executions(self) -> int:
        return len(self.groups)

    def join(
        self,
        key: Hashable,
        operation_id: str,
        start: Callable[[Group], Coroutine[Any, Any, None]],
    ) -> Member:
        """Join the group of `key`, starting its one execution when it is the first member."""
        member = Member(operation_id, Inbox(self.queue_size))
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = Group(key)
            group.members.add(member)
            group.task = asyncio.create_task(start(group))
            self._tasks.add(group.task)
            group.task.add_done_callback(self._tasks.discard)
        else:
            group.members.add(member)
        return member

    def leave(self, member: Member) -> None:
        for key, group in list(self.groups.items()):
            if member in group.members:
                group.members.discard(member)
                if not group.members and group.task is not None:
                    group.task.cancel()
                    self.groups.pop(key, None)

    async def aclose(self) -> None:
        """The replica stops: end every execution and wait for it, those the last member's
        leaving cancelled included, before the engine they read with is disposed of. Each is
        cancelled once only: cancelled again inside a database call, its connection's close
        can wait forever (hub/background.py)."""
        tasks = list(self._tasks)
        for task in tasks:
            if not task.done() and not task.cancelling():
                task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self.groups.clear()

    async def run(self, group: Group, results: AsyncIterator[Any]) -> None:
        """Execute once; hand each result, serialised once, to every member."""
        try:
            end = await self._relay(group, results)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # one group's failure ends that group's members only
            logger.exception("subscription group failed")
            end = End([GraphQLError(str(exc)).formatted])
        finally:
            self.groups.pop(group.key, None)
        for member in list(group.members):
            if end is None:
                member.inbox.overflow()  # the execution fell behind: so did every member
            else:
                member.inbox.offer(end)  # a member too far behind for it learns that instead

    async def _relay(self, group: Group, results: AsyncIterator[Any]) -> End | None:
        """The end of the group's stream (once every result before it was handed to every
        member); None when the execution fell behind the stream."""
        pending = _Pending()
        writer = asyncio.create_task(self._write(group, pending))
        try:
            end = await self._read(results, pending)
            if end is not None:
                await pending.drained()
            return end
        finally:
            writer.cancel()

    async def _read(self, results: AsyncIterator[Any], pending: _Pending) -> End | None:
        """Run the execution: each result, serialised once, joins what the writer will send."""
        first = True
        produced = 0
        async with aclosing(results):
            async for result in results:
                if first and isinstance(result, PreExecutionError):
                    return End([e.formatted for e in result.errors or []])
                first = False
                assert isinstance(result, ExecutionResult)
                if any(isinstance(e.original_error, FellBehind) for e in result.errors or ()):
                    return None
                payload: dict[str, Any] = {"data": result.data}
                if result.errors:
                    payload["errors"] = [e.formatted for e in result.errors]
                pending.add(dumps(payload))
                produced += 1
                if len(pending) >= PENDING:  # the writer is behind: let it catch up
                    await pending.drained()
                elif produced % BATCH == 0:  # a long replay or batch: let other tasks run
                    await asyncio.sleep(0)
        return COMPLETE

    async def _write(self, group: Group, pending: _Pending) -> None:
        """The group's one writer: whatever results are waiting, to every member at once."""
        while True:
            payloads = await pending.take()
            try:
                await self._deliver(group, payloads)
            except Exception:  # a bug, not a socket: the members must not wait forever
                logger.exception("subscription group: delivery failed")

    async def _deliver(self, group: Group, payloads: list[str]) -> None:
        """Results to every member, in order, a slice of members at a time: between slices the
        loop runs other tasks (a writer's mutation, other groups), so that a large group never
        starves them. An idle member with a direct socket gets all of them in one write.

        This runs for every member on every event, so it takes few Python steps per member: the
        frames are built once per distinct operation id (members with the same one share its
        interned prefix, compared by identity), and a member's checks are attributes."""
        frames: dict[str, tuple[list[str], bytes]] = {}
        counts: dict[Callable[[int], None], int] = {}
        n = len(payloads)
        size = self.slice_size
        members = list(group.members)
        prefix: str | None = None
        texts: list[str] = []
        encoded = b""
        began = time.perf_counter()
        for start in range(0, len(members), size):
            if start:
                await self._pause(began)
                began = time.perf_counter()
            for member in members[start : start + size]:
                if member.prefix is not prefix:
                    prefix = member.prefix
                    frame = frames.get(prefix)
                    if frame is None:
                        built = [prefix + payload + "}" for payload in payloads]
                        frame = frames[prefix] = (built, b"".join(map(text_frame, built)))
                    texts, encoded = frame
                if member.write(encoded):
                    counted = member.counted
                    if counted is not None:
                        counts[counted] = counts.get(counted, 0) + n
                else:
                    for text in texts:
                        member.offer(text)  # never waits: a full inbox ends that member alone
        for count, total in counts.items():
            count(total)

    async def _pause(self, began: float) -> None:
        """Between two slices: let other tasks run; while HTTP requests are in flight, rest as
        long as the slice took (hub/live/priority.py), so that they get at least half the loop."""
        requests = self.requests
        if requests is not None and requests.active:
            took = time.perf_counter() - began
            await asyncio.sleep(min(max(took, REST[0]), REST[1]))
        else:
            await asyncio.sleep(0)


class _Pending:
    """Serialised results the group's execution produced and its writer has not taken yet."""

    def __init__(self) -> None:
        self._payloads: list[str] = []
        self._ready = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()

    def __len__(self) -> int:
        return len(self._payloads)

    def add(self, payload: str) -> None:
        self._payloads.append(payload)
        self._ready.set()
        self._idle.clear()

    async def take(self) -> list[str]:
        """Everything waiting, once there is something (the previous batch is written)."""
        if not self._payloads:
            self._idle.set()
        await self._ready.wait()
        self._ready.clear()
        payloads, self._payloads = self._payloads, []
        return payloads

    async def drained(self) -> None:
        """Until the writer has written everything added so far."""
        await self._idle.wait()


class GroupedTransportWS(BaseGraphQLTransportWSHandler[Any, Any]):
    """graphql-transport-ws whose subscriptions run in shared groups (queries run alone)."""

    @property
    def fanout(self) -> Fanout:
        fanout: Fanout = self.view.fanout  # type: ignore[attr-defined]
        return fanout

    async def run_operation(self, operation: Operation[Any, Any]) -> None:
        try:
            document = parse(operation.query)
            ast = get_operation_ast(document, operation.operation_name)
        except GraphQLError:
            ast = None
        if ast is None or ast.operation is not OperationType.SUBSCRIPTION:
            await super().run_operation(operation)
            return
        caller = getattr(self.context, "caller", None)
        key = (
            operation.query,
            dumps(operation.variables or {}),
            operation.operation_name,
            None if caller is None else (frozenset(caller.scopes), caller.partner, caller.policy),
        )
        context = self.context

        async def start(group: Group) -> None:
            results = await self.schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=context,
                root_value=self.root_value,
                operation_name=operation.operation_name,
            )
            await self.fanout.run(group, results)

        # The schema's metrics count the group's one execution; count the other members here,
        # so that the gauge and the delivered-events counter speak of sockets, not executions.
        metrics = getattr(self.view, "metrics", None)
        follower = key in self.fanout.groups
        member = self.fanout.join(key, operation.id, start)
        if follower and metrics is not None:
            metrics.subscription_opened()
        try:
            await self._write(operation, member, metrics if follower else None)
        finally:
            self.fanout.leave(member)
            if follower and metrics is not None:
                metrics.subscription_closed()

    async def _write(self, operation: Operation[Any, Any], member: Member, metrics: Any) -> None:
        async def send(message: str) -> None:
            await self.websocket.ws.send_text(message)  # type: ignore[attr-defined]
            if metrics is not None:
                metrics.events_delivered()

        member.direct = Direct.of(self.websocket.ws)  # type: ignore[attr-defined]
        member.counted = None if metrics is None else metrics.events_delivered
        try:
            end = await member.pump(send)
        except FellBehind as behind:
            await self.websocket.close(code=CLOSE_FELL_BEHIND, reason=str(behind))
            return
        except Exception:  # the socket went away; the handler cleans up
            return
        if end.errors is None:
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        else:
            await operation.send_operation_message(
                {"id": operation.id, "type": "error", "payload": end.errors}
            )
