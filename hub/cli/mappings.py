"""Partner mappings and dry runs: `partners mapping show|set`, `partners test`."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

import yaml

from hub.cli._shared import open_engine, settings_from
from hub.clock import SystemClock
from hub.errors import UserInputError
from hub.settings import Settings

__all__ = ["add_commands", "read_mapping_file"]


def read_mapping_file(path: str) -> object:
    """A mapping file (YAML, or JSON, which YAML reads too), loaded but not yet validated."""
    try:
        text = Path(path).read_text("utf-8")
    except OSError as exc:
        raise UserInputError(f"cannot read the mapping file {path!r}: {exc.strerror}") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UserInputError(f"{path}: not YAML or JSON: {exc}") from exc


async def _show(settings: Settings, name: str) -> str:
    from connectors import get_connector
    from connectors.mapped import MappedConnector
    from hub.storage.partner_mappings import partner_mapping

    async with open_engine(settings) as engine:
        stored = await partner_mapping(engine, name)
    if stored is None:
        raise UserInputError(f"no partner named {name!r}")
    if not stored.connector:
        raise UserInputError(f"{name} is a push-only partner: it has no connector to map")
    document = stored.mapping
    if document is None:
        kind = get_connector(stored.connector)
        default = kind.default_mapping if issubclass(kind, MappedConnector) else None
        if default is None:
            raise UserInputError(
                f"{name}: the {stored.connector} connector has no mapping of its own yet "
                "(set one: partners mapping set NAME FILE)"
            )
        header = f"# {name}: no mapping of its own; the {stored.connector} connector's default\n"
        document = default.document()
    else:
        set_at = stored.set_at.isoformat() if stored.set_at else "?"
        header = (
            f"# {name}: connector {stored.connector}, mapping version {stored.version}, "
            f"set {set_at}\n"
        )
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)
    return header + body


async def _set(settings: Settings, name: str, path: str) -> dict[str, Any]:
    from hub.sync.partners import set_mapping

    document = read_mapping_file(path)
    async with open_engine(settings) as engine:
        partner = await set_mapping(engine, name, document, SystemClock().now())
    return {
        "name": partner.name,
        "connector": partner.connector,
        "version": partner.mapping_version,
    }


async def _test(settings: Settings, name: str, limit: int) -> dict[str, Any]:
    import httpx

    from hub.sync.dry_run import dry_run

    async with open_engine(settings) as engine, httpx.AsyncClient() as http:
        report = await dry_run(engine, http, name, limit=limit)
    return report.document()


def cmd_mapping(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    if args.mapping_command == "show":
        print(asyncio.run(_show(settings, args.name)), end="")
        return 0
    print(json.dumps(asyncio.run(_set(settings, args.name, args.file)), indent=2))
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    report = asyncio.run(_test(settings_from(args), args.name, args.limit))
    print(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    return 1 if report["error"] else 0


def add_commands(sub: Any) -> None:
    """`mapping show|set` and `test`, under `partners`."""
    mapping = sub.add_parser("mapping", help="a partner's declarative mapping")
    verbs = mapping.add_subparsers(dest="mapping_command", required=True)
    show = verbs.add_parser("show", help="print the mapping in use (YAML), with its version")
    show.add_argument("name")
    put = verbs.add_parser("set", help="validate a mapping file and store it (a new version)")
    put.add_argument("name")
    put.add_argument("file", help="the mapping, YAML or JSON")
    mapping.set_defaults(func=cmd_mapping)
    test = sub.add_parser(
        "test", help="dry run: fetch one page, print what a sync would make of it; writes nothing"
    )
    test.add_argument("name")
    test.add_argument("--limit", type=int, default=20, help="records to read (default 20)")
    test.set_defaults(func=cmd_test)
