"""Alembic environment: migrations run on a connection the hub hands over (see migrate.py)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection

from hub.settings import load_settings
from hub.storage.db import make_engine
from hub.storage.migrate import include_name, include_object
from hub.storage.tables import metadata

target_metadata = metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        include_name=include_name,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_settings() -> None:
    engine = make_engine(load_settings())
    async with engine.begin() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:  # the `alembic` command line, e.g. `alembic revision --autogenerate`
    asyncio.run(_run_with_settings())
