"""A subscriber's one bounded queue, and the one thing that happens when it overflows.

Whoever feeds an inbox never waits: `offer` either queues the item or, when the inbox is full,
drops everything pending and marks the subscriber as fallen behind. Its reader then gets
`FellBehind` from `get`, and only it: the feeder and every other subscriber carry on. Nothing is
lost, since a subscriber resumes from the cursor of the last event it received.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

from hub.errors import HubError

__all__ = ["FellBehind", "Inbox"]

T = TypeVar("T")


class FellBehind(HubError):
    """Events came faster than this subscriber read them: resume from your last cursor.

    A HubError, so GraphQL transports show it as it is (code FELL_BEHIND); the
    graphql-transport-ws fan-out closes the socket with 4290 on seeing it.
    """

    code = "FELL_BEHIND"

    def __init__(self, message: str = "fell behind: resume from your last cursor") -> None:
        super().__init__(message)


class Inbox(Generic[T]):
    """A bounded queue read by one subscriber; overflowing it ends that subscriber alone."""

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError("an inbox holds at least one item")
        self.size = size
        self.fell_behind = False
        # Nothing queued and not fallen behind: a plain attribute, not a call, since the fan-out
        # reads it for every member on every event (hub/live/member.py).
        self.quiet = True
        self._items: deque[T] = deque()
        self._ready = asyncio.Event()

    def __len__(self) -> int:
        return len(self._items)

    def offer(self, item: T) -> bool:
        """Queue `item` without waiting; False when the subscriber has fallen behind."""
        if self.fell_behind:
            return False
        if len(self._items) >= self.size:
            self.overflow()
            return False
        self._items.append(item)
        self.quiet = False
        self._ready.set()
        return True

    def overflow(self) -> None:
        """Drop what is pending and tell the reader to resume from its cursor."""
        self.fell_behind = True
        self.quiet = False
        self._items.clear()
        self._ready.set()

    async def get(self) -> T:
        """The next item; raises FellBehind once the inbox has overflowed."""
        while True:
            if self.fell_behind:
                raise FellBehind
            if self._items:
                item = self._items.popleft()
                if not self._items:
                    self.quiet = True  # not fallen behind: checked above, nothing runs between
                    self._ready.clear()
                return item
            await self._ready.wait()
