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

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import hubs as hubs_
import search

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
    args = hubs_.arguments(__doc__.splitlines()[0], "cache.db", 8140)
    kinds = [
        ("fast", {"HUB_RESPONSE_CACHE": "true", "HUB_RESPONSE_CACHE_FAST_PATH": "true"}),
        ("slow", {"HUB_RESPONSE_CACHE": "true", "HUB_RESPONSE_CACHE_FAST_PATH": "false"}),
        ("off", {"HUB_RESPONSE_CACHE": "false", "HUB_RESPONSE_CACHE_FAST_PATH": "true"}),
    ]
    hubs = hubs_.start(args, kinds[:2] if args.no_off else kinds, "cache")
    try:
        print("results:", {name: search.http_check(hub, ANCHOR) for name, hub in hubs.items()})
        same_bytes(hubs)
    except BaseException:
        for hub in hubs.values():
            hub.stop()
        raise
    hubs_.summary(hubs_.rounds(args, hubs, "cache", ANCHOR), "fast")


if __name__ == "__main__":
    main()
