"""Background loops stop between their steps (hub/background.py): the step under way ends, no
other starts, and a loop stopped in the middle of its database writes leaves no task behind for
the event loop's shutdown to cancel a second time (with aiosqlite, such a task's connection
close can wait forever: the CI hang this module was written for)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from hub.background import Steps
from hub.live.fanout import Fanout, Group


async def _until(fact: object) -> None:
    """Let the loop run until `fact()` holds (bounded by the suite's timeout)."""
    while not fact():  # type: ignore[operator]
        await asyncio.sleep(0)  # sleep-ok: a yield to the loop, no time


async def test_stop_lets_the_step_under_way_finish_then_cancels_the_wait() -> None:
    steps = Steps("test")
    gate, finished = asyncio.Event(), []

    async def loop() -> None:
        while not steps.stopping:
            with steps.step():
                await gate.wait()
                finished.append(True)
            await asyncio.Event().wait()  # between steps: waits until cancelled

    task = asyncio.create_task(loop())
    await _until(lambda: steps.running == 1)
    stopping = asyncio.create_task(steps.stop(task))
    for _ in range(20):
        await asyncio.sleep(0)  # sleep-ok: a yield to the loop, no time
    assert not stopping.done() and not task.done()  # the step holds the stop
    gate.set()
    await stopping
    assert finished == [True]  # the step ran to its end
    assert task.cancelled()  # then the loop was cancelled where it waited
    assert steps.running == 0


async def test_no_step_starts_once_stop_is_asked() -> None:
    steps = Steps("test")
    entered_while_stopping: list[bool] = []
    count = 0

    async def loop() -> None:
        nonlocal count
        while not steps.stopping:
            with steps.step():
                entered_while_stopping.append(steps.stopping)
                count += 1
                await asyncio.sleep(0)  # sleep-ok: a yield to the loop, no time

    task = asyncio.create_task(loop())
    await _until(lambda: count >= 5)
    await steps.stop(task)
    assert task.done()
    assert not any(entered_while_stopping)


async def test_a_step_past_the_grace_is_cancelled_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    steps = Steps("stuck loop", grace_seconds=0.05)

    async def loop() -> None:
        with steps.step():
            await asyncio.Event().wait()  # never ends on its own

    task = asyncio.create_task(loop())
    await _until(lambda: steps.running == 1)
    with caplog.at_level(logging.WARNING, logger="hub.background"):
        await steps.stop(task)
    assert task.cancelled() and steps.running == 0
    assert "stuck loop: a step still ran after 0.05 s" in caplog.text


@pytest.mark.parametrize("yields_before_stop", [0, 1, 2, 3, 5, 8, 13, 21, 34])
async def test_writers_stopped_mid_write_leave_no_task_to_cancel_again(
    tmp_path: Path, yields_before_stop: int
) -> None:
    """Three loops writing through SQLAlchemy and aiosqlite, stopped at various points of their
    work; then every task still there is cancelled, as the event loop does when it shuts down.
    Cancelled twice instead (the loops' tasks, then whatever was left), such writers left a
    connection close behind that never ended, in nearly every trial. Here nothing may be left,
    and the engine closes."""
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'writes.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (a INTEGER)"))
    steps = Steps("writers", grace_seconds=30.0)
    writes = 0

    async def writer() -> None:
        nonlocal writes
        while not steps.stopping:
            with steps.step():
                async with engine.begin() as conn:
                    await conn.execute(text("INSERT INTO t VALUES (1)"))
                    await conn.execute(text("SELECT count(*) FROM t"))
                writes += 1
            await asyncio.sleep(0)  # sleep-ok: a yield to the loop, no time

    tasks = [asyncio.create_task(writer()) for _ in range(3)]
    for _ in range(yields_before_stop):
        await asyncio.sleep(0)  # sleep-ok: a yield to the loop, no time
    await steps.stop(*tasks)
    assert all(task.done() for task in tasks)
    left = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    if left:  # what the event loop's shutdown would do, bounded here
        for task in left:
            task.cancel()
        await asyncio.wait(left, timeout=10)
    assert left == [], f"tasks left behind: {left}"
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT count(*) FROM t"))).scalar()
    await engine.dispose()
    assert rows == writes  # every step that ended committed; none was cut in its middle


async def test_closing_the_fanout_ends_every_execution_with_one_cancellation_each() -> None:
    """A stopping replica's subscriptions: the execution whose last member left (cancelled
    then) and the one still serving members are both waited for, and neither is cancelled a
    second time while it cleans up."""
    fanout = Fanout()
    cancellations: dict[str, int] = {"left": 0, "serving": 0}
    cleaned = asyncio.Event()

    def execution(name: str) -> Any:
        async def start(_group: Group) -> None:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                cancellations[name] += 1
                try:
                    await cleaned.wait()  # its cleanup takes a while (a connection's close)
                except asyncio.CancelledError:
                    cancellations[name] += 1
                    raise
                raise

        return start

    left = fanout.join("left", "1", execution("left"))
    fanout.join("serving", "2", execution("serving"))
    await asyncio.sleep(0)  # sleep-ok: a yield to the loop, no time
    fanout.leave(left)  # its last member: the execution is cancelled now
    closing = asyncio.create_task(fanout.aclose())
    await _until(lambda: cancellations["serving"] == 1)
    assert not closing.done()  # waits for both cleanups
    cleaned.set()
    await closing
    assert cancellations == {"left": 1, "serving": 1}
    assert fanout.executions == 0


async def test_loops_may_run_again_on_steps_that_were_stopped() -> None:
    steps = Steps("test")
    rounds: list[int] = []

    async def loop(n: int) -> None:
        while not steps.stopping:
            with steps.step():
                rounds.append(n)
            await asyncio.Event().wait()

    first = asyncio.create_task(loop(1))
    await _until(lambda: rounds == [1])
    await steps.stop(first)
    second = asyncio.create_task(loop(2))  # e.g. a hub's lifespan entered again
    await _until(lambda: rounds == [1, 2])
    await steps.stop(second)
    assert first.cancelled() and second.cancelled()
