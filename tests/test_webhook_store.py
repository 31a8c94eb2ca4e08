"""The webhook worker's list of active endpoints, kept between its wake-ups.

The worker wakes after every commit of the hub and read the active endpoints twice each time,
two statements a commit even on a hub with no webhook. The store now keeps the list for the
worker's poll interval: changes made through the same store are seen at once, changes made by
another process (here: another store on the same database) once the interval has passed, and a
cursor moved elsewhere makes `queue` refuse and the list be read again. Runs on the database of
the pass (SQLite, or PostgreSQL in CI).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.auth import ClientKind, ClientStore
from hub.clock import ManualClock
from hub.settings import Settings
from hub.storage.db import make_engine
from hub.storage.webhooks import ACTIVE, DISABLED, WebhookStore
from tests.conftest import run

KEPT_SECONDS = 1.0


class Reads:
    """Counts the statements that read the webhooks table's active endpoints."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.count = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        if (
            sql.lstrip().upper().startswith("SELECT")
            and "FROM webhooks" in sql
            and ("webhooks.status" in sql)
        ):
            self.count += 1


@pytest.fixture
def engine(settings: Settings, store: Any) -> Iterator[AsyncEngine]:  # store: a clean database
    made = make_engine(settings)
    yield made
    run(made.dispose())


async def _endpoint(store: WebhookStore, client_pk: int, clock: ManualClock, name: str) -> Any:
    now = clock.now()
    return await store.create(
        None,
        id=f"wh_{name}",
        client_pk=client_pk,
        url=f"https://receiver.example/{name}",
        events=["PUBLISHED"],
        filter={},
        secret="whsec_test",
        status=ACTIVE,
        cursor=0,
        created_at=now,
        updated_at=now,
    )


def test_the_active_list_is_kept_and_follows_what_changes_it(
    engine: AsyncEngine, clock: ManualClock
) -> None:
    async def go() -> None:
        company = await ClientStore(engine, ttl=0, clock=clock).create(ClientKind.COMPANY, "ACME")
        client_pk = company.record.pk
        kept = WebhookStore(engine, active_seconds=KEPT_SECONDS, clock=clock)
        elsewhere = WebhookStore(engine)  # another process's store: nothing kept
        reads = Reads(engine)

        # A hub with no webhook: one read for the interval, however often the worker wakes.
        for _ in range(5):
            assert await kept.active() == []
        assert reads.count == 1

        # Created through this store: seen at the next wake-up, without waiting.
        first = await _endpoint(kept, client_pk, clock, "first")
        assert [w.id for w in await kept.active()] == ["wh_first"]

        # Created by another process: seen once the interval has passed, not before.
        await _endpoint(elsewhere, client_pk, clock, "second")
        assert [w.id for w in await kept.active()] == ["wh_first"]
        clock.advance(KEPT_SECONDS + 0.1)
        assert [w.id for w in await kept.active()] == ["wh_first", "wh_second"]

        # This store's queue moves the kept cursor with the database's, without a read.
        before = reads.count
        assert await kept.queue(first.pk, 0, 7, [], clock.now())
        assert {w.id: w.cursor for w in await kept.active()} == {"wh_first": 7, "wh_second": 0}
        assert reads.count == before

        # Another process moves the cursor (a replay): the stale queue is refused, and the list
        # is read again at once.
        assert await elsewhere.queue(first.pk, 7, 9, [], clock.now())
        assert not await kept.queue(first.pk, 7, 8, [], clock.now())
        assert {w.id: w.cursor for w in await kept.active()}["wh_first"] == 9

        # Disabled through this store: gone from the list at once.
        await kept.change(first.pk, clock.now(), status=DISABLED, status_reason="test")
        assert [w.id for w in await kept.active()] == ["wh_second"]
        await kept.resume(first.pk, clock.now())
        assert [w.id for w in await kept.active()] == ["wh_first", "wh_second"]
        await kept.remove(first.pk)
        assert [w.id for w in await kept.active()] == ["wh_second"]

    run(go())


def test_a_read_begun_before_a_change_is_not_kept(engine: AsyncEngine, clock: ManualClock) -> None:
    """A change committed while a read of the old list was under way must not leave that old
    list kept for the interval."""

    async def go() -> None:
        company = await ClientStore(engine, ttl=0, clock=clock).create(ClientKind.COMPANY, "ACME")
        kept = WebhookStore(engine, active_seconds=KEPT_SECONDS, clock=clock)
        changed = False

        def change_during_the_read(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
            nonlocal changed
            if not changed and "FROM webhooks" in sql and "webhooks.status" in sql:
                changed = True
                kept._changed()  # what a write through this store does, mid-read

        event.listen(engine.sync_engine, "before_cursor_execute", change_during_the_read)
        assert await kept.active() == []  # read while the change happened: not kept
        event.remove(engine.sync_engine, "before_cursor_execute", change_during_the_read)
        await _endpoint(WebhookStore(engine), company.record.pk, clock, "late")
        assert [w.id for w in await kept.active()] == ["wh_late"]

    run(go())
