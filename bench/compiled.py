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

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import hubs as hubs_
import search
from response_cache import ANCHOR


def main() -> None:
    args = hubs_.arguments(__doc__.splitlines()[0], "compiled.db", 8150)
    off = {"HUB_RESPONSE_CACHE": "false"}  # every answer computed
    kinds = [
        ("compiled", {**off, "HUB_COMPILED_READS": "true"}),
        ("generic", {**off, "HUB_COMPILED_READS": "false"}),
    ]
    hubs = hubs_.start(args, kinds, "compiled")
    try:
        print("results:", {name: search.http_check(hub, ANCHOR) for name, hub in hubs.items()})
    except BaseException:
        for hub in hubs.values():
            hub.stop()
        raise
    hubs_.summary(hubs_.rounds(args, hubs, "compiled", ANCHOR), "compiled")


if __name__ == "__main__":
    main()
