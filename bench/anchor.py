#!/usr/bin/env python
"""Issue 11's done-when, in one command: the hub beside PostGraphile in the shared harness.

    python bench/anchor.py --database-url URL [--cache off,on] [--harness DIR]
                           [--conc 16] [--duration 12] [--warmup 4] [--rounds 2] [--rows 200000]
                           [--port 18100] [--warm-seconds 0] [--out bench/out/anchor.json]

For each response-cache setting in --cache, one after the other:

1. starts `entraide-hub serve` on the store at --database-url (seeded beforehand, e.g. with
   `bench/seed_hub.py --missions 200000`, or its SQLite copy by `bench/copy_store.py`), with
   HUB_RESPONSE_CACHE on or off and the rate limit off, a fresh process each time;
2. creates a company client on that store the first time, and takes a token
   (client_credentials) from the hub's own token endpoint;
3. optionally warms the new process with --warm-seconds of the same request (wrk -c16);
4. runs the shared harness (`run_all.sh` of ../shared/bench-anchor: pgbench, asyncpg,
   PostGraphile, the naive server, then the hub, interleaved, --rounds times) with the anchor
   request (`queries/hub.graphql`: 20 FULL-remote missions needing "design graphique");
5. stops the hub, and prints for each target the medians of its rounds and the hub's ratios to
   PostGraphile and pgbench, the goal's figures, into a table and --out (JSON).

The harness starts its own PostgreSQL for the anchors (ROWS rows, kept between runs: KEEP_PG=1)
and needs wrk (`apt-get install wrk`) and Node 20+ (it installs PostGraphile itself). Loopback
only; the hub process is stopped by its pid on exit and on errors.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
GOALS = {"off": (1.0, 50.0), "on": (3.0, 5.0)}  # (÷ PostGraphile at least, p99 ms at most)


def cli(exe: str, env: dict[str, str], *args: str) -> str:
    done = subprocess.run([exe, *args], env=env, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise SystemExit(f"anchor: entraide-hub {' '.join(args)} failed: {done.stderr[-600:]}")
    return done.stdout


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"anchor: the hub exited with {proc.returncode} while starting")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"anchor: the hub did not answer {url} within {timeout_s:.0f} s")


def peak_rss_mb(proc: subprocess.Popen[bytes]) -> float | None:
    """The process's peak resident memory (VmHWM), while it runs."""
    try:
        for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def stop(proc: subprocess.Popen[bytes] | None) -> float | None:
    """SIGTERM, then the seconds the process took to exit (None: killed after 20 s)."""
    if proc is None or proc.poll() is not None:
        return None
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None
    return time.monotonic() - started


def medians(results: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    by: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        by.setdefault(r["name"], []).append(r)
    return {
        name: {
            key: statistics.median(float(r[key]) for r in runs)
            for key in ("rps", "p50_ms", "p99_ms", "errors")
        }
        | {"p99_max_ms": max(float(r["p99_ms"]) for r in runs), "rounds": len(runs)}
        for name, runs in by.items()
    }


def run_one(args: argparse.Namespace, cache: str, client: dict[str, str] | None) -> dict[str, Any]:
    exe = str(ROOT / ".venv" / "bin" / "entraide-hub")
    if not Path(exe).exists():
        exe = shutil.which("entraide-hub") or "entraide-hub"
    env = dict(os.environ)
    env.update(
        HUB_DATABASE_URL=args.database_url,
        HUB_HOST="127.0.0.1",
        HUB_PORT=str(args.port),
        HUB_RESPONSE_CACHE="true" if cache == "on" else "false",
        HUB_RATE_LIMIT_PER_MINUTE="0",
        HUB_LOG_LEVEL="warning",
        HUB_SCHEDULER="false",
    )
    if client is None:
        made = cli(exe, env, "clients", "create", "--kind", "company", "--name", "anchor", "--json")
        client = json.loads(made)
    assert client is not None
    OUT.mkdir(parents=True, exist_ok=True)
    log = (OUT / f"anchor-hub-{cache}.log").open("wb")
    base = f"http://127.0.0.1:{args.port}"
    proc = subprocess.Popen(
        [exe, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        wait_healthy(f"{base}/healthz", proc)
        answer = httpx.post(
            f"{base}/oauth/token",
            data={"grant_type": "client_credentials", "scope": "missions:read"},
            auth=(client["client_id"], client["client_secret"]),
            timeout=30,
        )
        if answer.status_code != 200:
            raise SystemExit(f"anchor: no token: {answer.status_code} {answer.text[:300]}")
        token = answer.json()["access_token"]
        harness = Path(args.harness).resolve()
        if args.warm_seconds > 0:
            body = OUT / "anchor-body.json"
            query = (harness / "queries" / "hub.graphql").read_text()
            body.write_text(json.dumps({"query": query}))
            wrk_env = dict(os.environ, WRK_BODY=str(body))
            wrk_env["WRK_HEADERS"] = f"Authorization: Bearer {token}"
            subprocess.run(
                ["wrk", "-t1", "-c16", f"-d{args.warm_seconds}s", "-s", str(harness / "post.lua"),
                 f"{base}/graphql"],
                env=wrk_env, capture_output=True, check=True, timeout=args.warm_seconds + 60,
            )  # fmt: skip
        stamp_dir = OUT / f"anchor-{cache}"
        shutil.rmtree(stamp_dir, ignore_errors=True)
        run_env = dict(
            os.environ,
            PATH=f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
            BENCH_OUT=str(stamp_dir),
            ROWS=str(args.rows),
            KEEP_PG="1",
            FANOUT="0",
            CONC=str(args.conc),
            DURATION=str(args.duration),
            WARMUP=str(args.warmup),
            ROUNDS=str(args.rounds),
            HUB_URL=f"{base}/graphql",
            HUB_QUERY="queries/hub.graphql",
            HUB_EXPECT="20",
            HUB_HEADERS=f"Authorization: Bearer {token}",
        )
        loads = [os.getloadavg()[0]]
        done = subprocess.run(
            ["./run_all.sh"], cwd=harness, env=run_env, capture_output=True, text=True
        )
        loads.append(os.getloadavg()[0])
        if done.returncode != 0:
            tail = done.stdout[-1500:] + done.stderr[-1500:]
            raise SystemExit(f"anchor: the harness failed:\n{tail}")
        found = sorted(stamp_dir.glob("run-*/http.json"))
        if not found:
            raise SystemExit("anchor: the harness wrote no http.json")
        results = json.loads(found[-1].read_text())["results"]
        rss = peak_rss_mb(proc)
    finally:
        exit_s = stop(proc)
        log.close()
    print(
        f"anchor: hub ({cache}) peak RSS {rss or 0:.0f} MB; exited "
        + (f"{exit_s:.1f} s after SIGTERM" if exit_s is not None else "only when killed")
    )
    return {"cache": cache, "loadavg": loads, "medians": medians(results), "results": results,
            "client": client, "peak_rss_mb": rss, "exit_after_sigterm_s": exit_s}  # fmt: skip


def report(runs: list[dict[str, Any]], database_url: str) -> str:
    store = "SQLite" if database_url.startswith("sqlite") else "PostgreSQL"
    lines = [
        "| hub store, response cache | hub req/s | hub p50 / p99 ms | PostGraphile req/s"
        " | hub ÷ PostGraphile | pgbench req/s, p99 ms | goal | load |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for run in runs:
        m = run["medians"]
        hub, pgl, pgb = m.get("hub", {}), m.get("postgraphile", {}), m.get("pgbench", {})
        ratio = hub.get("rps", 0.0) / pgl["rps"] if pgl.get("rps") else float("nan")
        if store == "SQLite":
            goal, met = "≥ 0.5", ratio >= 0.5
        else:
            at_least, p99 = GOALS[run["cache"]]
            goal = f"≥ {at_least:g} with p99 ≤ {p99:g}"
            met = ratio >= at_least and hub.get("p99_max_ms", 1e9) <= p99
        lines.append(
            f"| {store}, {run['cache']} | {hub.get('rps', 0):,.0f} | "
            f"{hub.get('p50_ms', 0):.1f} / {hub.get('p99_ms', 0):.1f} (worst round "
            f"{hub.get('p99_max_ms', 0):.1f}) | {pgl.get('rps', 0):,.0f} | **{ratio:.2f}** | "
            f"{pgb.get('rps', 0):,.0f}, {pgb.get('p99_ms', 0):.1f} | {goal}: "
            f"{'met' if met else 'not met'} | {run['loadavg'][0]:.1f}–{run['loadavg'][1]:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="the hub's store, seeded")
    parser.add_argument("--cache", default="off,on", help="off, on or both (off,on)")
    parser.add_argument("--harness", default=str(ROOT.parent / "shared" / "bench-anchor"))
    parser.add_argument("--conc", type=int, default=16)
    parser.add_argument("--duration", type=int, default=12)
    parser.add_argument("--warmup", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--port", type=int, default=18100)
    parser.add_argument("--warm-seconds", type=int, default=0, help="wrk on the new process first")
    parser.add_argument("--out", default=str(OUT / "anchor.json"))
    args = parser.parse_args()
    if not (Path(args.harness) / "run_all.sh").exists():
        raise SystemExit(f"anchor: no run_all.sh in {args.harness} (pass --harness)")
    if shutil.which("wrk") is None:
        raise SystemExit("anchor: wrk is missing (apt-get install wrk)")
    runs: list[dict[str, Any]] = []
    client: dict[str, str] | None = None
    for cache in [c.strip() for c in args.cache.split(",") if c.strip()]:
        if cache not in GOALS:
            raise SystemExit(f"anchor: --cache takes off and on, got {cache!r}")
        at = time.strftime("%H:%M:%S", time.gmtime())
        print(f"anchor: cache {cache}, {at} UTC", file=sys.stderr)
        run = run_one(args, cache, client)
        client = run.pop("client")
        runs.append(run)
    table = report(runs, args.database_url)
    print(table)
    saved = {"command": sys.argv, "runs": runs, "table": table}
    Path(args.out).write_text(json.dumps(saved, indent=1))


if __name__ == "__main__":
    main()
