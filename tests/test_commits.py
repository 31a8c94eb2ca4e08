"""The committed-write hook the response cache listens to (hub/storage/commits.py): a write is
heard once its connection goes back to the pool; an UPDATE or DELETE that matched no row is not a
write (the webhook worker's hourly prune emptied the response cache each time)."""

from __future__ import annotations

from sqlalchemy import text

from hub.settings import Settings
from hub.storage.commits import on_committed_write
from hub.storage.db import make_engine
from tests.conftest import run


def test_a_statement_that_changed_no_row_is_not_heard(settings: Settings) -> None:
    async def go() -> list[str]:
        engine = make_engine(settings)
        heard: list[str] = []
        on_committed_write(engine, lambda: heard.append("write"))
        try:
            async with engine.begin() as conn:
                await conn.execute(text("DELETE FROM mission_events WHERE seq < 0"))
                await conn.execute(text("UPDATE partners SET name = name WHERE pk < 0"))
            heard.append("-- nothing changed above")
            async with engine.begin() as conn:
                await conn.execute(text("SELECT count(*) FROM missions"))
            heard.append("-- a read")
            async with engine.begin() as conn:
                await conn.execute(
                    text("INSERT INTO hub_state (key, value) VALUES ('commits-test', '1')")
                )
            heard.append("-- an insert")
            async with engine.begin() as conn:
                await conn.execute(text("DELETE FROM hub_state WHERE key = 'commits-test'"))
            heard.append("-- a delete of that row")
        finally:
            await engine.dispose()
        return heard

    assert run(go()) == [
        "-- nothing changed above",
        "-- a read",
        "write",
        "-- an insert",
        "write",
        "-- a delete of that row",
    ]
