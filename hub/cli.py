"""The `entraide-hub` command: serve · migrate · demo · schema export."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from hub.settings import Settings, SettingsError, load_settings

__all__ = ["main"]


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, object] = {}
    if getattr(args, "host", None):
        overrides["host"] = args.host
    if getattr(args, "port", None):
        overrides["port"] = args.port
    return load_settings(**overrides)


async def _migrate(settings: Settings) -> None:
    from hub.storage.db import make_engine
    from hub.storage.migrate import upgrade

    engine = make_engine(settings)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def _load_demo(settings: Settings) -> int:
    from hub.demo import load_demo
    from hub.storage.db import make_engine
    from hub.storage.migrate import upgrade

    engine = make_engine(settings)
    try:
        await upgrade(engine)
        return await load_demo(engine)
    finally:
        await engine.dispose()


def _serve(settings: Settings) -> None:
    import uvicorn

    from hub.app import create_app

    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        ws_per_message_deflate=False,
        timeout_graceful_shutdown=10,
    )


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = _settings(args)
    asyncio.run(_migrate(settings))
    print(f"schema up to date on {settings.database_url.split('://', 1)[0]}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    _serve(_settings(args))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from hub.demo import FIRST_QUERY

    settings = _settings(args)
    total = asyncio.run(_load_demo(settings))
    url = f"http://{settings.host}:{settings.port}/graphql"
    print(f"Demo catalogue ready: {total} missions.")
    print(f"Explorer: {url}")
    print("First query to try:\n")
    print(FIRST_QUERY)
    print()
    if args.no_serve:
        return 0
    _serve(settings)
    return 0


def cmd_schema_export(args: argparse.Namespace) -> int:
    from schema.export import export_sdl

    sdl = export_sdl()
    if args.output == "-":
        sys.stdout.write(sdl)
    else:
        Path(args.output).write_text(sdl, encoding="utf-8")
        print(f"wrote {args.output}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="entraide-hub",
        description="Entraide Hub: corporate volunteering missions over GraphQL.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def with_bind(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--host", help="bind address (default from HUB_HOST, 127.0.0.1)")
        p.add_argument("--port", type=int, help="port (default from HUB_PORT, 8000)")
        return p

    with_bind(commands.add_parser("serve", help="serve the API")).set_defaults(func=cmd_serve)
    commands.add_parser("migrate", help="bring the database schema up to date").set_defaults(
        func=cmd_migrate
    )
    demo = with_bind(commands.add_parser("demo", help="migrate, load demo data, serve"))
    demo.add_argument("--no-serve", action="store_true", help="load the demo data and exit")
    demo.set_defaults(func=cmd_demo)
    schema = commands.add_parser("schema", help="schema tools")
    schema_commands = schema.add_subparsers(dest="schema_command", required=True)
    export = schema_commands.add_parser("export", help="write the SDL")
    export.add_argument("--output", "-o", default="schema/schema.graphql", help="file, or -")
    export.set_defaults(func=cmd_schema_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        return int(args.func(args))
    except SettingsError as exc:
        print(f"entraide-hub: {exc}", file=sys.stderr)
        return 2
