"""Hubs side by side on one store, measured in interleaved rounds: what bench/response_cache.py
and bench/compiled.py share. Each hub is `entraide-hub serve` with its own HUB_* variables."""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics

import search
import seed_hub


def arguments(description: str, database: str, port: int) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--database-url")
    parser.add_argument("--missions", type=int, default=20_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--port", type=int, default=port)
    parser.add_argument("--no-off", action="store_true", help="leave out the last hub")
    args = parser.parse_args()
    search.OUT.mkdir(parents=True, exist_ok=True)
    args.database_url = args.database_url or f"sqlite+aiosqlite:///{search.OUT / database}"
    return args


def start(
    args: argparse.Namespace, kinds: list[tuple[str, dict[str, str]]], prefix: str
) -> dict[str, search.Hub]:
    """Seed the store when it holds fewer than --missions, then start one hub per kind."""
    seed_hub.distinct_organizations()
    print(asyncio.run(search.seed(args.database_url, args.missions, 3600)))
    client = asyncio.run(search.bench_client(args.database_url))
    hubs = {}
    for i, (name, env) in enumerate(kinds):
        os.environ.update(env)  # Hub.start passes the environment on
        hub = search.Hub(args.database_url, args.port + i, search.OUT / f"{prefix}-{name}.log")
        hub.start()
        hub.fetch_token(client)
        hubs[name] = hub
    return hubs


def rounds(
    args: argparse.Namespace, hubs: dict[str, search.Hub], prefix: str, document: str
) -> dict[str, list[search.Load]]:
    """A warm-up each, then --rounds rounds of `wrk` against each hub in turn; stops them."""
    try:
        results: dict[str, list[search.Load]] = {name: [] for name in hubs}
        for name, hub in hubs.items():
            search.run_wrk(hub, f"{prefix}-{name}", document, 2, args.concurrency)
        for round_ in range(args.rounds):
            for name, hub in hubs.items():
                load = search.run_wrk(
                    hub, f"{prefix}-{name}", document, args.duration, args.concurrency
                )
                results[name].append(load)
                print(
                    f"round {round_ + 1} {name:8}: {load.rps:9.1f} req/s  "
                    f"p50 {load.p50_ms:7.2f} ms  p99 {load.p99_ms:7.2f} ms  errors {load.errors}"
                )
    finally:
        for hub in hubs.values():
            hub.stop()
    return results


def summary(results: dict[str, list[search.Load]], first: str) -> None:
    """Medians of each hub, and the first hub's ratio to each other one by round."""
    for name, loads in results.items():
        print(
            f"median {name:8}: {statistics.median(x.rps for x in loads):9.1f} req/s  "
            f"p50 {statistics.median(x.p50_ms for x in loads):.2f} ms  "
            f"p99 {statistics.median(x.p99_ms for x in loads):.2f} ms"
        )
    for other in [name for name in results if name != first]:
        ratios = [a.rps / b.rps for a, b in zip(results[first], results[other], strict=True)]
        print(
            f"{first} ÷ {other} by round {', '.join(f'{r:.2f}' for r in ratios)} "
            f"(median {statistics.median(ratios):.2f})"
        )
