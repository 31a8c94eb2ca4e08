"""Engagement upkeep for operators: contact keys' rotation, and the retention sweep on demand."""

from __future__ import annotations

import argparse
import asyncio
from datetime import timedelta
from typing import Any

from hub.cli._shared import open_engine, settings_from
from hub.clock import SystemClock
from hub.engagement import ContactCipher
from hub.ingest.engagements import EngagementWriter
from hub.settings import Settings

__all__ = ["add_commands"]


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    async with open_engine(settings) as engine:
        clock = SystemClock()
        writer = EngagementWriter(
            engine,
            clock,
            ContactCipher(settings.contact_keys),
            link_base=settings.issuer,
            link_ttl=timedelta(days=settings.tracked_link_ttl_days),
            retention=timedelta(days=settings.contact_retention_days),
        )
        if args.engagements_command == "reseal-contacts":
            return await writer.reseal_contacts()
        return await writer.erase_expired_contacts()


def cmd_engagements(args: argparse.Namespace) -> int:
    count = asyncio.run(_run(args, settings_from(args)))
    if args.engagements_command == "reseal-contacts":
        print(f"{count} contact details sealed again with the first key")
    else:
        print(f"{count} contact details erased past retention")
    return 0


def add_commands(commands: Any) -> None:
    engagements = commands.add_parser("engagements", help="engagement upkeep: contact details")
    sub = engagements.add_subparsers(dest="engagements_command", required=True)
    sub.add_parser(
        "reseal-contacts",
        help="seal every kept contact with the first of HUB_CONTACT_KEYS (then drop old keys)",
    )
    sub.add_parser(
        "erase-expired-contacts",
        help="erase contact details past HUB_CONTACT_RETENTION_DAYS now (the server does hourly)",
    )
    engagements.set_defaults(func=cmd_engagements)
