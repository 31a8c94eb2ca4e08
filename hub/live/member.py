"""One subscriber of a fan-out group: its frames go straight to its socket when it is idle,
else through its bounded Inbox and its own writer (hub/live/fanout.py explains the groups)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from hub.live.frames import Direct
from hub.live.inbox import Inbox

__all__ = ["COMPLETE", "End", "Member", "dumps"]


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


@dataclass(frozen=True)
class End:
    """The group's stream ended: completed, or with these (formatted) errors."""

    errors: list[Any] | None = None


COMPLETE = End()


@dataclass(frozen=True, slots=True)
class _Stalled:
    """A send begun by the group's writer that had to wait (the socket's buffer is full): the
    member's own writer finishes it before anything else."""

    coroutine: Coroutine[Any, Any, None]
    waiting: Any  # what it waits on: an asyncio future, or None to yield once

    async def finish(self) -> None:
        waiting = self.waiting
        try:
            while True:
                if asyncio.isfuture(waiting):
                    # As a task does with the future a coroutine hands it: it is ours to wait
                    # on now. Its result or exception reaches the coroutine when it resumes.
                    waiting._asyncio_future_blocking = False
                    with contextlib.suppress(Exception):
                        await waiting
                else:  # a bare yield: let the loop run once
                    await asyncio.sleep(0)
                try:
                    waiting = self.coroutine.send(None)
                except StopIteration:
                    return
        finally:
            self.coroutine.close()  # nothing once it returned; ends it if we were cancelled


@dataclass(frozen=True, slots=True)
class _Failed:
    """The group's writer found this member's socket gone."""

    error: Exception


@dataclass(eq=False)
class Member:
    """One subscription of one socket in a group.

    The group's writer hands it each frame: when the socket is idle the frame is written there
    and then, with no task switch (as pre-encoded bytes straight to the transport when the
    socket allows it, `write`, else through ASGI, `offer`); otherwise (a send is under way,
    frames are waiting, or the socket's buffer is full) it waits in the member's inbox for the
    member's own writer, `pump`, so that frames always leave in order and a slow socket holds
    up only itself.
    """

    id: str
    inbox: Inbox[str | End | _Stalled | _Failed]
    prefix: str = ""
    send: Callable[[str], Awaitable[None]] | None = None  # set while `pump` runs
    busy: bool = False  # `pump` is sending
    direct: Direct | None = None  # the socket's transport, when frames can go straight to it
    counted: Callable[[int], None] | None = None  # counts the frames `write` wrote

    def __post_init__(self) -> None:
        # Interned: members with the same operation id share one prefix object, which the
        # fan-out compares by identity to reuse the frames it built for the previous member.
        self.prefix = sys.intern('{"id":' + dumps(self.id) + ',"type":"next","payload":')

    @property
    def idle(self) -> bool:
        """Its writer runs and has nothing under way or waiting: a frame may be written now."""
        return self.send is not None and not self.busy and self.inbox.quiet

    def write(self, frame: bytes) -> bool:
        """Write the encoded `frame` to the transport now, if the member is idle and its socket
        can take it without waiting; False when nothing was written (use `offer`). The fan-out
        calls it for every member on every event: `idle` is spelt out, not called."""
        direct = self.direct
        return (
            direct is not None
            and self.send is not None
            and not self.busy
            and self.inbox.quiet
            and direct.write(frame)
        )

    def offer(self, frame: str) -> bool:
        """Send `frame` now through ASGI if the socket is idle, else queue it; False when this
        member has fallen behind (its inbox overflowed)."""
        if not self.idle:
            return self.inbox.offer(frame)
        assert self.send is not None
        sending = self.send(frame)
        if not isinstance(sending, Coroutine):  # only a coroutine can be begun here
            return self.inbox.offer(_Stalled(_awaited(sending), None))
        try:
            waiting = sending.send(None)
        except StopIteration:
            return True  # written
        except Exception as error:  # the socket went away: its writer ends
            return self.inbox.offer(_Failed(error))
        return self.inbox.offer(_Stalled(sending, waiting))

    async def pump(self, send: Callable[[str], Awaitable[None]]) -> End:
        """Send this member's messages until its stream ends; raises FellBehind when it fell
        behind (its inbox overflowed, or the group's execution fell behind the stream)."""
        self.send = send
        try:
            while True:
                item = await self.inbox.get()
                if isinstance(item, End):
                    return item
                if isinstance(item, _Failed):
                    raise item.error
                self.busy = True
                try:
                    if isinstance(item, _Stalled):
                        await item.finish()
                    else:
                        await send(item)
                finally:
                    self.busy = False
        finally:
            self.send = None


async def _awaited(awaitable: Awaitable[None]) -> None:
    await awaitable
