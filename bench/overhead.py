"""Fixed cost of one authenticated request: `{ __typename }` with a bearer token.

In one process, against one app (SQLite, rate limit off, no access log), through Starlette's
TestClient (no network, so what differs is the server's own work), in interleaved rounds:

- baseline: `GET /healthz`, a bare Starlette route (the floor of the ASGI stack and the client);
- `POST /graphql {"query": "{ __typename }"}` with a company token, four ways: as served by
  default (a response cache hit, answered by the fast path, hub/web/fast.py); the hit through
  Starlette's middleware and routing (fast path off); no response cache (the operation runs
  through strawberry, the verified-token cache on); and that with the verified-token cache off
  (every request checks the ES256 signature and the claims again).

The hub's server time for `{ __typename }` is reported as (typename - baseline), with the ratio
to the baseline, so that a noisy, shared machine moves both alike. Usage:

    .venv/bin/python bench/overhead.py [--requests 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from hub.auth import ClientKind, ClientStore
from hub.settings import load_settings
from hub.storage import make_engine, upgrade
from hub.web.app import create_app


def _per_request_ms(call: Callable[[], object], n: int) -> float:
    started = time.perf_counter()
    for _ in range(n):
        call()
    return (time.perf_counter() - started) * 1000 / n


async def _migrate(url: str) -> None:
    engine = make_engine(load_settings(database_url=url))
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def _company(url: str) -> tuple[str, str]:
    engine = make_engine(load_settings(database_url=url))
    try:
        created = await ClientStore(engine, ttl=0).create(ClientKind.COMPANY, "bench")
        return created.client_id, created.client_secret
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'overhead.db'}"
        asyncio.run(_migrate(url))
        client_id, secret = asyncio.run(_company(url))
        settings = load_settings(
            database_url=url, scheduler=False, rate_limit_per_minute=0, log_level="warning"
        )
        with TestClient(create_app(settings)) as http:
            form = {"grant_type": "client_credentials"}
            token = http.post("/oauth/token", data=form, auth=(client_id, secret)).json()[
                "access_token"
            ]
            headers = {"Authorization": f"Bearer {token}"}
            body = {"query": "{ __typename }"}
            app: Any = http.app
            services = app.state.services
            validator, cache, fast = services.validator, services.cache, app.fast.parts
            size = validator.verified_cache_size

            def baseline() -> object:
                return http.get("/healthz")

            def typename() -> object:
                response = http.post("/graphql", json=body, headers=headers)
                assert response.json() == {"data": {"__typename": "Query"}}, response.text
                return response

            def variant(name: str) -> Callable[[], object]:
                # fast: the default (a response cache hit on the fast path); starlette: the
                # hit through Starlette's middleware and routing; run: no response cache,
                # the operation runs; unverified: that, and the verified-token cache off.
                def call() -> object:
                    app.fast.parts = fast if name == "fast" else None
                    services.cache = cache if name in ("fast", "starlette") else None
                    validator.verified_cache_size = 0 if name == "unverified" else size
                    if name == "unverified":
                        validator._verified.clear()
                    return typename()

                return call

            names = ("fast", "starlette", "run", "unverified")
            for warm in (baseline, *(variant(name) for name in names)):
                _per_request_ms(warm, 200)
            results: dict[str, list[float]] = {"baseline": [], **{name: [] for name in names}}
            for round_ in range(args.rounds):
                # Each round in another order: what a variant leaves behind (the uncached
                # ones' garbage, a cleared token cache) does not always land on the same one.
                order = ["baseline", *names]
                order = order[round_ % len(order) :] + order[: round_ % len(order)]
                for name in order:
                    call = baseline if name == "baseline" else variant(name)
                    results[name].append(_per_request_ms(call, args.requests))
    base = statistics.median(results["baseline"])
    print(f"requests per round: {args.requests}, rounds: {args.rounds} (medians of the rounds)")
    print(f"GET /healthz (baseline)                          {base:7.3f} ms/request")
    labels = {
        "fast": "response cache hit, fast path (default)",
        "starlette": "response cache hit through Starlette",
        "run": "no response cache: the operation runs",
        "unverified": "that, verified-token cache off",
    }
    for name in names:
        ms = statistics.median(results[name])
        print(
            f"{{ __typename }} + token, {labels[name]:40} {ms:7.3f} ms/request  "
            f"over the baseline {ms - base:6.3f} ms ({ms / base:4.2f}x the baseline)"
        )


if __name__ == "__main__":
    main()
