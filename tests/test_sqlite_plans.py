"""SQLite's plans for the collapsed searches stay on the shown listings' partial indexes once the
store has planner statistics (an operator's `ANALYZE` or `PRAGMA optimize`).

The statistics are those `ANALYZE` wrote for a 200,000-mission store (a copy of the shared
harness's store, ANALYZEd), loaded into a small migrated store: SQLite plans from sqlite_stat1,
not from the rows, so the plan is the large store's. With the `canonical_pk` index over every
listing, these statistics made SQLite read the catalogue through it (`canonical_pk IS NULL`) and
sort it for each page: 630 ms instead of 1 ms. A rare label criterion (hub.storage.label_rarity)
is the exception by design: its few listings are read by primary key, then sorted, with the
statistics and without them (where SQLite, left to itself, walked the shown listings' index
testing the label's list: the whole catalogue for a label no open listing carries; the
statement keeps the other terms off the indexes, hub.storage.search.drives_from_labels). Runs
on its own SQLite files in every pass.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from hub.catalogue.filters import MissionFilter, MissionOrder
from hub.catalogue.model import Remote
from hub.settings import load_settings
from hub.storage.compiled_search import search_page
from hub.storage.db import make_engine
from hub.storage.migrate import upgrade
from hub.storage.read_pool import ReadPool
from hub.storage.repository import MissionRepository
from tests.conftest import run

# sqlite_stat1 of the 200,000-mission store (bench/copy_store.py's copy, then ANALYZE).
LARGE_STORE = {
    ("missions", "ix_missions_shown_remote_sort"): "160386 53462 1 1",
    ("missions", "ix_missions_shown_sort"): "160386 1 1",
    ("missions", "ix_missions_canonical_pk"): "200000 37",
    ("missions", "ix_missions_organization_pk"): "200000 43",
    ("missions", "ix_missions_start_at"): "200000 79",
    ("missions", "ix_missions_status_sort"): "200000 100000 1 1",
    ("missions", "ix_missions_updated_at"): "200000 897",
    ("missions", "sqlite_autoindex_missions_1"): "200000 66667 1",
    ("missions", "sqlite_autoindex_missions_2"): "200000 1",
    ("mission_causes", "ix_mission_causes_cause"): "331990 16600 1",
    ("mission_causes", "sqlite_autoindex_mission_causes_1"): "331990 2 1",
    ("mission_skills", "ix_mission_skills_skill"): "256211 9151 1",
    ("mission_skills", "sqlite_autoindex_mission_skills_1"): "256211 2 1",
}

SEARCHES = {
    "recent": MissionFilter(),
    "remote and skill (the anchor)": MissionFilter(remote=(Remote.FULL,), skills=("design",)),
    "cause": MissionFilter(causes=("environnement",)),
}


class _Recorder:
    """The read pool's interface, recording the statements the compiled path runs."""

    def __init__(self, pool: ReadPool) -> None:
        self.engine = pool.engine
        self.pool = pool
        self.statements: list[tuple[str, tuple[Any, ...]]] = []

    async def fetch(self, sql: str, args: tuple[Any, ...], *, generic_plan: bool = False) -> Any:
        self.statements.append((sql, args))
        return await self.pool.fetch(sql, args, generic_plan=generic_plan)


@pytest.fixture(params=["analysed", "without statistics"])
def analysed_store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated store, with the large store's planner statistics or, as an embedded store
    nobody ANALYZEs has, none."""
    path = tmp_path / "analysed.db"

    async def migrate() -> None:
        engine = make_engine(load_settings(database_url=f"sqlite+aiosqlite:///{path}"))
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    run(migrate())
    if request.param == "without statistics":
        return str(path)
    db = sqlite3.connect(path)
    try:
        db.execute("ANALYZE")  # creates sqlite_stat1
        db.execute("DELETE FROM sqlite_stat1")
        db.executemany(
            "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?, ?, ?)",
            [(table, index, stat) for (table, index), stat in LARGE_STORE.items()],
        )
        db.commit()
    finally:
        db.close()
    return str(path)


def _plans(path: str, statements: list[tuple[str, tuple[Any, ...]]]) -> list[str]:
    db = sqlite3.connect(path)  # a new connection reads the statistics
    try:
        return [
            " | ".join(row[3] for row in db.execute("EXPLAIN QUERY PLAN " + sql, args))
            for sql, args in statements
        ]
    finally:
        db.close()


@pytest.mark.parametrize("name", SEARCHES)
def test_collapsed_searches_read_the_shown_listings_in_order(
    analysed_store: str, name: str, label_reading: str
) -> None:
    flt = SEARCHES[name]
    url = f"sqlite+aiosqlite:///{analysed_store}"

    async def go() -> tuple[list[Any], list[Any]]:
        engine = make_engine(load_settings(database_url=url))
        pool = ReadPool(engine, 1)
        recorder = _Recorder(pool)
        generic: list[tuple[str, tuple[Any, ...]]] = []

        def seen(_conn: Any, _cursor: Any, sql: str, args: Any, *_: Any) -> None:
            if re.search(r"ORDER BY [(+ ]*missions\.sort_date\)* DESC", sql):
                generic.append((sql, tuple(args)))

        event.listen(engine.sync_engine, "before_cursor_execute", seen)
        try:
            now = datetime(2026, 11, 15, 12, 0, tzinfo=UTC)
            await search_page(recorder, None, flt, MissionOrder.RECENT, 20, None, None, now)  # type: ignore[arg-type]
            page, _ = await MissionRepository(engine).search(flt, MissionOrder.RECENT, 20, None)
            assert page.items == []
            return recorder.statements, generic
        finally:
            await pool.aclose()
            await engine.dispose()

    compiled, generic = run(go())
    assert len(compiled) == 1 and len(generic) == 1, (compiled, generic)
    from_labels = label_reading == "from-labels" and (flt.causes or flt.skills)
    for plan in _plans(analysed_store, compiled + generic):
        outer = plan.split(" | ")[0]
        if from_labels:
            # A rare label: the few listings its rows name, by primary key, then sorted.
            assert outer == "SEARCH missions USING INTEGER PRIMARY KEY (rowid=?)", plan
            continue
        # The page's order read from an index: no sort of the catalogue, and never through the
        # merged missions' members index.
        assert "TEMP B-TREE FOR ORDER BY" not in plan, plan
        assert outer.startswith(("SEARCH missions USING ", "SCAN missions USING ")), plan
        assert "ix_missions_canonical_pk" not in outer, plan
