"""Running the hub: serve, migrate, demo, schema export."""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
from pathlib import Path
from typing import Any

from hub.cli._shared import open_engine, settings_from
from hub.clock import SystemClock
from hub.settings import Settings

__all__ = ["add_commands"]


async def _migrate(settings: Settings) -> None:
    async with open_engine(settings, migrate=True):
        pass


async def _load_demo(settings: Settings) -> tuple[int, Any]:
    from hub.auth.admin import ensure_demo_clients
    from hub.demo.engagements import load_demo_engagements
    from hub.demo.load import DEMO_PARTNER, load_demo

    async with open_engine(settings, migrate=True) as engine:
        now = SystemClock().now()
        total = await load_demo(engine, now)
        credentials = await ensure_demo_clients(settings, engine, DEMO_PARTNER)
        company = credentials.company.record
        await load_demo_engagements(engine, now, company.pk, company.id)
        return total, credentials


def _serve(settings: Settings) -> None:
    import uvicorn

    from hub.web.app import create_app

    app = create_app(settings)
    # The app's long-lived objects (schema, caches) need no collecting: freeze them, and
    # collect the young generation less often. Measured in bench/subscriptions.py: the
    # collector took about 30% of the CPU of a busy live feed.
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_config=None,  # uvicorn's loggers go through ours (hub/observability/logs.py)
        ws_per_message_deflate=False,
        timeout_graceful_shutdown=10,
    )


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    asyncio.run(_migrate(settings))
    print(f"schema up to date on {settings.database_url.split('://', 1)[0]}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    _serve(settings_from(args))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from hub.demo.load import FIRST_QUERY

    settings = settings_from(args)
    total, credentials = asyncio.run(_load_demo(settings))
    base = f"http://{settings.host}:{settings.port}"
    print(f"Demo catalogue ready: {total} missions.")
    print(f"Explorer: {base}/graphql")
    print()
    print("Demo company client (missions:read, engagements:read, engagements:write; a few")
    print("demo engagements fill its engagementReport):")
    print(f"  client_id:     {credentials.company.client_id}")
    print(f"  client_secret: {credentials.company.client_secret}")
    print(
        "Demo partner client (missions:write, partner "
        + str(credentials.partner.record.partner)
        + "):"
    )
    print(f"  client_id:     {credentials.partner.client_id}")
    print(f"  client_secret: {credentials.partner.client_secret}")
    print(f"Token endpoint: POST {base}/oauth/token (client_credentials)")
    print()
    print(
        "A bearer token for the demo company, valid "
        f"{settings.token_ttl_seconds // 60} minutes; paste it in the explorer's headers:"
    )
    print(f'  {{"Authorization": "Bearer {credentials.company_token}"}}')
    print()
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


def add_commands(commands: Any) -> None:
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
