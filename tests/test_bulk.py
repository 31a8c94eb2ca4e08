"""`insert_rows` (COPY on PostgreSQL) and `update_rows` (one UPDATE on PostgreSQL) write what an
INSERT and an UPDATE of the same rows write."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update

from hub.ingest.service import apply
from hub.settings import Settings
from hub.storage.bulk import insert_rows, update_rows
from hub.storage.db import make_engine
from hub.storage.tables import mission_events, missions, partners
from tests.catalogue import filler
from tests.conftest import TEST_NOW, run


def _partner(name: str) -> dict[str, Any]:
    # Columns left out: config and state (callable defaults), push_only and enabled (scalar
    # ones), the rest nullable.
    return {"id": "ptn_" + name, "name": name, "display_name": name.title(), "created_at": TEST_NOW}


def test_insert_rows_writes_what_an_insert_writes(settings: Settings) -> None:
    async def go() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        engine = make_engine(settings)
        try:
            await apply(engine, "feed", filler(1), TEST_NOW)  # a mission for the events
            async with engine.begin() as conn:
                mission_pk = (await conn.execute(select(missions.c.pk))).scalar_one()
                await conn.execute(insert(partners), [_partner("a"), _partner("b")])
                await insert_rows(conn, partners, [_partner("c"), _partner("d")])
                rows = (await conn.execute(select(partners).order_by(partners.c.pk))).mappings()
                stored = [dict(row) for row in rows]
                events = [
                    {
                        "mission_pk": mission_pk,
                        "type": "PUBLISHED",
                        "occurred_at": TEST_NOW,
                        "previous": previous,
                        "state": {"status": "OPEN", "causes": ["sante"], "n": 1.5},
                    }
                    for previous in (None, {"status": "CLOSED"})
                ]
                await conn.execute(insert(mission_events), events)
                await insert_rows(conn, mission_events, events)
                logged = (
                    await conn.execute(select(mission_events).order_by(mission_events.c.seq))
                ).mappings()
                return stored, [dict(row) for row in logged]
        finally:
            await engine.dispose()

    stored, logged = run(go())
    assert [p["name"] for p in stored] == ["feed", "a", "b", "c", "d"]
    inserted, copied = stored[1:3], stored[3:]
    for by_insert, by_copy in zip(inserted, copied, strict=True):
        assert {
            k: v for k, v in by_copy.items() if k not in ("pk", "id", "name", "display_name")
        } == {k: v for k, v in by_insert.items() if k not in ("pk", "id", "name", "display_name")}
    assert copied[0]["config"] == {} and copied[0]["enabled"] is True
    # Positions in input order, values read back alike (a None previous, JSON, aware times).
    assert [e["seq"] for e in logged] == sorted(e["seq"] for e in logged)
    strip = [{k: v for k, v in e.items() if k != "seq"} for e in logged[-4:]]
    assert strip[2:] == strip[:2]
    assert strip[2]["occurred_at"] == TEST_NOW and strip[3]["previous"] == {"status": "CLOSED"}


def test_update_rows_writes_what_an_update_writes(settings: Settings) -> None:
    # Two missions changed alike, one by an UPDATE a row, the other by update_rows (on
    # PostgreSQL one UPDATE joined to arrays): JSON, a timestamp and a string, bound alike.
    async def go() -> list[dict[str, Any]]:
        engine = make_engine(settings)
        try:
            await apply(engine, "feed", filler(2), TEST_NOW)
            async with engine.begin() as conn:
                first, second = (await conn.execute(select(missions.c.pk))).scalars().all()
                values = {
                    "status": "EXPIRED",
                    "closed_at": TEST_NOW,
                    "match_state": {"status": "EXPIRED", "causes": ["sante"], "n": 1.5},
                }
                await conn.execute(update(missions).where(missions.c.pk == first).values(values))
                await update_rows(conn, missions, "pk", [{"pk": second, **values}])
                await update_rows(conn, missions, "pk", [])  # nothing to do
                rows = await conn.execute(
                    select(missions.c.status, missions.c.closed_at, missions.c.match_state)
                    .where(missions.c.pk.in_([first, second]))
                    .order_by(missions.c.pk)
                )
                return [dict(row) for row in rows.mappings()]
        finally:
            await engine.dispose()

    by_update, by_arrays = run(go())
    assert by_arrays == by_update
    assert by_arrays["status"] == "EXPIRED" and by_arrays["match_state"]["n"] == 1.5
