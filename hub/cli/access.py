"""Who may call the hub: OAuth clients, signing keys, trusted issuers, trusted documents."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from hub.cli._shared import csv_values, open_engine, settings_from
from hub.errors import UserInputError
from hub.settings import Settings

__all__ = ["add_commands"]


async def _clients(args: argparse.Namespace, settings: Settings) -> Any:
    from hub.auth.admin import describe
    from hub.auth.caller import ClientKind
    from hub.auth.clients import ClientStore
    from hub.catalogue.filters import Policy
    from hub.catalogue.model import EngagementType

    async with open_engine(settings) as engine:
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
                types = tuple(EngagementType(t.upper()) for t in csv_values(args.engagement_types))
            except ValueError as exc:
                raise UserInputError(f"--engagement-types: {exc}") from exc
            policy = Policy(
                causes=csv_values(args.causes),
                partners=csv_values(args.partners),
                engagement_types=types,
                excluded_organizations=csv_values(args.exclude_organizations),
            )
            return describe(await store.set_policy(args.client_id, policy))
        if action == "trusted-documents":
            return describe(
                await store.set_trusted_documents_only(args.client_id, args.state == "on")
            )
    raise AssertionError(action)


def cmd_clients(args: argparse.Namespace) -> int:
    result = asyncio.run(_clients(args, settings_from(args)))
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

    async with open_engine(settings) as engine:
        keys = KeyStore(engine, timedelta(seconds=settings.token_ttl_seconds))
        await keys.ensure()
        if args.keys_command == "rotate":
            kid = await keys.rotate()
            return {"signing_kid": kid, "keys": keys.describe()}
        return keys.describe()


def cmd_keys(args: argparse.Namespace) -> int:
    print(json.dumps(asyncio.run(_keys(args, settings_from(args))), indent=2))
    return 0


async def _issuers(args: argparse.Namespace, settings: Settings) -> None:
    from hub.auth.admin import add_issuer
    from hub.auth.clients import ClientStore

    async with open_engine(settings) as engine:
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
    asyncio.run(_issuers(args, settings_from(args)))
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

    async with open_engine(settings) as engine:
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
    result = asyncio.run(_documents(args, settings_from(args)))
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


def add_commands(commands: Any) -> None:
    _add_client_commands(commands)
    _add_document_commands(commands)
