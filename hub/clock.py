"""The hub's one source of "now".

Every reading of the time (search's "started" and "starting soon", expiry, tokens, caches, rate
limits, sync schedules) goes through a `Clock` that the app factory owns and hands out, so that a
test sets the date instead of depending on the day it runs, and moves time instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta

__all__ = ["Clock", "ManualClock", "SystemClock", "TimeWatch", "answer_reads_time", "watching_time"]


class Clock:
    """Wall time (timezone-aware, UTC) and a monotonic time for durations and cache ages."""

    def now(self) -> datetime:
        raise NotImplementedError

    def monotonic(self) -> float:
        raise NotImplementedError

    async def sleep(self, seconds: float) -> None:
        """Wait until `seconds` of this clock have passed (a token's expiry, a retry)."""
        raise NotImplementedError

    def timestamp(self) -> int:
        """Seconds since the epoch, as JWT claims count them."""
        return int(self.now().timestamp())


class SystemClock(Clock):
    """The machine's clock: what the hub uses when it runs for real."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ManualClock(Clock):
    """A clock that moves only when told: tests set the date and move time, never sleep."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)
        self._monotonic = 1000.0
        # Sleepers may wait on another thread's event loop (the app under a TestClient).
        self._lock = threading.Lock()
        self._sleepers: list[tuple[float, asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._monotonic

    def advance(self, seconds: float = 0.0, **delta: float) -> datetime:
        """Move both readings forward (seconds, or timedelta's keywords: days=, hours=...)."""
        step = timedelta(seconds=seconds, **delta)
        if step < timedelta(0):
            raise ValueError("time only moves forward")
        self._now += step
        self._monotonic += step.total_seconds()
        self._wake()
        return self._now

    def set(self, when: datetime) -> None:
        """Jump the wall time (either way); the monotonic reading moves forward by as much, or
        stays when the jump is backwards, as a monotonic clock would."""
        step = (when.astimezone(UTC) - self._now).total_seconds()
        self._now = when.astimezone(UTC)
        self._monotonic += max(step, 0.0)
        self._wake()

    async def sleep(self, seconds: float) -> None:
        """Returns once the clock has been moved past `seconds` from now."""
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            self._sleepers.append((self._monotonic + seconds, loop, future))
        await future

    @property
    def sleepers(self) -> int:
        """How many sleeps are waiting for the clock to move (tests wait for one to start)."""
        with self._lock:
            return sum(1 for _, _, future in self._sleepers if not future.done())

    def _wake(self) -> None:
        with self._lock:
            due = [s for s in self._sleepers if s[0] <= self._monotonic]
            self._sleepers = [s for s in self._sleepers if s[0] > self._monotonic]
        for _, loop, future in due:
            if not loop.is_closed():
                loop.call_soon_threadsafe(_resolve, future)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class TimeWatch:
    """Whether the answer being computed read "now" (a search ordered by STARTING_SOON): such an
    answer changes as time passes, without any write, so the response cache must not keep it."""

    __slots__ = ("read",)

    def __init__(self) -> None:
        self.read = False


_watch: ContextVar[TimeWatch | None] = ContextVar("hub_time_watch", default=None)


@contextlib.contextmanager
def watching_time() -> Iterator[TimeWatch]:
    """Watch one request: resolvers run in this context or in tasks copied from it, and mark the
    same TimeWatch object."""
    watch = TimeWatch()
    token = _watch.set(watch)
    try:
        yield watch
    finally:
        _watch.reset(token)


def answer_reads_time() -> None:
    """Say that the answer being computed depends on the current time."""
    watch = _watch.get()
    if watch is not None:
        watch.read = True
