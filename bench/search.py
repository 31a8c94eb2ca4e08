#!/usr/bin/env python
"""Search benchmark: the running hub under load against the raw SQL of the same searches.

    python bench/search.py [--missions 200000] [--database-url URL] [--duration 10]
                           [--concurrency 16] [--port 8123] [--reseed] [--py-spy]

What it does, in one run:

1. Seeds the store up to N missions through `hub.ingest.service.apply` (the real write path), from
   `hub.demo.catalogue.demo_catalogue` in chunks with varying seeds and chunk-prefixed external ids.
2. Runs each search once in-process through the hub's own schema and repository, capturing every
   SQL statement it executes (the page query plus its child lookups): that is the raw baseline.
3. Starts the hub as a real process (`entraide-hub serve`), checks each search over HTTP, then for
   each search: load with `wrk` (POST, concurrency 16, `--latency`), then the captured SQL over
   raw driver connections at the same concurrency (PostgreSQL: `pgbench -M prepared`; SQLite:
   sqlite3 connections in threads spread over one process per core).
4. Prints req/s, p50, p99 and hub ÷ raw, saves bench/out/results-<backend>.json and rewrites
   the <backend> section of bench/RESULTS.md.

Database: --database-url, else HUB_DATABASE_URL, else SQLite bench/out/bench.db. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import math
import multiprocessing as mp
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
RESULTS_MD = ROOT / "bench" / "RESULTS.md"
DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}

CHUNK = 10_000  # missions per demo_catalogue() call (each call: its own seed, its 200 orgs)
BATCH = 1_000  # drafts per hub.ingest.service.apply() transaction
SEED_BASE = 20_000

TARGET_RATIO = 0.30
TARGET_P99_MS = 50.0

# --------------------------------------------------------------------------------------------
# Searches

_NODE = "id title remote organization { name } locations { city }"

SEARCHES: list[dict[str, str]] = [
    {
        "name": "filters",
        "label": "filters alone: FULL remote + skill design-graphique, RECENT",
        "document": (
            'query { missions(filter: {remote: [FULL], skills: ["design-graphique"]}, '
            f"first: 20, orderBy: RECENT) {{ edges {{ node {{ {_NODE} }} }} }} }}"
        ),
    },
    {
        "name": "fulltext",
        "label": 'full-text "accompagnement numérique", RELEVANCE',
        "document": (
            'query { missions(filter: {text: "accompagnement numérique"}, '
            f"first: 20, orderBy: RELEVANCE) {{ edges {{ node {{ {_NODE} }} }} }} }}"
        ),
    },
    {
        "name": "geo",
        "label": "geo: 20 km around Lyon, NEAREST",
        "document": (
            "query { missions(filter: {near: {latitude: 45.7640, longitude: 4.8357, "
            "radiusKm: 20}}, first: 20, orderBy: NEAREST) "
            f"{{ edges {{ node {{ {_NODE} distanceKm }} }} }} }}"
        ),
    },
    {
        "name": "deep_page",
        "label": "deep page: cause solidarite-insertion, RECENT, page 11 (after 10 endCursors)",
        # {after} is filled in once the cursor at the end of page 10 is known.
        "document": (
            "query { missions(filter: {causes: [SOLIDARITE_INSERTION]}, first: 20, "
            "orderBy: RECENT{after}) { edges { node { " + _NODE + " } } "
            "pageInfo { hasNextPage endCursor } } }"
        ),
    },
]
DEEP_PAGES = 10


# --------------------------------------------------------------------------------------------
# Small helpers


def console() -> Any:
    from rich.console import Console

    return Console(highlight=False, width=None if sys.stdout.isatty() else 150)


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (q in 0..100)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def backend_of(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def resolve_url(arg: str | None) -> str:
    if arg:
        return arg
    if os.environ.get("HUB_DATABASE_URL"):
        return os.environ["HUB_DATABASE_URL"]
    return f"sqlite+aiosqlite:///{OUT / 'bench.db'}"


def check_loopback(url: str) -> None:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        return
    if (u.host or "127.0.0.1") not in LOOPBACK:
        raise SystemExit(f"bench: only loopback databases are benchmarked, got host {u.host!r}")


def sqlite_path(url: str) -> str:
    from sqlalchemy.engine import make_url

    path = make_url(url).database
    if not path or path == ":memory:":
        raise SystemExit("bench: SQLite needs a file database")
    return path


async def prepare_pg_database(url: str, reseed: bool) -> None:
    """Create the benchmark database if missing (dropped first with --reseed)."""
    import asyncpg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    name = u.database or "bench"
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise SystemExit(f"bench: unexpected database name {name!r}")
    conn = await asyncpg.connect(
        host=u.host or "127.0.0.1",
        port=u.port or 5432,
        user=u.username or "postgres",
        password=u.password,
        database="postgres",
        timeout=10,
    )
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists and reseed:
            await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


# --------------------------------------------------------------------------------------------
# Seeding


@dataclasses.dataclass
class SeedReport:
    before: int
    after: int
    created: int = 0
    refused: int = 0
    generate_s: float = 0.0
    apply_s: float = 0.0
    wall_s: float = 0.0
    stopped_early: bool = False

    @property
    def apply_rate(self) -> float:
        return self.created / self.apply_s if self.apply_s else 0.0


async def _count_missions(engine: Any) -> int:
    from sqlalchemy import func, select

    from hub.storage.tables import missions

    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(missions))).scalar_one())


async def seed(url: str, target: int, timeout_s: float) -> SeedReport:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from sqlalchemy import text

    from hub.demo.catalogue import demo_catalogue
    from hub.ingest.service import apply
    from hub.settings import load_settings
    from hub.storage.db import make_engine
    from hub.storage.migrate import upgrade

    engine = make_engine(load_settings(database_url=url, db_echo=False))
    try:
        await upgrade(engine)
        existing = await _count_missions(engine)
        report = SeedReport(before=existing, after=existing)
        if existing >= target:
            if engine.dialect.name == "postgresql":  # migrations may have just changed tables
                async with engine.begin() as conn:
                    await conn.execute(text("ANALYZE"))
            return report
        start = time.perf_counter()
        deadline = start + timeout_s
        first_chunk = existing // CHUNK  # earlier chunks are complete; a partial one is redone
        chunks = math.ceil(target / CHUNK)
        with Progress(
            TextColumn("seeding"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console(),
        ) as progress:
            task = progress.add_task("seed", total=target, completed=first_chunk * CHUNK, rate="")
            for chunk in range(first_chunk, chunks):
                size = min(CHUNK, target - chunk * CHUNK)
                t = time.perf_counter()
                catalogue = demo_catalogue(missions=size, seed=SEED_BASE + chunk)
                report.generate_s += time.perf_counter() - t
                for partner, drafts in catalogue.items():
                    for i in range(0, len(drafts), BATCH):
                        batch = [
                            dataclasses.replace(d, external_id=f"b{chunk:03d}-{d.external_id}")
                            for d in drafts[i : i + BATCH]
                        ]
                        t = time.perf_counter()
                        result = await apply(engine, partner, batch, datetime.now(UTC))
                        report.apply_s += time.perf_counter() - t
                        counts = result.counts()
                        report.created += counts.get("created", 0)
                        report.refused += counts.get("refused", 0)
                        progress.update(
                            task,
                            advance=len(batch),
                            rate=f"{report.apply_rate:,.0f} missions/s",
                        )
                if time.perf_counter() > deadline:
                    report.stopped_early = True
                    break
        if engine.dialect.name == "postgresql":
            async with engine.begin() as conn:  # what autovacuum would do after a bulk load
                await conn.execute(text("ANALYZE"))
        report.after = await _count_missions(engine)
        report.wall_s = time.perf_counter() - start
        return report
    finally:
        await engine.dispose()


# --------------------------------------------------------------------------------------------
# The benchmark's OAuth client (the hub needs a bearer token with missions:read)

BENCH_CLIENT = "bench-load"


@dataclasses.dataclass
class BenchClient:
    client_id: str
    secret: str
    pk: int


async def bench_client(url: str) -> BenchClient:
    """A company client named bench-load, created once; its secret is rotated on every run."""
    from hub.auth.caller import ClientKind
    from hub.auth.clients import ClientStore
    from hub.settings import load_settings
    from hub.storage.db import make_engine

    engine = make_engine(load_settings(database_url=url, db_echo=False))
    try:
        store = ClientStore(engine, ttl=0)
        client_id = f"company-{BENCH_CLIENT}"
        if await store.get(client_id) is not None:
            made = await store.rotate_secret(client_id)
        else:
            made = await store.create(ClientKind.COMPANY, BENCH_CLIENT, client_id=client_id)
        return BenchClient(made.client_id, made.client_secret, made.record.pk)
    finally:
        await engine.dispose()


def in_process_caller(client: BenchClient) -> Any:
    """The caller a valid token of the bench client resolves to (open policy, read scope)."""
    from datetime import timedelta

    from hub.auth.caller import READ, Caller, ClientKind
    from hub.catalogue.filters import Policy

    return Caller(
        client_id=client.client_id,
        kind=ClientKind.COMPANY,
        scopes=frozenset({READ}),
        partner=None,
        policy=Policy(),
        trusted_documents_only=False,
        expires_at=datetime.now(UTC) + timedelta(hours=1),
        jti=None,
        client_pk=client.pk,
    )


# --------------------------------------------------------------------------------------------
# Capturing the SQL of each search (in-process, through the hub's schema and repository)


@dataclasses.dataclass
class Captured:
    name: str
    label: str
    document: str
    statements: list[tuple[str, Any]]
    results: int  # edges on the page


async def capture(url: str, caller: Any) -> list[Captured]:
    from sqlalchemy import event

    from hub.settings import load_settings
    from hub.storage.db import make_engine
    from hub.storage.repository import MissionRepository
    from schema import Context, build_schema

    settings = load_settings(database_url=url, db_echo=False)
    engine = make_engine(settings)
    seen: list[tuple[str, Any]] = []

    def on_execute(_c: Any, _cur: Any, statement: str, params: Any, _ctx: Any, many: bool) -> None:
        seen.append((statement, params))

    event.listen(engine.sync_engine, "before_cursor_execute", on_execute)
    gql = build_schema()
    repo = MissionRepository(engine)

    async def run(document: str) -> tuple[dict[str, Any], list[tuple[str, Any]]]:
        for _ in range(2):  # the first run may carry first-connect statements
            seen.clear()
            ctx = Context(
                request=None, response=None, settings=settings, repository=repo, caller=caller
            )
            result = await gql.execute(document, context_value=ctx)
            if result.errors:
                raise SystemExit(f"bench: search failed in-process: {result.errors}")
        return result.data or {}, list(seen)

    out: list[Captured] = []
    try:
        for search in SEARCHES:
            doc = search["document"]
            if search["name"] == "deep_page":
                after = ""
                for _ in range(DEEP_PAGES):
                    data, _ = await run(doc.replace("{after}", after))
                    info = data["missions"]["pageInfo"]
                    if not info["hasNextPage"]:
                        raise SystemExit("bench: deep-page search has fewer than 11 pages")
                    after = f', after: "{info["endCursor"]}"'
                doc = doc.replace("{after}", after)
            data, statements = await run(doc)
            out.append(
                Captured(
                    search["name"],
                    search["label"],
                    doc,
                    statements,
                    len(data["missions"]["edges"]),
                )
            )
    finally:
        await engine.dispose()
    return out


# --------------------------------------------------------------------------------------------
# The hub process


class Hub:
    """`entraide-hub serve` in its own session; stopped (TERM, then KILL) by its pid only."""

    def __init__(self, url: str, port: int, log_path: Path) -> None:
        self.url = url
        self.port = port
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.token = ""

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    def start(self, timeout_s: float = 60.0) -> None:
        import httpx

        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", self.port)) == 0:
                raise SystemExit(f"bench: port {self.port} is already taken; pass --port")
        exe = ROOT / ".venv" / "bin" / "entraide-hub"
        command = [str(exe) if exe.exists() else "entraide-hub", "serve"]
        command += ["--host", "127.0.0.1", "--port", str(self.port)]
        env = dict(os.environ)
        env.update(
            HUB_DATABASE_URL=self.url,
            HUB_HOST="127.0.0.1",
            HUB_PORT=str(self.port),
            HUB_LOG_LEVEL="warning",  # no per-request access log line
            HUB_DB_ECHO="false",
            HUB_TOKEN_TTL_SECONDS="7200",  # one token for the whole run
            HUB_RATE_LIMIT_PER_MINUTE="0",  # one client at full speed: no per-client limit
        )
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            command,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=OUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"bench: the hub exited at start-up; see {self.log_path}")
            with contextlib.suppress(httpx.HTTPError):
                r = httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2)
                if r.status_code == 200:
                    return
            time.sleep(0.2)
        raise SystemExit(f"bench: the hub did not answer /healthz within {timeout_s:.0f} s")

    def fetch_token(self, client: BenchClient) -> None:
        """client_credentials at /oauth/token, as a company intranet would."""
        import httpx

        r = httpx.post(
            f"http://127.0.0.1:{self.port}/oauth/token",
            data={"grant_type": "client_credentials", "scope": "missions:read"},
            auth=(client.client_id, client.secret),
            timeout=30,
        )
        if r.status_code != 200:
            raise SystemExit(f"bench: no token from the hub: {r.status_code} {r.text[:300]}")
        self.token = r.json()["access_token"]

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)


def http_check(hub: Hub, document: str) -> int:
    """POST the search once; the number of edges it returns (fails on any GraphQL error)."""
    import httpx

    r = httpx.post(
        hub.endpoint,
        json={"query": document},
        headers={"Authorization": f"Bearer {hub.token}"},
        timeout=30,
    )
    r.raise_for_status()
    body = r.json()
    if body.get("errors"):
        raise SystemExit(f"bench: search failed over HTTP: {body['errors']}")
    return len(body["data"]["missions"]["edges"])


# --------------------------------------------------------------------------------------------
# Load with wrk

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


@dataclasses.dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    note: str = ""
    load_avg: float = math.nan  # 1-minute load average when the measurement ended


def run_wrk(hub: Hub, name: str, document: str, duration: int, concurrency: int) -> Load:
    body = json.dumps({"query": document})
    if "]==]" in body:
        raise SystemExit("bench: body cannot be embedded in the wrk script")
    script = OUT / f"wrk-{name}.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {hub.token}"\n'
        f"wrk.body = [==[{body}]==]\n",
        encoding="utf-8",
    )
    threads = max(1, min(2, concurrency))
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{concurrency}",
        f"-d{duration}s",
        "--timeout",
        f"{max(10, duration)}s",
        "--latency",
        "-s",
        str(script),
        hub.endpoint,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    if done.returncode != 0:
        raise SystemExit(f"bench: wrk failed: {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


def parse_wrk(output: str) -> Load:
    def latency(pct: str) -> float:
        m = re.search(rf"^\s*{pct}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
        return float(m.group(1)) * _UNITS[m.group(2)] if m else math.nan

    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    errors = 0
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if non2xx:
        errors += int(non2xx.group(1))
    sock = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if sock:
        errors += sum(int(x) for x in sock.groups())
    requests = int(total.group(1)) if total else 0
    if requests == 0:  # nothing completed in time: no latency figures at all
        return Load(0.0, math.nan, math.nan, 0, errors, "no request completed")
    return Load(
        rps=float(rps.group(1)) if rps else math.nan,
        p50_ms=latency("50"),
        p99_ms=latency("99"),
        requests=requests,
        errors=errors,
    )


# --------------------------------------------------------------------------------------------
# Raw SQL on SQLite: one process per core, threads over sqlite3 connections


def _distance(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> float | None:
    from hub.storage.db import distance_km

    if lat1 is None or lon1 is None or lat2 is None or lon2 is None:
        return None
    return distance_km(float(lat1), float(lon1), float(lat2), float(lon2))


def _sqlite_connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, check_same_thread=False)
    conn.create_function("hub_distance_km", 4, _distance, deterministic=True)
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def sqlite_rows(path: str, statements: list[tuple[str, Any]]) -> list[int]:
    conn = _sqlite_connect(path)
    try:
        return [len(conn.execute(sql, params or ()).fetchall()) for sql, params in statements]
    finally:
        conn.close()


def _sqlite_worker(
    path: str,
    statements: list[tuple[str, Any]],
    threads: int,
    start_at: float,
    end_at: float,
    queue: Any,
) -> None:
    latencies: list[list[float]] = [[] for _ in range(threads)]

    def loop(i: int) -> None:
        conn = _sqlite_connect(path)
        mine = latencies[i]
        try:
            while time.time() < start_at:
                time.sleep(0.001)
            while True:
                t = time.perf_counter()
                if time.time() >= end_at:
                    break
                for sql, params in statements:
                    conn.execute(sql, params or ()).fetchall()
                mine.append(time.perf_counter() - t)
        finally:
            conn.close()

    pool = [threading.Thread(target=loop, args=(i,), daemon=True) for i in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join(timeout=max(1.0, end_at - time.time() + 30))
    queue.put([x for lst in latencies for x in lst])


def run_raw_sqlite(
    path: str, statements: list[tuple[str, Any]], duration: int, concurrency: int
) -> Load:
    procs_n = max(1, min(os.cpu_count() or 1, concurrency))
    per = [concurrency // procs_n + (1 if i < concurrency % procs_n else 0) for i in range(procs_n)]
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    start_at = time.time() + 2.0  # workers spawn, connect, then all start together
    end_at = start_at + duration
    procs = [
        ctx.Process(target=_sqlite_worker, args=(path, statements, n, start_at, end_at, queue))
        for n in per
    ]
    for p in procs:
        p.start()
    lat: list[float] = []
    try:
        for _ in procs:
            lat.extend(queue.get(timeout=duration + 60))
    finally:
        for p in procs:
            p.join(timeout=10)
            if p.is_alive():
                p.kill()
    lat.sort()
    return Load(
        rps=len(lat) / duration,
        p50_ms=percentile(lat, 50) * 1e3,
        p99_ms=percentile(lat, 99) * 1e3,
        requests=len(lat),
        errors=0,
        note=f"{procs_n} procs x {per[0]} threads",
    )


# --------------------------------------------------------------------------------------------
# Raw SQL on PostgreSQL: pgbench with the captured statements, binds rendered as literals


def _pg_text(value: str) -> str:
    # pgbench reads ":name" as a variable even inside quotes: keep colons out of the script.
    parts = value.replace("'", "''").split(":")
    return " || chr(58) || ".join(f"'{p}'" for p in parts) if len(parts) > 1 else f"'{parts[0]}'"


def pg_literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | Decimal):
        return f"({value})"
    if isinstance(value, float):
        if math.isinf(value) or math.isnan(value):
            return f"'{value}'::float8"
        return f"({value!r})"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in a captured statement")
        v = value.astimezone(UTC)
        seconds = f"{v.second + v.microsecond / 1e6:.6f}"
        fields = f"{v.year}, {v.month}, {v.day}, {v.hour}, {v.minute}, {seconds}"
        return f"make_timestamptz({fields}, 'UTC')"
    if isinstance(value, date):
        return f"make_date({value.year}, {value.month}, {value.day})"
    if isinstance(value, str):
        return _pg_text(value)
    if isinstance(value, list | tuple):
        return "ARRAY[" + ", ".join(pg_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return _pg_text(json.dumps(value))
    raise TypeError(f"no literal for {type(value).__name__}")


def render_pg(statement: str, params: Any) -> str:
    params = list(params or ())

    def sub(m: re.Match[str]) -> str:
        return pg_literal(params[int(m.group(1)) - 1])

    rendered = re.sub(r"\$(\d+)", sub, statement)
    if re.search(r"(?<!:):[A-Za-z0-9_]", rendered):
        raise ValueError("a ':' variable marker is left in a pgbench statement")
    return rendered


async def pg_rows(url: str, sqls: list[str]) -> list[int]:
    import asyncpg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    conn = await asyncpg.connect(
        host=u.host or "127.0.0.1",
        port=u.port or 5432,
        user=u.username or "postgres",
        password=u.password,
        database=u.database,
        timeout=10,
    )
    try:
        return [len(await conn.fetch(sql)) for sql in sqls]
    finally:
        await conn.close()


def run_pgbench(url: str, name: str, sqls: list[str], duration: int, concurrency: int) -> Load:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    script = OUT / f"pgbench-{name}.sql"
    script.write_text(";\n".join(sqls) + ";\n", encoding="utf-8")
    prefix = OUT / f"pgbench-{name}-log"
    for old in OUT.glob(f"{prefix.name}.*"):
        old.unlink()
    threads = max(1, min(2, concurrency))
    command = [
        "pgbench",
        "-n",
        "-M",
        "prepared",
        "-c",
        str(concurrency),
        "-j",
        str(threads),
        "-T",
        str(duration),
        "-f",
        str(script),
        "-l",
        f"--log-prefix={prefix}",
        "-h",
        u.host or "127.0.0.1",
        "-p",
        str(u.port or 5432),
        "-U",
        u.username or "postgres",
        u.database or "bench",
    ]
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = u.password
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + 60, env=env, cwd=OUT
    )
    if done.returncode != 0:
        raise SystemExit(f"bench: pgbench failed: {done.stderr or done.stdout}")
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", done.stdout)
    lat: list[float] = []
    for log in OUT.glob(f"{prefix.name}.*"):
        for line in log.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 3 and fields[2].isdigit():
                lat.append(int(fields[2]) / 1e3)  # µs -> ms
        log.unlink()
    lat.sort()
    return Load(
        rps=float(tps.group(1)) if tps else math.nan,
        p50_ms=percentile(lat, 50),
        p99_ms=percentile(lat, 99),
        requests=len(lat),
        errors=int(failed.group(1)) if failed else 0,
        note="pgbench -M prepared",
    )


# --------------------------------------------------------------------------------------------
# py-spy (optional)


def start_py_spy(
    pid: int, name: str, backend: str, duration: int
) -> subprocess.Popen[bytes] | None:
    exe = ROOT / ".venv" / "bin" / "py-spy"
    if not exe.exists():
        return None
    out = OUT / f"py-spy-{backend}-{name}.txt"
    return subprocess.Popen(
        [
            str(exe),
            "record",
            "-p",
            str(pid),
            "-d",
            str(duration),
            "-r",
            "100",
            "--format",
            "raw",
            "-o",
            str(out),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


# --------------------------------------------------------------------------------------------
# Report


@dataclasses.dataclass
class Row:
    name: str
    label: str
    results: int
    statements: int
    hub: Load
    raw: Load

    @property
    def ratio(self) -> float:
        return self.hub.rps / self.raw.rps if self.raw.rps else math.nan


def print_table(rows: list[Row], backend: str, missions: int) -> None:
    from rich.table import Table

    table = Table(title=f"Search benchmark, {backend}, {missions:,} missions")
    for col in (
        "search",
        "results",
        "SQL/req",
        "hub req/s",
        "hub p50 ms",
        "hub p99 ms",
        "raw req/s",
        "raw p50 ms",
        "raw p99 ms",
        "hub ÷ raw",
    ):
        table.add_column(col, justify="left" if col == "search" else "right")
    for r in rows:
        table.add_row(
            r.name,
            str(r.results),
            str(r.statements),
            f"{r.hub.rps:,.1f}",
            f"{r.hub.p50_ms:.1f}",
            f"{r.hub.p99_ms:.1f}",
            f"{r.raw.rps:,.1f}",
            f"{r.raw.p50_ms:.2f}",
            f"{r.raw.p99_ms:.2f}",
            f"{r.ratio:.3f}",
        )
    console().print(table)


def markdown_section(
    rows: list[Row],
    backend: str,
    missions: int,
    seed_report: SeedReport,
    command: str,
    duration: int,
    concurrency: int,
) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    raw_tool = (
        "pgbench -n -M prepared -c 16 -j 2 (binds rendered as literals, one transaction = every "
        "statement of the search)"
        if backend == "postgresql"
        else "Python sqlite3, one process per core, 16 connections in threads in total, "
        "`hub_distance_km` registered as the hub does"
    )
    lines = [
        f"### {backend} — {missions:,} missions — {now}",
        "",
        f"Command: `{command}`  ",
        f"Load: wrk -t2 -c{concurrency} -d{duration}s --latency (POST /graphql); "
        f"raw: {raw_tool}.  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} shared cores, Python "
        f"{platform.python_version()}; hub, load generator and database on the same box.  ",
    ]
    if seed_report.created:
        lines.append(
            f"Seeding through `hub.ingest.service.apply` (batches of {BATCH}): "
            f"{seed_report.created:,} missions in {seed_report.wall_s:,.0f} s wall "
            f"({seed_report.apply_rate:,.0f} "
            f"missions/s inside apply, {seed_report.generate_s:,.0f} s generating drafts)."
            + (" Stopped early by the seeding time limit." if seed_report.stopped_early else "")
        )
    lines += [
        "",
        "| search | results | SQL/req | hub req/s | hub p50 ms | hub p99 ms | raw req/s "
        "| raw p50 ms | raw p99 ms | hub ÷ raw | load avg hub/raw |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def f(value: float, spec: str) -> str:
        return "—" if math.isnan(value) else format(value, spec)

    for r in rows:
        lines.append(
            f"| {r.label} | {r.results} | {r.statements} | {f(r.hub.rps, ',.1f')} "
            f"| {f(r.hub.p50_ms, '.1f')} | {f(r.hub.p99_ms, '.1f')} | {f(r.raw.rps, ',.1f')} "
            f"| {f(r.raw.p50_ms, '.2f')} | {f(r.raw.p99_ms, '.2f')} | {f(r.ratio, '.3f')} "
            f"| {f(r.hub.load_avg, '.1f')} / {f(r.raw.load_avg, '.1f')} |"
        )
    slow = [r.name for r in rows if r.hub.requests == 0]
    if slow:
        lines.append(
            f"\nNo hub request completed within {duration} s at concurrency {concurrency} for: "
            f"{', '.join(slow)}; rerun them alone with a longer --duration."
        )
    met = [r for r in rows if r.ratio >= TARGET_RATIO and r.hub.p99_ms <= TARGET_P99_MS]
    done = [r for r in rows if r.hub.requests and not math.isnan(r.ratio)]
    spread = (
        f"ratios {min(r.ratio for r in done):.3f}–{max(r.ratio for r in done):.3f}, hub p99 "
        f"{min(r.hub.p99_ms for r in done):.0f}–{max(r.hub.p99_ms for r in done):.0f} ms"
        if done
        else "no hub request completed in time"
    )
    lines += [
        "",
        f"Against the goal (≥ {TARGET_RATIO:.2f}× raw SQL with p99 ≤ {TARGET_P99_MS:.0f} ms): "
        f"{len(met)} of {len(rows)} searches meet it; {spread}.",
    ]
    errors = sum(r.hub.errors for r in rows)
    if errors:
        lines.append(f"wrk counted {errors} non-2xx responses or socket errors.")
    return "\n".join(lines) + "\n"


def update_results_md(backend: str, section: str) -> None:
    start, end = f"<!-- bench:{backend}:start -->", f"<!-- bench:{backend}:end -->"
    block = f"{start}\n{section}{end}"
    text = (
        RESULTS_MD.read_text(encoding="utf-8")
        if RESULTS_MD.exists()
        else (
            "# Search benchmark results\n\nWritten by `bench/search.py`; each run rewrites the "
            "section of its database.\n\n"
        )
    )
    if start in text and end in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    RESULTS_MD.write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--missions", type=int, default=200_000)
    parser.add_argument("--database-url")
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--reseed", action="store_true", help="start from an empty database")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unrecorded load first")
    parser.add_argument("--seed-timeout", type=float, default=1800, help="seconds, then stop")
    parser.add_argument("--only", help="comma-separated search names to run")
    parser.add_argument(
        "--py-spy",
        action="store_true",
        help="profile the hub under each load (needs .venv/bin/py-spy)",
    )
    parser.add_argument("--no-results-md", action="store_true")
    args = parser.parse_args(argv)

    if args.duration < 1 or args.duration > 600 or not 1 <= args.concurrency <= 256:
        parser.error("duration must be 1..600 s and concurrency 1..256")
    if shutil.which("wrk") is None:
        raise SystemExit("bench: wrk is missing (apt-get install -y wrk)")
    OUT.mkdir(parents=True, exist_ok=True)
    con = console()
    url = resolve_url(args.database_url)
    check_loopback(url)
    backend = backend_of(url)
    if backend == "postgresql" and shutil.which("pgbench") is None:
        raise SystemExit("bench: pgbench is missing (apt-get install -y postgresql-client)")
    command = " ".join(
        ["python bench/search.py", *(shlex.quote(a) for a in (argv or sys.argv[1:]))]
    )
    con.print(f"[bold]database[/] {url}")

    if backend == "postgresql":
        asyncio.run(prepare_pg_database(url, args.reseed))
    elif args.reseed:
        path = Path(sqlite_path(url))
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(path) + suffix).unlink(missing_ok=True)

    seed_report = asyncio.run(seed(url, args.missions, args.seed_timeout))
    if seed_report.created:
        con.print(
            f"seeded {seed_report.created:,} missions in {seed_report.wall_s:,.1f} s: "
            f"{seed_report.apply_rate:,.0f} missions/s inside apply, "
            f"{seed_report.generate_s:,.1f} s generating; refused {seed_report.refused}"
        )
    con.print(f"missions in store: {seed_report.after:,}")

    client = asyncio.run(bench_client(url))
    captured = asyncio.run(capture(url, in_process_caller(client)))
    if args.only:
        wanted = set(args.only.split(","))
        captured = [c for c in captured if c.name in wanted]
    sqls: dict[str, list[str]] = {}
    for c in captured:
        dump = OUT / f"sql-{backend}-{c.name}.sql"
        with dump.open("w", encoding="utf-8") as fh:
            fh.write(f"-- {c.label}\n-- {c.document}\n\n")
            for stmt, params in c.statements:
                fh.write(f"{stmt};\n-- params: {params!r}\n\n")
        if backend == "postgresql":
            sqls[c.name] = [render_pg(s, p) for s, p in c.statements]
            rows = asyncio.run(pg_rows(url, sqls[c.name]))
        else:
            rows = sqlite_rows(sqlite_path(url), c.statements)
        con.print(
            f"[bold]{c.name}[/]: {c.results} results; {len(c.statements)} SQL statements per "
            f"search, rows {rows}"
        )
        if c.results == 0:
            con.print(f"[red]warning: {c.name} returns nothing[/]")

    hub = Hub(url, args.port, OUT / f"hub-{backend}.log")
    rows_out: list[Row] = []

    def on_term(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        hub.start()
        hub.fetch_token(client)
        con.print(f"hub up, pid {hub.pid}, {hub.endpoint}")
        for c in captured:
            over_http = http_check(hub, c.document)
            if over_http != c.results:
                raise SystemExit(
                    f"bench: {c.name}: {over_http} results over HTTP, {c.results} in-process"
                )
        for c in captured:
            if args.warmup:
                run_wrk(hub, c.name, c.document, args.warmup, args.concurrency)
            spy = (
                start_py_spy(hub.pid or 0, c.name, backend, args.duration) if args.py_spy else None
            )
            hub_load = run_wrk(hub, c.name, c.document, args.duration, args.concurrency)
            hub_load.load_avg = os.getloadavg()[0]
            if spy is not None:
                spy.wait(timeout=60)
            if hub.proc is not None and hub.proc.poll() is not None:
                raise SystemExit(f"bench: the hub died under load; see {hub.log_path}")
            if hub_load.errors:
                raise SystemExit(
                    f"bench: {c.name}: {hub_load.errors} of {hub_load.requests} responses were "
                    "errors (non-2xx or socket errors): the figures would be meaningless"
                )
            if backend == "postgresql":
                raw = run_pgbench(url, c.name, sqls[c.name], args.duration, args.concurrency)
            else:
                raw = run_raw_sqlite(
                    sqlite_path(url), c.statements, args.duration, args.concurrency
                )
            raw.load_avg = os.getloadavg()[0]
            row = Row(c.name, c.label, c.results, len(c.statements), hub_load, raw)
            rows_out.append(row)
            con.print(
                f"{c.name}: hub {hub_load.rps:,.1f} req/s p50 {hub_load.p50_ms:.1f} ms p99 "
                f"{hub_load.p99_ms:.1f} ms (errors {hub_load.errors}) | raw {raw.rps:,.1f} req/s "
                f"p50 {raw.p50_ms:.2f} ms p99 {raw.p99_ms:.2f} ms | hub ÷ raw {row.ratio:.3f} "
                f"| load avg {hub_load.load_avg:.1f} / {raw.load_avg:.1f}"
            )
    except KeyboardInterrupt:
        con.print("[red]interrupted[/]")
        return 130
    finally:
        hub.stop()

    print_table(rows_out, backend, seed_report.after)
    payload = {
        "backend": backend,
        "database_url": url,
        "missions": seed_report.after,
        "when": datetime.now(UTC).isoformat(),
        "command": command,
        "duration": args.duration,
        "concurrency": args.concurrency,
        "seed": dataclasses.asdict(seed_report) | {"apply_rate": seed_report.apply_rate},
        "rows": [dataclasses.asdict(r) | {"ratio": r.ratio} for r in rows_out],
    }
    (OUT / f"results-{backend}.json").write_text(json.dumps(payload, indent=2), encoding="utf-8")
    if not args.no_results_md and not args.only:
        update_results_md(
            backend,
            markdown_section(
                rows_out,
                backend,
                seed_report.after,
                seed_report,
                command,
                args.duration,
                args.concurrency,
            ),
        )
        con.print(f"updated {RESULTS_MD.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
