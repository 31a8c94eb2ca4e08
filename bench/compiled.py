"""The compiled read path on and off, in one run: the same repeated search against two hubs on
the same store, the response cache off in both (every answer is computed), one answering from
one SQL statement (the default) and one with HUB_COMPILED_READS=false (the generic executor).

    .venv/bin/python bench/compiled.py                      # SQLite, bench/out/compiled.db
    .venv/bin/python bench/compiled.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench

Seeds the store through the hub's write path when it holds fewer than --missions, starts both
hubs (`entraide-hub serve`, rate limit off), checks that both give the same number of results,
then runs `wrk -t2 -cC --latency` against each in turn, ON OFF ON OFF..., and prints each round
and the medians with the ratio ON ÷ OFF. The request is the shared bench-anchor harness's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import search
import seed_hub
from response_cache import ANCHOR


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--missions", type=int, default=20_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--port", type=int, default=8150)
    args = parser.parse_args()
    search.OUT.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite+aiosqlite:///{search.OUT / 'compiled.db'}"
    seed_hub.distinct_organizations()
    print(asyncio.run(search.seed(url, args.missions, 3600)))
    client = asyncio.run(search.bench_client(url))
    os.environ["HUB_RESPONSE_CACHE"] = "false"  # Hub.start passes the environment on
    hubs = {}
    for name, port, compiled in (("on", args.port, "true"), ("off", args.port + 1, "false")):
        os.environ["HUB_COMPILED_READS"] = compiled
        hub = search.Hub(url, port, search.OUT / f"compiled-{name}.log")
        hub.start()
        hub.fetch_token(client)
        hubs[name] = hub
    try:
        results: dict[str, list[search.Load]] = {"on": [], "off": []}
        for name, hub in hubs.items():  # warm-up (plans the document), same number of results
            print(name, "results:", search.http_check(hub, ANCHOR))
            search.run_wrk(hub, f"compiled-{name}", ANCHOR, 2, args.concurrency)
        for round_ in range(args.rounds):
            for name, hub in hubs.items():
                load = search.run_wrk(
                    hub, f"compiled-{name}", ANCHOR, args.duration, args.concurrency
                )
                results[name].append(load)
                print(
                    f"round {round_ + 1} compiled {name:3}: {load.rps:9.1f} req/s  "
                    f"p50 {load.p50_ms:7.2f} ms  p99 {load.p99_ms:7.2f} ms  errors {load.errors}"
                )
    finally:
        for hub in hubs.values():
            hub.stop()
    rps = {name: statistics.median(load.rps for load in loads) for name, loads in results.items()}
    p99 = {
        name: statistics.median(load.p99_ms for load in loads) for name, loads in results.items()
    }
    ratios = [on.rps / off.rps for on, off in zip(results["on"], results["off"], strict=True)]
    print(
        f"median: compiled {rps['on']:.1f} req/s (p99 {p99['on']:.2f} ms), "
        f"generic {rps['off']:.1f} req/s (p99 {p99['off']:.2f} ms); "
        f"on ÷ off by round {', '.join(f'{r:.1f}' for r in ratios)} "
        f"(median {statistics.median(ratios):.1f})"
    )


if __name__ == "__main__":
    main()
