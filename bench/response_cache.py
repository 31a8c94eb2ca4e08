"""The response cache on and off, in one run: the same repeated search against three hubs on the
same store: the cache with its fast path (the default), the cache with hits through the full
Starlette app (HUB_RESPONSE_CACHE_FAST_PATH=false), and no cache (HUB_RESPONSE_CACHE=false).

    .venv/bin/python bench/response_cache.py                      # SQLite, bench/out/cache.db
    .venv/bin/python bench/response_cache.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/bench

Seeds the store through the hub's write path when it holds fewer than --missions (as
bench/seed_hub.py does), starts the hubs (`entraide-hub serve`, rate limit off, no access log),
checks that they answer the same bytes, then runs `wrk -t2 -cC --latency` against each in turn,
FAST SLOW OFF FAST SLOW OFF..., and prints each round and the medians with the ratios
FAST ÷ SLOW and FAST ÷ OFF (`--no-off` leaves the uncached hub out: it is slow to measure). The
request is the anchor search of the shared bench-anchor harness: the 20 most recent fully remote
missions needing the skill "design graphique", with title, organization name, skills, city and
date.
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

ANCHOR = (
    '{ missions(filter: {remote: [FULL], skills: ["design-graphique"]}, first: 20, '
    "orderBy: RECENT) { edges { node { id title organization { name } skills { slug } "
    "locations { city } postedAt } } } }"
)


def same_bytes(hubs: dict[str, search.Hub]) -> None:
    """Every hub answers the anchor with the same bytes (a hit on the cached ones)."""
    import httpx

    bodies = {
        name: httpx.post(
            hub.endpoint,
            json={"query": ANCHOR},
            headers={"Authorization": f"Bearer {hub.token}"},
            timeout=30,
        ).content
        for name, hub in hubs.items()
    }
    if len(set(bodies.values())) != 1:
        raise SystemExit(f"bench: the hubs answer differently: {bodies}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--missions", type=int, default=20_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--port", type=int, default=8140)
    parser.add_argument("--no-off", action="store_true", help="no hub without the cache")
    args = parser.parse_args()
    search.OUT.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite+aiosqlite:///{search.OUT / 'cache.db'}"
    seed_hub.distinct_organizations()
    print(asyncio.run(search.seed(url, args.missions, 3600)))
    client = asyncio.run(search.bench_client(url))
    hubs = {}
    kinds = [("fast", "true", "true"), ("slow", "true", "false"), ("off", "false", "true")]
    for i, (name, cache, fast) in enumerate(kinds[:2] if args.no_off else kinds):
        os.environ["HUB_RESPONSE_CACHE"] = cache  # Hub.start passes the environment on
        os.environ["HUB_RESPONSE_CACHE_FAST_PATH"] = fast
        hub = search.Hub(url, args.port + i, search.OUT / f"cache-{name}.log")
        hub.start()
        hub.fetch_token(client)
        hubs[name] = hub
    try:
        results: dict[str, list[search.Load]] = {name: [] for name in hubs}
        answers = {name: search.http_check(hub, ANCHOR) for name, hub in hubs.items()}
        print("results:", answers)
        same_bytes(hubs)
        for name, hub in hubs.items():  # warm-up
            search.run_wrk(hub, f"cache-{name}", ANCHOR, 2, args.concurrency)
        for round_ in range(args.rounds):
            for name, hub in hubs.items():
                load = search.run_wrk(hub, f"cache-{name}", ANCHOR, args.duration, args.concurrency)
                results[name].append(load)
                print(
                    f"round {round_ + 1} {name:4}: {load.rps:9.1f} req/s  "
                    f"p50 {load.p50_ms:7.2f} ms  p99 {load.p99_ms:7.2f} ms  errors {load.errors}"
                )
    finally:
        for hub in hubs.values():
            hub.stop()
    rps = {name: statistics.median(load.rps for load in loads) for name, loads in results.items()}
    p50 = {
        name: statistics.median(load.p50_ms for load in loads) for name, loads in results.items()
    }
    p99 = {
        name: statistics.median(load.p99_ms for load in loads) for name, loads in results.items()
    }
    for name in results:
        print(f"median {name:4}: {rps[name]:9.1f} req/s", end="  ")
        print(f"p50 {p50[name]:.2f} ms  p99 {p99[name]:.2f} ms")
    for other in [name for name in results if name != "fast"]:
        ratios = [
            fast.rps / slow.rps for fast, slow in zip(results["fast"], results[other], strict=True)
        ]
        print(
            f"fast ÷ {other} by round {', '.join(f'{r:.2f}' for r in ratios)} "
            f"(median {statistics.median(ratios):.2f})"
        )


if __name__ == "__main__":
    main()
