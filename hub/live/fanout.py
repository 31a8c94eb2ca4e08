"""Subscriptions that ask the same thing share one execution (graphql-transport-ws).

An intranet's pages all subscribe with the same document and variables, under the same
company policy. Executing and serialising each event once per subscriber is what made
subscriptions slow (see PERFORMANCE.md); here a group of identical subscriptions runs one
execution, serialises each result once, and every member only frames those bytes with its
own operation id. Each member has one Inbox (hub/live/inbox.py) and one writer: a member that
falls behind gets FellBehind, its socket is closed with 4290 (resume from your cursor), and it
never holds the others back. When the group's execution itself falls behind the stream, its
subscription ends with FellBehind, and every member is told the same way.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Hashable
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

from hub.live.inbox import FellBehind, Inbox
from hub.live.stream import CLOSE_FELL_BEHIND

__all__ = ["End", "Fanout", "GroupedTransportWS", "Member"]

logger = logging.getLogger("hub.live.fanout")


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


@dataclass(frozen=True)
class End:
    """The group's stream ended: completed, or with these (formatted) errors."""

    errors: list[Any] | None = None


COMPLETE = End()


@dataclass(eq=False)
class Member:
    """One subscription of one socket in a group: its inbox of framed messages."""

    id: str
    inbox: Inbox[str | End]
    prefix: str = ""

    def __post_init__(self) -> None:
        self.prefix = '{"id":' + _dumps(self.id) + ',"type":"next","payload":'

    def offer(self, payload: str) -> bool:
        return self.inbox.offer(self.prefix + payload + "}")

    async def pump(self, send: Callable[[str], Awaitable[None]]) -> End:
        """Send this member's messages until its stream ends; raises FellBehind when it fell
        behind (its inbox overflowed, or the group's execution fell behind the stream)."""
        while True:
            item = await self.inbox.get()
            if isinstance(item, End):
                return item
            await send(item)


@dataclass(eq=False)
class Group:
    """Identical subscriptions: one execution (its task) serving every member."""

    key: Hashable
    members: set[Member] = field(default_factory=set)
    task: asyncio.Task[None] | None = None


class Fanout:
    """The groups of one replica, keyed by document, variables, operation and caller's rights."""

    def __init__(self, queue_size: int = 1000) -> None:
        self.queue_size = queue_size
        self.groups: dict[Hashable, Group] = {}

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
        """The end of the group's stream; None when the execution fell behind the stream."""
        first = True
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
                encoded = _dumps(payload)
                for member in list(group.members):
                    member.offer(encoded)  # never waits: a full inbox ends that member alone
        return COMPLETE


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
