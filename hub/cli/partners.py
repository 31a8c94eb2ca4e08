"""Partner platforms: add and list them, sync them now."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from hub.cli import mappings
from hub.cli._shared import open_engine, settings_from
from hub.cli.mappings import read_mapping_file
from hub.clock import SystemClock
from hub.errors import UserInputError
from hub.settings import Settings

__all__ = ["add_commands"]


async def _partners(args: argparse.Namespace, settings: Settings) -> Any:
    from hub.storage.repository import MissionRepository
    from hub.sync import add_partner, redacted
    from hub.sync.partners import PartnerSettings

    async with open_engine(settings) as engine:
        if args.partners_command == "add":
            config = {
                "api_key": args.api_key,
                "username": args.username,
                "password": args.password,
                "date_order": args.date_order,
                "max_feed_bytes": args.max_feed_bytes,
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
                mapping=read_mapping_file(args.mapping) if args.mapping else None,
            )
            return {
                "name": added.name,
                "connector": added.connector,
                "url": added.url,
                "every_seconds": added.interval_seconds,
                "config": redacted(added.config),
                "mapping_version": added.mapping_version,
            }
        if args.partners_command == "priority":
            from hub.storage.partners import set_priority

            priority = None if args.priority == "none" else int(args.priority)
            if not await set_priority(engine, args.name, priority):
                raise UserInputError(f"no partner {args.name!r} (`partners list` names them)")
            return {"name": args.name, "priority": priority}
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
    print(json.dumps(asyncio.run(_partners(args, settings_from(args))), indent=2, default=str))
    return 0


async def _sync(args: argparse.Namespace, settings: Settings) -> list[Any]:
    import httpx
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from hub.sync import SyncRunner, pulled_partners

    async with open_engine(settings) as engine, httpx.AsyncClient() as http:
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
    reports = asyncio.run(_sync(args, settings_from(args)))
    for report in reports:
        counts = " ".join(f"{k}={v}" for k, v in report.counts.items())
        line = f"{report.partner}: {report.status} {counts}"
        print(line + (f" ({report.error})" if report.error else ""))
    # SUSPICIOUS (nothing closed), FAILED and SKIPPED all need an operator's look: exit 1.
    return 0 if all(r.status == "SUCCEEDED" for r in reports) else 1


def _rank(value: str) -> str:
    if value != "none" and not value.lstrip("-").isdigit():
        raise argparse.ArgumentTypeError("an integer, or none")
    return value


def add_commands(commands: Any) -> None:
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
    add.add_argument(
        "--max-feed-bytes",
        type=int,
        help="the largest body a sync reads from this partner (default HUB_SYNC_MAX_FEED_BYTES)",
    )
    add.add_argument("--display-name")
    add.add_argument("--mapping", help="a declarative mapping file (YAML or JSON)")
    sub.add_parser("list", help="partners, their connectors and last sync")
    rank = sub.add_parser(
        "priority",
        help="which partner's listing a merged mission shows: the lowest rank first, then the "
        "earliest posted (applies as each merged mission is next written)",
    )
    rank.add_argument("name")
    rank.add_argument("priority", type=_rank, help="an integer (lower shows first), or none")
    mappings.add_commands(sub)
    partners.set_defaults(func=cmd_partners)
    sync = commands.add_parser("sync", help="sync one partner, or all, now; prints the counts")
    sync.add_argument("partner", nargs="?")
    sync.set_defaults(func=cmd_sync)
