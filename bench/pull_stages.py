#!/usr/bin/env python
"""What the pull side of a sync costs a mission, stage by stage, in one process.

    .venv/bin/python bench/pull_stages.py [--missions 20000] [--rounds 3]

The simulated API Engagement XML feed of N missions (tests.partners) is rendered to bytes, then
each stage of what a sync's pull process does with it is timed alone (process CPU time, best of
`--rounds`, µs a mission):

- parse: libxml2 reading the feed in 64 KiB chunks, each <mission> cleared at once (lxml, C:
  the floor of any reading of this feed);
- records: the same, each <mission> turned into plain dicts (connectors._xml);
- normalise: the connector's drafts from those dicts;
- prepare: hub.ingest.pipeline.prepare on each draft, then its parts (each timed by a wrapper
  inside one more pass, so they add up to a little more than prepare);
- pickle: batches of 500 prepared missions pickled, as they cross to the sync's process.

On 2 cores, 5,000 missions/s leaves 400 µs of CPU a mission for everything (these stages, the
write and the database's own work): the figures say how much of it the pull side takes.
"""

from __future__ import annotations

import argparse
import collections
import gc
import os
import pickle
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from connectors import ConnectorConfig, get_connector  # noqa: E402
from connectors import _xml as xml  # noqa: E402
from hub.catalogue import taxonomy  # noqa: E402
from hub.catalogue.model import MissionDraft  # noqa: E402
from hub.ingest import pipeline  # noqa: E402
from tests.partners import PARTNERS  # noqa: E402

CHUNK = 64 * 1024
BATCH = 500
PARTS = (
    "compact_identifiers",
    "_check",
    "sanitise_html",
    "html_to_text",
    "hours_per_week",
    "schedule_hours",
    "replace",
    "_geocode",
    "search_text",
    "tokens",
    "_hash",
)


def best(rounds: int, stage: Callable[[], Any]) -> tuple[float, Any]:
    """The least process CPU time of `rounds` runs of `stage`, and its last result."""
    least, result = float("inf"), None
    for _ in range(rounds):
        gc.collect()
        started = time.process_time()
        result = stage()
        least = min(least, time.process_time() - started)
    return least, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--missions", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    n = args.missions

    partner = PARTNERS["api-engagement-xml"]()
    partner.resize(n)
    feed = b"".join(partner._encoded())
    chunks = [feed[i : i + CHUNK] for i in range(0, len(feed), CHUNK)]
    html = frozenset({"description"})

    def parse(keep: bool) -> list[dict[str, Any]]:
        reader = xml._parser("mission")
        out: list[dict[str, Any]] = []
        for chunk in chunks:
            reader.feed(chunk)
            for _event, element in reader.read_events():
                if keep:
                    out.append(xml._record(element, html))
                xml._forget(element)
        reader.close()
        return out

    connector = get_connector("api-engagement-xml")(ConnectorConfig(url="http://127.0.0.1/"))
    figures: dict[str, float] = {}
    figures["parse"], _ = best(args.rounds, lambda: parse(False))
    records_s, records = best(args.rounds, lambda: parse(True))
    figures["records"] = records_s - figures["parse"]
    figures["normalise"], outcomes = best(
        args.rounds, lambda: [connector.normalise(r) for r in records]
    )
    drafts = [o for o in outcomes if isinstance(o, MissionDraft)]
    figures["prepare"], prepared = best(args.rounds, lambda: [pipeline.prepare(d) for d in drafts])
    figures["pickle"], _ = best(
        args.rounds,
        lambda: [pickle.dumps(prepared[i : i + BATCH], protocol=5) for i in range(0, n, BATCH)],
    )

    spent: collections.Counter[str] = collections.Counter()

    def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*a: Any, **k: Any) -> Any:
            started = time.process_time()
            try:
                return function(*a, **k)
            finally:
                spent[name] += time.process_time() - started

        return wrapper

    for name in PARTS:
        setattr(pipeline, name, timed(name, getattr(pipeline, name)))
    taxonomy.map_labels = timed("map_labels", taxonomy.map_labels)
    for draft in drafts:
        pipeline.prepare(draft)

    print(f"pull side, {n:,} missions ({len(feed) / n:,.0f} bytes each), best of {args.rounds}:")
    for name, seconds in figures.items():
        print(f"  {name:22s} {1e6 * seconds / n:7.1f} µs a mission")
    print(f"  {'in all':22s} {1e6 * sum(figures.values()) / n:7.1f} µs a mission")
    print("prepare's parts (one pass, wrapped):")
    for name, seconds in spent.most_common():
        print(f"  {name:22s} {1e6 * seconds / n:7.1f} µs a mission")
    print(f"(load {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
