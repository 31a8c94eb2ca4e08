"""Background loops that stop between their steps, never inside one.

Cancelling a task in the middle of a database call interrupts its work half done (a webhook
sent but not marked, a sweep's transaction rolled back) and, with SQLAlchemy over aiosqlite 0.22,
could leave the connection's close waiting forever when the task was cancelled again (the event
loop's own cancellation when it shuts down): the process never exited. hub/storage/db.py's
connections now survive that (`scripts/cancel_hazard.py`); the loops are still stopped between
their steps, so that shutting down interrupts nothing. The hub's loops (webhook sending, the live
stream's reads, the contact sweep, the scheduler) take their database work in `steps`, and
`stop()` asks them to end, waits for the step under way, bounded by a grace period, then cancels
the tasks where they wait between steps. A loop checks `stopping` before it starts another step.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

__all__ = ["Steps"]

logger = logging.getLogger("hub.background")


class Steps:
    """The steps of one or more loops that stop together (`name` is for the log)."""

    def __init__(self, name: str, grace_seconds: float = 10.0) -> None:
        self.name = name
        self.grace_seconds = grace_seconds
        self._running = 0
        self._between = asyncio.Event()  # set while no step runs
        self._between.set()
        self._stopping = False

    @property
    def stopping(self) -> bool:
        """True while `stop()` runs: the loop starts no other step."""
        return self._stopping

    @property
    def running(self) -> int:
        return self._running

    @contextlib.contextmanager
    def step(self) -> Iterator[None]:
        """One unit of work that `stop()` lets finish rather than cancel."""
        self._running += 1
        self._between.clear()
        try:
            yield
        finally:
            self._running -= 1
            if not self._running:
                self._between.set()

    async def stop(self, *tasks: asyncio.Task[None] | None) -> None:
        """End the loops: wait (at most `grace_seconds`) until no step runs, then cancel the
        tasks, which are then waiting between steps, and wait for them to end."""
        self._stopping = True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.grace_seconds
        while self._running and loop.time() < deadline:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(deadline - loop.time()):
                    await self._between.wait()
        if self._running:  # the check and the cancel below run without a wait between them
            logger.warning(
                "%s: a step still ran after %g s; cancelled in its middle",
                self.name,
                self.grace_seconds,
            )
        live = [task for task in tasks if task is not None]
        for task in live:
            task.cancel()
        try:
            for task in live:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        finally:
            self._stopping = False  # the loops have ended: new ones may run on these steps
