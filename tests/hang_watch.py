"""A pytest plugin (loaded by tests/conftest.py): when a test has run for `DUMP_AFTER_S`, every
asyncio task of every event loop still open in the process is printed with its stack, past
pytest's capture (to a copy of the standard error taken before any test, as pytest's own
faulthandler does). Thread stacks (faulthandler, pytest-timeout) show a loop waiting in `select`;
only the tasks show what it waits for: the CI hang of a TestClient's shutdown was a connection
close task that never ended (hub/background.py)."""

from __future__ import annotations

import asyncio
import gc
import os
import threading
import time
from collections.abc import Generator
from typing import Any

import pytest

DUMP_AFTER_S = 230.0  # before faulthandler_timeout (240 s) and pytest-timeout (300 s)

_running: dict[str, Any] = {"nodeid": None, "since": 0.0, "dumped": False}


def dump_tasks(out: Any) -> None:
    for obj in gc.get_objects():
        if not isinstance(obj, asyncio.AbstractEventLoop) or obj.is_closed():
            continue
        try:
            tasks = list(asyncio.all_tasks(obj))
        except RuntimeError:  # the loop's task set changed while read (another thread)
            continue
        print(f"~~~ asyncio tasks of {obj!r} ({len(tasks)}) ~~~", file=out)
        for task in tasks:
            print(f"--- {task!r}", file=out)
            task.print_stack(file=out)
    out.flush()


def _watch(out: Any) -> None:
    while True:
        time.sleep(5.0)  # sleep-ok: the watchdog's own period, no test waits on it
        nodeid = _running["nodeid"]
        if (
            nodeid
            and not _running["dumped"]
            and time.monotonic() - _running["since"] > DUMP_AFTER_S
        ):
            _running["dumped"] = True
            print(f"\n+++ {nodeid} has run for {DUMP_AFTER_S:g} s +++", file=out)
            dump_tasks(out)


def pytest_configure(config: pytest.Config) -> None:
    out = os.fdopen(os.dup(2), "w", encoding="utf-8", errors="replace")
    threading.Thread(target=_watch, args=(out,), name="hang-watch", daemon=True).start()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, object, object]:
    _running.update(nodeid=item.nodeid, since=time.monotonic(), dumped=False)
    try:
        return (yield)
    finally:
        _running["nodeid"] = None
