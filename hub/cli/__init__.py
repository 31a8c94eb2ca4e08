"""The `entraide-hub` command: serve · migrate · demo · schema export · clients · keys ·
issuers · documents · partners · sync · engagements. One module per group of commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from hub.cli import access, engagements, partners, server, taxonomy
from hub.errors import UserInputError
from hub.observability.logs import configure_logging
from hub.settings import SettingsError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="entraide-hub",
        description="Entraide Hub: corporate volunteering missions over GraphQL.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    server.add_commands(commands)
    access.add_commands(commands)
    partners.add_commands(commands)
    taxonomy.add_commands(commands)
    engagements.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Line by line, so that `entraide-hub demo > demo.log` shows the credentials at once, although
    # the server it then starts never exits.
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)
    configure_logging("info", "text")  # until the settings say otherwise
    try:
        return int(args.func(args))
    except (SettingsError, UserInputError) as exc:
        print(f"entraide-hub: {exc}", file=sys.stderr)
        return 2
