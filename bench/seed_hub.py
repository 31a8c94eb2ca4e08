"""Seed a hub store with N missions through the hub's own write path, and nothing else.

    .venv/bin/python bench/seed_hub.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/hubbench

What `bench/search.py` seeds before it measures, for a hub measured by another harness (the shared
bench-anchor). One difference: each 10,000-mission chunk of the demo catalogue gets organization
names of its own. The demo draws names from a small vocabulary, so from chunk to chunk the same
names and identifiers come back, organizations grow across chunks, and the duplicate linking
(hub/storage/duplicates.py), which compares a batch with every open listing of its
organizations, slows the load down as it grows (at about 70,000 missions: under 50 missions/s).
Distinct names, and no RNA, SIREN or SIRET (which link organizations across partners), keep
each organization inside its chunk and partner.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import search

import hub.demo.catalogue as demo

_original = demo.demo_catalogue


def _distinct_organizations(missions: int, seed: int, **kwargs: Any) -> Any:
    catalogue = _original(missions=missions, seed=seed, **kwargs)
    return {
        partner: [
            dataclasses.replace(
                draft,
                organization=dataclasses.replace(
                    draft.organization,
                    name=f"{draft.organization.name} ({seed})",
                    rna=None,
                    siren=None,
                    siret=None,
                ),
            )
            if draft.organization is not None
            else draft
            for draft in drafts
        ]
        for partner, drafts in catalogue.items()
    }


def distinct_organizations() -> None:
    """From now on, search.seed's demo catalogue gives each chunk organization names of its own."""
    demo.demo_catalogue = _distinct_organizations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--missions", type=int, default=200_000)
    parser.add_argument("--timeout", type=float, default=3600, help="seconds, then stop")
    args = parser.parse_args()
    distinct_organizations()
    report = asyncio.run(search.seed(args.database_url, args.missions, args.timeout))
    print(report)


if __name__ == "__main__":
    main()
