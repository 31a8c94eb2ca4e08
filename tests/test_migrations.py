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
