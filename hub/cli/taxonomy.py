"""Label mappings: map a partner's label (or a label from anyone) onto a cause or skill slug, list
the labels still unmapped with their counts, list the mappings. A change re-maps the stored
missions at once, through the write service, without fetching anything."""

from __future__ import annotations

import argparse
import asyncio
import difflib
from collections.abc import Sequence
from typing import Any

from hub.cli._shared import open_engine, settings_from
from hub.clock import SystemClock
from hub.errors import UserInputError
from hub.settings import Settings

__all__ = ["add_commands"]


def _target_kind(target: str, kind: str | None) -> str:
    """The kind of `target`, refusing unknown slugs and, unless `kind` says, ambiguous ones."""
    from hub.catalogue.taxonomy import CAUSE_SLUGS, SKILL_SLUGS, kinds_of

    kinds = kinds_of(target)
    if not kinds:
        close = difflib.get_close_matches(target, sorted(CAUSE_SLUGS | SKILL_SLUGS), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise UserInputError(
            f"{target!r} is neither a cause nor a skill slug{hint}; "
            "`entraide-hub taxonomy slugs` lists them"
        )
    if kind is not None:
        if kind not in kinds:
            raise UserInputError(f"{target!r} is not a {kind} slug (it is a {kinds[0]} slug)")
        return kind
    if len(kinds) > 1:
        raise UserInputError(
            f"{target!r} is both a cause and a skill slug: say which with --kind cause or "
            "--kind skill"
        )
    return kinds[0]


async def _partner_pk(conn: Any, name: str | None) -> int | None:
    from hub.storage import partner_pks

    if name is None:
        return None
    found = await partner_pks(conn, name)
    if not found:
        raise UserInputError(f"no partner named {name!r} (`entraide-hub partners list`)")
    return next(iter(found))


def _scope(partner: str | None) -> str:
    return f"partner {partner}" if partner else "every partner"


async def _map(args: argparse.Namespace, settings: Settings) -> str:
    from hub.ingest.service import MissionWriter
    from hub.storage import forget_unmapped, set_mapping

    kind = _target_kind(args.target, args.kind)
    clock = SystemClock()
    async with open_engine(settings) as engine:
        async with engine.begin() as conn:
            pk = await _partner_pk(conn, args.partner)
            await set_mapping(conn, pk, kind, args.label, args.target, clock.now())
            await forget_unmapped(conn, pk, kind, args.label)
        batch = await MissionWriter(engine, clock).relabel(args.partner)
    return (
        f"mapped {kind} label {args.label!r} to {kind} {args.target!r} for "
        f"{_scope(args.partner)}; {len(batch.results)} missions changed"
    )


async def _unmap(args: argparse.Namespace, settings: Settings) -> str:
    from hub.ingest.service import MissionWriter
    from hub.storage import delete_mapping

    kinds = [args.kind] if args.kind else ["cause", "skill"]
    async with open_engine(settings) as engine:
        async with engine.begin() as conn:
            pk = await _partner_pk(conn, args.partner)
            removed = [kind for kind in kinds if await delete_mapping(conn, pk, kind, args.label)]
        if not removed:
            raise UserInputError(f"no mapping of {args.label!r} for {_scope(args.partner)}")
        batch = await MissionWriter(engine, SystemClock()).relabel(args.partner)
    return (
        f"removed the {' and '.join(removed)} mapping of {args.label!r} for "
        f"{_scope(args.partner)}; {len(batch.results)} missions changed"
    )


async def _unmapped(args: argparse.Namespace, settings: Settings) -> str:
    from hub.storage import label_maps, partner_pks, unmapped

    async with open_engine(settings) as engine, engine.connect() as conn:
        pk = await _partner_pk(conn, args.partner)
        maps = await label_maps(conn, await partner_pks(conn))
        found = await unmapped(conn, lambda p, kind, label: maps[p].map(kind, label), pk)
    if not found:
        return "no unmapped labels"
    rows = [(u.partner, u.kind, str(u.count), u.label) for u in found]
    return _table(("partner", "kind", "count", "label"), rows)


async def _mappings(args: argparse.Namespace, settings: Settings) -> str:
    from hub.storage import mappings

    async with open_engine(settings) as engine, engine.connect() as conn:
        pk = await _partner_pk(conn, args.partner)
        found = await mappings(conn, pk)
    if not found:
        return "no label mappings"
    rows = [(m.partner or "*", m.kind, m.label, m.target) for m in found]
    return _table(("partner", "kind", "label", "target"), rows)


def _slugs() -> str:
    from hub.catalogue.taxonomy import CAUSES, SKILLS

    rows = [("cause", c.slug, c.label) for c in CAUSES] + [
        ("skill", s.slug, s.label) for s in SKILLS
    ]
    return _table(("kind", "slug", "label"), rows)


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in [header, *rows]
    ]
    return "\n".join(line.rstrip() for line in lines)


def cmd_taxonomy(args: argparse.Namespace) -> int:
    if args.taxonomy_command == "slugs":
        print(_slugs())
        return 0
    action = {"map": _map, "unmap": _unmap, "unmapped": _unmapped, "mappings": _mappings}
    print(asyncio.run(action[args.taxonomy_command](args, settings_from(args))))
    return 0


def add_commands(commands: Any) -> None:
    taxonomy = commands.add_parser("taxonomy", help="label mappings onto causes and skills")
    sub = taxonomy.add_subparsers(dest="taxonomy_command", required=True)
    kind_help = "cause or skill: needed when the slug is both (communication, recherche)"
    map_ = sub.add_parser(
        "map", help="map a label onto a cause or skill slug; re-maps stored missions at once"
    )
    map_.add_argument("--partner", help="only this partner's label (default: every partner)")
    map_.add_argument("--kind", choices=["cause", "skill"], help=kind_help)
    map_.add_argument("label", help="the label as partners send it (case and accents ignored)")
    map_.add_argument("target", help="a cause or skill slug (`taxonomy slugs`)")
    unmap = sub.add_parser("unmap", help="remove a mapping; re-maps stored missions at once")
    unmap.add_argument("--partner")
    unmap.add_argument("--kind", choices=["cause", "skill"])
    unmap.add_argument("label")
    unmapped = sub.add_parser("unmapped", help="labels no mapping covers, with their counts")
    unmapped.add_argument("--partner")
    mappings = sub.add_parser("mappings", help="the operator's mappings (* is every partner)")
    mappings.add_argument("--partner")
    sub.add_parser("slugs", help="the cause and skill slugs a label can map to")
    taxonomy.set_defaults(func=cmd_taxonomy)
