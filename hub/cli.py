"""The `entraide-hub` command: serve · migrate · demo · schema export."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from hub.clock import SystemClock
from hub.errors import UserInputError
from hub.observability.logs import configure_logging
from hub.settings import Settings, SettingsError, load_settings

__all__ = ["main"]


def _settings(args: argparse.Namespace) -> Settings:
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


async def _migrate(settings: Settings) -> None:
    from hub.storage.db import make_engine
    from hub.storage.migrate import upgrade

    engine = make_engine(settings)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def _load_demo(settings: Settings) -> tuple[int, Any]:
    from hub.auth.admin import ensure_demo_clients
    from hub.demo.load import DEMO_PARTNER, load_demo

    async with _engine(settings, migrate=True) as engine:
        total = await load_demo(engine, SystemClock().now())
        credentials = await ensure_demo_clients(settings, engine, DEMO_PARTNER)
        return total, credentials


@contextlib.asynccontextmanager
async def _engine(settings: Settings, migrate: bool = False) -> AsyncIterator[AsyncEngine]:
    from hub.storage.db import make_engine
    from hub.storage.migrate import upgrade

    engine = make_engine(settings)
    try:
        if migrate:
            await upgrade(engine)
        yield engine
    finally:
        await engine.dispose()


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
    settings = _settings(args)
    asyncio.run(_migrate(settings))
    print(f"schema up to date on {settings.database_url.split('://', 1)[0]}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    _serve(_settings(args))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from hub.demo.load import FIRST_QUERY

    settings = _settings(args)
    total, credentials = asyncio.run(_load_demo(settings))
    base = f"http://{settings.host}:{settings.port}"
    print(f"Demo catalogue ready: {total} missions.")
    print(f"Explorer: {base}/graphql")
    print()
    print("Demo company client (missions:read):")
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


def _csv(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


async def _clients(args: argparse.Namespace, settings: Settings) -> Any:
    from hub.auth.admin import describe
    from hub.auth.caller import ClientKind
    from hub.auth.clients import ClientStore
    from hub.catalogue.filters import Policy
    from hub.catalogue.model import EngagementType

    async with _engine(settings) as engine:
        store = ClientStore(engine, ttl=0)
        action = args.clients_command
        if action == "create":
            created = await store.create(
                ClientKind(args.kind), args.name, partner=args.partner, scopes=args.scope or None
            )
            return {"client_id": created.client_id, "client_secret": created.client_secret}
        if action == "list":
            return [describe(record) for record in await store.all()]
        if action in ("disable", "enable"):
            return describe(await store.set_enabled(args.client_id, action == "enable"))
        if action == "rotate-secret":
            rotated = await store.rotate_secret(args.client_id)
            return {"client_id": rotated.client_id, "client_secret": rotated.client_secret}
        if action == "policy":
            try:
                types = tuple(EngagementType(t.upper()) for t in _csv(args.engagement_types))
            except ValueError as exc:
                raise UserInputError(f"--engagement-types: {exc}") from exc
            policy = Policy(
                causes=_csv(args.causes),
                partners=_csv(args.partners),
                engagement_types=types,
                excluded_organizations=_csv(args.exclude_organizations),
            )
            return describe(await store.set_policy(args.client_id, policy))
        if action == "trusted-documents":
            return describe(
                await store.set_trusted_documents_only(args.client_id, args.state == "on")
            )
    raise AssertionError(action)


def cmd_clients(args: argparse.Namespace) -> int:
    result = asyncio.run(_clients(args, _settings(args)))
    if getattr(args, "json", False) or args.clients_command == "list":
        print(json.dumps(result, indent=2, ensure_ascii=False))
    elif "client_secret" in result:
        print(f"client_id:     {result['client_id']}")
        print(f"client_secret: {result['client_secret']}")
        print("The secret is shown once: store it now.")
    else:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


async def _keys(args: argparse.Namespace, settings: Settings) -> Any:
    from datetime import timedelta

    from hub.auth.keys import KeyStore

    async with _engine(settings) as engine:
        keys = KeyStore(engine, timedelta(seconds=settings.token_ttl_seconds))
        await keys.ensure()
        if args.keys_command == "rotate":
            kid = await keys.rotate()
            return {"signing_kid": kid, "keys": keys.describe()}
        return keys.describe()


def cmd_keys(args: argparse.Namespace) -> int:
    print(json.dumps(asyncio.run(_keys(args, _settings(args))), indent=2))
    return 0


async def _issuers(args: argparse.Namespace, settings: Settings) -> None:
    from hub.auth.admin import add_issuer
    from hub.auth.clients import ClientStore

    async with _engine(settings) as engine:
        await add_issuer(
            engine,
            ClientStore(engine, ttl=0),
            args.issuer,
            args.jwks_url,
            args.audience,
            args.claim,
            args.value,
            args.client_id,
        )


def cmd_issuers(args: argparse.Namespace) -> int:
    asyncio.run(_issuers(args, _settings(args)))
    print(f"trusted {args.issuer} for client {args.client_id}")
    return 0


def _operation_names(document: str) -> list[str]:
    """The operations of a document that parses and validates against the hub's schema."""
    from graphql import GraphQLError, OperationDefinitionNode, parse, validate

    from schema import build_schema

    try:
        parsed = parse(document)
    except GraphQLError as exc:
        raise UserInputError(f"the document does not parse: {exc.message}") from exc
    errors = validate(build_schema()._schema, parsed)
    if errors:
        raise UserInputError("the document is not valid: " + "; ".join(e.message for e in errors))
    names = [
        d.name.value if d.name else "(anonymous)"
        for d in parsed.definitions
        if isinstance(d, OperationDefinitionNode)
    ]
    if not names:
        raise UserInputError("the document has no operation")
    return names


async def _documents(args: argparse.Namespace, settings: Settings) -> Any:
    from hub.auth.clients import ClientStore
    from hub.web.persisted import DocumentStore

    async with _engine(settings) as engine:
        store = DocumentStore(engine)
        if args.documents_command == "list":
            return await store.all()
        record = await ClientStore(engine, ttl=0).get(args.client_id)
        if record is None:
            raise UserInputError(f"no client {args.client_id!r}")
        path = Path(args.file)
        try:
            document = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UserInputError(f"cannot read {path}: {exc}") from exc
        operations = _operation_names(document)
        name = args.name or path.stem
        sha = await store.add(document, record.pk, name)
        return {"sha256": sha, "client_id": record.id, "name": name, "operations": operations}


def cmd_documents(args: argparse.Namespace) -> int:
    result = asyncio.run(_documents(args, _settings(args)))
    if args.documents_command == "list":
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print(result["sha256"])
        print(
            f"registered {result['name']!r} for {result['client_id']} "
            f"(operations: {', '.join(result['operations'])})",
            file=sys.stderr,
        )
    return 0


def _add_document_commands(commands: Any) -> None:
    documents = commands.add_parser(
        "documents", help="trusted documents: the operations a client may run"
    )
    sub = documents.add_subparsers(dest="documents_command", required=True)
    add = sub.add_parser("add", help="register a file's operations for a client; prints sha256")
    add.add_argument("--client", dest="client_id", required=True)
    add.add_argument("file", help="a .graphql file: one document, any number of operations")
    add.add_argument("--name", help="a label (default: the file name)")
    sub.add_parser("list", help="list registered documents and automatic persisted queries")
    documents.set_defaults(func=cmd_documents)


def _add_client_commands(commands: Any) -> None:
    clients = commands.add_parser("clients", help="OAuth clients: companies, partners, operators")
    sub = clients.add_subparsers(dest="clients_command", required=True)
    create = sub.add_parser("create", help="create a client; prints its secret once")
    create.add_argument("--kind", required=True, choices=["company", "partner", "admin"])
    create.add_argument("--name", required=True)
    create.add_argument("--partner", help="the partner a partner client writes for")
    create.add_argument("--scope", action="append", help="restrict scopes (repeatable)")
    create.add_argument("--json", action="store_true", help="print JSON, for automation")
    sub.add_parser("list", help="list clients")
    for name, text in (
        ("disable", "refuse the client's tokens and token requests"),
        ("enable", "accept the client again"),
    ):
        sub.add_parser(name, help=text).add_argument("client_id")
    rotate = sub.add_parser("rotate-secret", help="new secret; the old one stops working")
    rotate.add_argument("client_id")
    rotate.add_argument("--json", action="store_true")
    policy = sub.add_parser("policy", help="set a company's standing restriction")
    policy.add_argument("client_id")
    policy.add_argument("--causes", help="allowed causes, comma-separated slugs")
    policy.add_argument("--partners", help="allowed partners, comma-separated names")
    policy.add_argument("--engagement-types", help="allowed engagement types")
    policy.add_argument("--exclude-organizations", help="organization ids never shown")
    documents = sub.add_parser("trusted-documents", help="only registered operations (on/off)")
    documents.add_argument("client_id")
    documents.add_argument("state", choices=["on", "off"])
    clients.set_defaults(func=cmd_clients)

    keys = commands.add_parser("keys", help="token signing keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    keys_sub.add_parser("rotate", help="add a signing key; the old one verifies until expiry")
    keys_sub.add_parser("list", help="list keys")
    keys.set_defaults(func=cmd_keys)

    issuers = commands.add_parser("issuers", help="trust a company's identity provider")
    issuers_sub = issuers.add_subparsers(dest="issuers_command", required=True)
    add = issuers_sub.add_parser("add", help="map an issuer's tokens to a company client")
    add.add_argument("--issuer", required=True)
    add.add_argument("--jwks-url", required=True)
    add.add_argument("--audience", required=True)
    add.add_argument("--claim", required=True, choices=["client_id", "azp", "sub"])
    add.add_argument("--value", required=True, help="the claim's value that names the client")
    add.add_argument("--client", dest="client_id", required=True)
    issuers.set_defaults(func=cmd_issuers)


async def _partners(args: argparse.Namespace, settings: Settings) -> Any:
    from hub.storage.repository import MissionRepository
    from hub.sync import add_partner, redacted
    from hub.sync.partners import PartnerSettings

    async with _engine(settings) as engine:
        if args.partners_command == "add":
            config = {
                "api_key": args.api_key,
                "username": args.username,
                "password": args.password,
                "date_order": args.date_order,
            }
            added: PartnerSettings = await add_partner(
                engine,
                args.name,
                connector=args.connector,
                url=args.url,
                every=args.every,
                push_only=args.push_only,
                config=config,
                now=SystemClock().now(),
                display_name=args.display_name,
            )
            return {
                "name": added.name,
                "connector": added.connector,
                "url": added.url,
                "every_seconds": added.interval_seconds,
                "config": redacted(added.config),
            }
        listed = []
        for record in await MissionRepository(engine).partner_list():
            listed.append(
                {
                    "name": record.name,
                    "connector": record.connector,
                    "url": record.url,
                    "open_missions": record.mission_count,
                    "last_sync": (record.last_sync or {}).get("status"),
                }
            )
        return listed


def cmd_partners(args: argparse.Namespace) -> int:
    print(json.dumps(asyncio.run(_partners(args, _settings(args))), indent=2, default=str))
    return 0


async def _sync(args: argparse.Namespace, settings: Settings) -> list[Any]:
    import httpx
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from hub.sync import SyncRunner, pulled_partners

    async with _engine(settings) as engine, httpx.AsyncClient() as http:
        runner = SyncRunner(engine, http, settings)
        names = [args.partner] if args.partner else [p.name for p in await pulled_partners(engine)]
        if not names:
            raise UserInputError("no pulled partner is configured (`partners add`)")
        reports = []
        columns = (
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("{task.completed} records"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, transient=False) as progress:
            for name in names:
                task = progress.add_task(f"sync {name}", total=None)

                def advance(n: int, task: Any = task) -> None:
                    progress.advance(task, n)

                report = await runner.sync(name, progress=advance)
                progress.update(task, description=f"sync {name}: {report.status}")
                reports.append(report)
        return reports


def cmd_sync(args: argparse.Namespace) -> int:
    reports = asyncio.run(_sync(args, _settings(args)))
    for report in reports:
        counts = " ".join(f"{k}={v}" for k, v in report.counts.items())
        line = f"{report.partner}: {report.status} {counts}"
        print(line + (f" ({report.error})" if report.error else ""))
    return 0 if all(r.status in ("SUCCEEDED", "SUSPICIOUS") for r in reports) else 1


def _add_partner_commands(commands: Any) -> None:
    partners = commands.add_parser("partners", help="partner platforms")
    sub = partners.add_subparsers(dest="partners_command", required=True)
    add = sub.add_parser("add", help="add or reconfigure a partner")
    add.add_argument("name")
    add.add_argument("--connector", help="a connector name (see `partners connectors`)")
    add.add_argument("--url", help="the partner's feed or API URL")
    add.add_argument("--every", help="sync interval: 30s, 15m, 6h, 1d (default 15m)")
    add.add_argument("--push-only", action="store_true", help="the partner pushes; no pulls")
    add.add_argument("--api-key", help="the partner's API key (kept out of logs)")
    add.add_argument("--username", help="HTTP Basic user name")
    add.add_argument("--password", help="HTTP Basic password (kept out of logs)")
    add.add_argument("--date-order", choices=["DAY_FIRST", "MONTH_FIRST"])
    add.add_argument("--display-name")
    sub.add_parser("list", help="partners, their connectors and last sync")
    partners.set_defaults(func=cmd_partners)
    sync = commands.add_parser("sync", help="sync one partner, or all, now; prints the counts")
    sync.add_argument("partner", nargs="?")
    sync.set_defaults(func=cmd_sync)


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
    _add_client_commands(commands)
    _add_partner_commands(commands)
    _add_document_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging("info", "text")  # until the settings say otherwise
    try:
        return int(args.func(args))
    except (SettingsError, UserInputError) as exc:
        print(f"entraide-hub: {exc}", file=sys.stderr)
        return 2
