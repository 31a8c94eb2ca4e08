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

Since the blocking keys (hub/storage/duplicate_keys.py) the linking reads candidates by index;
`--rates` prints the write rate of each 10,000 missions, and the last ÷ the first, to show it
stays flat (the chunks still differ by name only after a branch-like " (n)" suffix, which the
organization comparison sets aside, so the linking still compares them).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import time
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


class Rates:
    """Missions written per second, for each `size` missions (timed around each apply)."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self.done = 0
        self.seconds: list[float] = [0.0]
        self.analyzed = 0

    def install(self) -> None:
        import hub.ingest.service as service
        from hub.storage.db import refresh_statistics

        original = service.apply

        async def timed(engine: Any, *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            report = await original(engine, *args, **kwargs)
            self.seconds[-1] += time.perf_counter() - start
            self.done += report.counts().get("created", 0)
            if self.done >= self.size * len(self.seconds):
                self.seconds.append(0.0)
            if self.done // self.size != self.analyzed or self.done <= 2 * self.size // 10:
                # What the sync runner does during a first load (autovacuum may be off, as on
                # the bench machine): planner statistics that follow the growing tables.
                self.analyzed = self.done // self.size
                await refresh_statistics(engine)
            return report

        service.apply = timed  # type: ignore[assignment]

    def report(self) -> str:
        full = [s for s in self.seconds if s > 0][: self.done // self.size]
        lines = [f"{'missions':>16}  missions/s"]
        for i, seconds in enumerate(full):
            lines.append(
                f"{i * self.size:>7,}-{(i + 1) * self.size:<8,} {self.size / seconds:9,.0f}"
            )
        if len(full) >= 2:
            lines.append(f"last ÷ first: {full[0] / full[-1]:.2f}")
        return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--missions", type=int, default=200_000)
    parser.add_argument("--timeout", type=float, default=3600, help="seconds, then stop")
    parser.add_argument("--rates", action="store_true", help="the rate of each 10,000 missions")
    args = parser.parse_args()
    distinct_organizations()
    rates = Rates()
    if args.rates:
        rates.install()
    report = asyncio.run(search.seed(args.database_url, args.missions, args.timeout))
    print(report)
    if args.rates:
        print(rates.report())


if __name__ == "__main__":
    main()
