"""The migrations build exactly the tables the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from hub.settings import Settings
from hub.storage.db import make_engine
from hub.storage.migrate import include_name, include_object
from hub.storage.tables import metadata
from tests.conftest import run


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={"include_name": include_name, "include_object": include_object},
    )
    return list(compare_metadata(context, metadata))


def test_migrated_database_matches_the_declared_tables(settings: Settings) -> None:
    async def go() -> list[Any]:
        engine = make_engine(settings)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(_diff)
        finally:
            await engine.dispose()

    assert run(go()) == []


def test_upgrading_a_sqlite_store_that_holds_missions_keeps_them_searchable(
    tmp_path: Any,
) -> None:
    """Migrations that copy tables (SQLite batch mode) must work on a store in use."""
    from sqlalchemy import text

    from hub.catalogue.filters import MissionFilter, MissionOrder
    from hub.settings import load_settings
    from hub.storage.migrate import upgrade
    from hub.storage.repository import MissionRepository

    then = "'2026-01-01 00:00:00.000000'"
    rows = [
        "INSERT INTO partners (id, name, display_name, config, push_only, enabled, created_at) "
        f"VALUES ('ptn_old', 'old', 'old', '{{}}', 0, 1, {then})",
        "INSERT INTO missions (id, partner_pk, external_id, title, tags, engagement_type, remote,"
        " audience, status, created_at, updated_at, sort_date, search_text, title_terms, raw,"
        " match_state, content_hash) VALUES ('mis_old', 1, '1', 'Jardin partagé', '[]',"
        f" 'VOLUNTEERING', 'NONE', '[]', 'OPEN', {then}, {then}, {then}, 'jardin partag',"
        " ' jardin partag ', '{}', '{}', 'x')",
        "INSERT INTO mission_events (mission_pk, type, occurred_at)"
        f" VALUES (1, 'PUBLISHED', {then})",
    ]

    async def go() -> list[str]:
        engine = make_engine(load_settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/old.db"))
        try:
            await upgrade(engine, "0002")
            async with engine.begin() as conn:
                for statement in rows:
                    await conn.execute(text(statement))
            await upgrade(engine)
            page, _ = await MissionRepository(engine).search(
                MissionFilter(text="jardin"), MissionOrder.RECENT, 10, None
            )
            return [m.id for m in page.items]
        finally:
            await engine.dispose()

    assert run(go()) == ["mis_old"]
