"""Run the Alembic migrations programmatically, on the hub's own async engine."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.storage import match_states

__all__ = ["alembic_config", "include_name", "include_object", "upgrade"]

# The full-text index (FTS5 tables on SQLite, a generated tsvector on PostgreSQL) is made by
# hand in 0001 and is not in the metadata: autogenerate and drift checks leave it alone.
HAND_MADE = ("missions_fts", "search_tsv", "ix_missions_search_tsv", "alembic_version")


def include_name(name: str | None, type_: str, _parent: object) -> bool:
    return not (name is not None and name.startswith(HAND_MADE))


def include_object(
    _obj: object, name: str | None, type_: str, _reflected: bool, _other: object
) -> bool:
    return include_name(name, type_, None)


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(files("hub.storage") / "migrations"))
    return cfg


def _upgrade(connection: Connection, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema to `revision` inside one transaction (at head, the stored match states
    are derived again if `MatchState` changed: hub.storage.match_states).

    On SQLite, a batch ALTER copies a table and drops the old one, which foreign keys would
    refuse on a store that holds data; they are switched off for the migration (the pragma only
    works outside a transaction) and checked before commit.
    """
    if engine.dialect.name != "sqlite":
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade, revision)
            if revision == "head":
                await match_states.refresh(connection)
        return
    async with engine.connect() as connection:
        await connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        await connection.commit()
        try:
            async with connection.begin():
                await connection.run_sync(_upgrade, revision)
                if revision == "head":
                    await match_states.refresh(connection)
                broken = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).all()
                if broken:
                    raise RuntimeError(f"migration left broken foreign keys: {broken[:5]}")
        finally:
            await connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            await connection.commit()
