"""Subscriptions that ask the same thing share one execution (graphql-transport-ws).

An intranet's pages all subscribe with the same document and variables, under the same
company policy. Executing and serialising each event once per subscriber is what made
subscriptions slow (see PERFORMANCE.md); here a group of identical subscriptions runs one
execution, serialises each result once, and every member only frames those bytes with its
own operation id. Each member has its own bounded queue and writer: a slow socket is closed
with 4290 (resume from your cursor) and never holds the others back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Hashable
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

from hub.live.stream import CLOSE_TOO_SLOW

__all__ = ["Fanout", "GroupedTransportWS"]

logger = logging.getLogger("hub.live.fanout")

_COMPLETE = object()


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


@dataclass(eq=False)
class _Member:
    operation: Operation[Any, Any]
    queue: asyncio.Queue[Any]
    prefix: str = ""

    def __post_init__(self) -> None:
        self.prefix = '{"id":' + _dumps(self.operation.id) + ',"type":"next","payload":'

    def offer(self, payload: str) -> bool:
        try:
            self.queue.put_nowait(self.prefix + payload + "}")
            return True
        except asyncio.QueueFull:
            return False


@dataclass(eq=False)
class _Group:
    key: Hashable
    members: set[_Member] = field(default_factory=set)
    task: asyncio.Task[None] | None = None


class Fanout:
    """The groups of one replica, keyed by document, variables, operation and caller's rights."""

    def __init__(self, queue_size: int = 1000) -> None:
        self.queue_size = queue_size
        self.groups: dict[Hashable, _Group] = {}

    @property
    def executions(self) -> int:
        return len(self.groups)

    def join(
        self,
        key: Hashable,
        operation: Operation[Any, Any],
        start: Callable[[_Group], Any],
    ) -> _Member:
        member = _Member(operation, asyncio.Queue(maxsize=self.queue_size))
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = _Group(key)
            group.members.add(member)
            group.task = asyncio.create_task(start(group))
        else:
            group.members.add(member)
        return member

    def leave(self, member: _Member) -> None:
        for key, group in list(self.groups.items()):
            if member in group.members:
                group.members.discard(member)
                if not group.members and group.task is not None:
                    group.task.cancel()
                    self.groups.pop(key, None)

    async def run(self, group: _Group, results: Any, too_slow: Callable[[], bool]) -> None:
        """Execute once; hand each result, serialised once, to every member."""
        try:
            first = True
            async with aclosing(results):
                async for result in results:
                    if first and isinstance(result, PreExecutionError):
                        errors = [e.formatted for e in result.errors or []]
                        for member in list(group.members):
                            member.queue.put_nowait(("error", errors))
                        return
                    first = False
                    assert isinstance(result, ExecutionResult)
                    payload: dict[str, Any] = {"data": result.data}
                    if result.errors:
                        payload["errors"] = [e.formatted for e in result.errors]
                    encoded = _dumps(payload)
                    for member in list(group.members):
                        if not member.offer(encoded):
                            group.members.discard(member)
                            member.queue = _overflowed(member.queue)
            reason = "too slow: resume from your cursor" if too_slow() else None
            for member in list(group.members):
                with contextlib.suppress(asyncio.QueueFull):
                    member.queue.put_nowait(("close", reason) if reason else _COMPLETE)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # one group's failure ends that group's members only
            logger.exception("subscription group failed")
            for member in list(group.members):
                with contextlib.suppress(asyncio.QueueFull):
                    member.queue.put_nowait(("error", [GraphQLError(str(exc)).formatted]))
        finally:
            self.groups.pop(group.key, None)


def _overflowed(queue: asyncio.Queue[Any]) -> asyncio.Queue[Any]:
    """A fresh queue whose only item tells the member's writer to close with 4290."""
    fresh: asyncio.Queue[Any] = asyncio.Queue()
    fresh.put_nowait(("close", "too slow: resume from your cursor"))
    # The writer may be waiting on the old queue: wake it so that it switches.
    with contextlib.suppress(asyncio.QueueFull):
        queue.put_nowait(("switch", None))
    return fresh


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
            _dumps(operation.variables or {}),
            operation.operation_name,
            None if caller is None else (frozenset(caller.scopes), caller.partner, caller.policy),
        )
        context = self.context

        def start(group: _Group) -> Any:
            async def execute() -> None:
                results = await self.schema.stream(
                    operation.query,
                    variable_values=operation.variables,
                    context_value=context,
                    root_value=self.root_value,
                    operation_name=operation.operation_name,
                )
                await self.fanout.run(
                    group, results, lambda: bool(getattr(context, "too_slow", False))
                )

            return execute()

        # The schema's metrics count the group's one execution; count the other members here,
        # so that the gauge and the delivered-events counter speak of sockets, not executions.
        metrics = getattr(self.view, "metrics", None)
        follower = key in self.fanout.groups
        member = self.fanout.join(key, operation, start)
        if follower and metrics is not None:
            metrics.subscription_opened()
        try:
            await self._write(member, metrics if follower else None)
        finally:
            self.fanout.leave(member)
            if follower and metrics is not None:
                metrics.subscription_closed()

    async def _write(self, member: _Member, metrics: Any = None) -> None:
        operation = member.operation
        while True:
            item = await member.queue.get()
            if isinstance(item, str):
                try:
                    await self.websocket.ws.send_text(item)  # type: ignore[attr-defined]
                except Exception:  # the socket went away; the handler cleans up
                    return
                if metrics is not None:
                    metrics.events_delivered()
                continue
            if item is _COMPLETE:
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
                return
            kind, value = item
            if kind == "switch":
                continue  # the queue was replaced: read the new one
            if kind == "error":
                await operation.send_operation_message(
                    {"id": operation.id, "type": "error", "payload": value}
                )
                return
            if kind == "close":
                await self.websocket.close(code=CLOSE_TOO_SLOW, reason=value)
                return
