"""What every command shares: settings and logging from the arguments, an engine, list values."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncEngine

from hub.observability.logs import configure_logging
from hub.settings import Settings, load_settings

__all__ = ["csv_values", "open_engine", "settings_from"]


def settings_from(args: argparse.Namespace) -> Settings:
    overrides: dict[str, object] = {}
    if getattr(args, "host", None):
        overrides["host"] = args.host
    if getattr(args, "port", None):
        overrides["port"] = args.port
    settings = load_settings(**overrides)
    fmt = settings.log_format
    if fmt == "auto":  # JSON for the server's collectors; text for a person at a terminal
        fmt = "json" if args.command == "serve" else "text"
    configure_logging(settings.log_level, fmt)
    return settings


@contextlib.asynccontextmanager
async def open_engine(settings: Settings, migrate: bool = False) -> AsyncIterator[AsyncEngine]:
    from hub.storage.db import make_engine
    from hub.storage.migrate import upgrade

    engine = make_engine(settings)
    try:
        if migrate:
            await upgrade(engine)
        yield engine
    finally:
        await engine.dispose()


def csv_values(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())
