#!/usr/bin/env python
"""Ingest benchmark: a partner's XML feed synced into the store, beside a bare bulk write.

    python bench/ingest.py [--missions 100000] [--sizes 10000,50000,100000]
                           [--database-url URL] [--py-spy] [--no-results-md]

For each backend (SQLite bench/out/ingest.db and PostgreSQL `benchingest` by default; one only
with --database-url) and each feed size N, in one run:

1. Serves a simulated API Engagement XML feed of N missions from its own process
   (`python -m tests.partners.serve api-engagement-xml --count N --static`): the feed is
   rendered to a file before the clock starts and the file is served, as a partner's server on
   another machine would; `--generated-feed` generates it while it is sent instead (the way of
   the figures before 2026-12-05 19:30 UTC: the generator's CPU, ~6% of a first sync's, then
   shares the two cores with the hub).
2. Migrates a fresh store (the SQLite file is deleted; the PostgreSQL database is dropped and
   created), adds the partner with `hub.sync.add_partner` (the feed's URL, no auth).
3. Runs one full sync through `SyncRunner` in a separate Python process (so its memory is its
   own): wall time, missions/s, peak RSS (VmHWM) and RSS sampled every 1,000 outcomes; then a
   second sync of the unchanged feed (nothing to write: the steady state). The syncs run at
   BENCH_NOW (2026-01-01 12:00 UTC, then time passes), whatever the machine's date: every
   mission of the feed is open, on any day the benchmark runs.
4. Baseline, in another process, from the same feed: pulls it with the same connector, runs
   `hub.ingest.pipeline.prepare` on every draft and builds exactly the rows the hub writes
   (missions, locations, causes, skills and their change events, with the writer's own
   `_mission_values`), then writes them into a freshly migrated store of the same schema (same
   indexes, full-text triggers / generated column): PostgreSQL `COPY ... FROM STDIN` (asyncpg
   `copy_records_to_table`), SQLite `executemany` in one transaction. Only the write is timed
   as "bulk"; pulling, preparing and building rows are timed apart.
5. Prints the table, saves bench/out/ingest-<backend>-<sizes>.json and rewrites the backend's
   part of the "Ingest" section of bench/RESULTS.md (between its `bench:ingest-<backend>`
   markers).

--py-spy wraps each first sync in `py-spy record` (100 Hz, collapsed stacks in bench/out/) and
prints where the time went; the figures of such a run are perturbed, hence --no-results-md.
Loopback only; every process started here is stopped by its pid.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
RESULTS_MD = ROOT / "bench" / "RESULTS.md"
DEFAULT_SQLITE_URL = f"sqlite+aiosqlite:///{OUT / 'ingest.db'}"
DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/benchingest"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
PARTNER = "bench-feed"
CONNECTOR = "api-engagement-xml"
TARGET_RATE = 5_000.0  # missions/s, first sync
FLAT_GROWTH = 0.25  # peak RSS may grow by at most 25% from the smallest to the largest feed
SAMPLE_EVERY = 1_000  # outcomes between two RSS samples in the sync process
# The moment the benchmark's syncs run at, whatever today's date: the simulated catalogue's
# missions start in 2026 and end 14-200 days later (tests.partners.catalogue), so with the
# machine's date the share of missions already over when they arrive (stored expired, another
# path of the writer) grew with the calendar: 77% on 2026-12-05, hence figures of two dates
# that compare different work. On this date every mission of the feed is open, as in a
# partner's real feed, which lists the missions still to come.
BENCH_NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def bench_clock() -> Any:
    """The machine's clock moved back to BENCH_NOW at the benchmark's start (BENCH_T0, set by the
    main process for every worker): time still passes (durations, heartbeats, sleeps are real)
    and goes on from one worker to the next (a second sync comes after the first)."""
    from hub.clock import SystemClock

    started = float(os.environ.setdefault("BENCH_T0", str(time.time())))
    shift = datetime.fromtimestamp(started, UTC) - BENCH_NOW

    class Shifted(SystemClock):
        def now(self) -> datetime:
            return super().now() - shift

    return Shifted()


WORKER_TIMEOUT_S = int(os.environ.get("BENCH_WORKER_TIMEOUT_S", "1800"))  # a 1M run needs more

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# --------------------------------------------------------------------------------------------
# Small helpers


def backend_of(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def check_loopback(url: str) -> None:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if not u.database or u.database == ":memory:":
            raise SystemExit("bench: SQLite needs a file database")
        return
    if (u.host or "127.0.0.1") not in LOOPBACK:
        raise SystemExit(f"bench: only loopback databases are benchmarked, got host {u.host!r}")


def absolute_sqlite(url: str) -> str:
    """A relative SQLite path made absolute, so that every process started here opens it."""
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return url
    return u.set(database=str(Path(u.database).resolve())).render_as_string(hide_password=False)


def spoken(text: str) -> str:
    """`text` (a command, a store's URL) as the results say it: paths inside this checkout made
    relative, a SQLite file elsewhere named as such (results speak of the project only)."""
    text = text.replace(str(ROOT) + "/", "")
    return re.sub(r"(sqlite\+aiosqlite:///)/\S+", r"\1<a file>", text)


def proc_status(field: str, pid: int | str = "self") -> float:
    """A memory line of /proc/<pid>/status (VmRSS, VmHWM) in MB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def child_pids() -> list[int]:
    """The processes this one started (the sync's pull process among them)."""
    pids: list[int] = []
    for task in Path("/proc/self/task").iterdir():
        with contextlib.suppress(OSError):
            pids += [int(pid) for pid in (task / "children").read_text().split()]
    return pids


def loadavg() -> float:
    return os.getloadavg()[0]


def fmt(value: float | None, spec: str = ",.0f") -> str:
    if value is None or value != value:  # None or NaN
        return "—"
    return format(value, spec)


# --------------------------------------------------------------------------------------------
# The store: fresh, migrated


async def fresh_store(url: str) -> None:
    """Delete the SQLite file, or drop and create the PostgreSQL database; then migrate."""
    from sqlalchemy.engine import make_url

    from hub.settings import load_settings
    from hub.storage.db import make_engine
    from hub.storage.migrate import upgrade

    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        path = Path(u.database or "")
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                Path(str(path) + suffix).unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
    else:
        import asyncpg

        name = u.database or "benchingest"
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
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
    engine = make_engine(load_settings(database_url=url, db_echo=False))
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def add_feed_partner(url: str, feed_url: str) -> None:
    from hub.settings import load_settings
    from hub.storage.db import make_engine
    from hub.sync import add_partner

    engine = make_engine(load_settings(database_url=url, db_echo=False))
    try:
        await add_partner(
            engine,
            PARTNER,
            connector=CONNECTOR,
            url=feed_url,
            every=None,
            push_only=False,
            config={"timeout": 120.0},
            now=BENCH_NOW,
        )
    finally:
        await engine.dispose()


COUNTED = ("missions", "mission_locations", "mission_causes", "mission_skills", "mission_events")


async def row_counts(url: str) -> dict[str, int]:
    from sqlalchemy import text

    from hub.settings import load_settings
    from hub.storage.db import make_engine

    engine = make_engine(load_settings(database_url=url, db_echo=False))
    try:
        async with engine.connect() as conn:
            return {
                t: int((await conn.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one())
                for t in COUNTED
            }
    finally:
        await engine.dispose()


# --------------------------------------------------------------------------------------------
# The feed: its own process


class Feed:
    """`python -m tests.partners.serve api-engagement-xml --count N [--static]`, stopped by its
    pid."""

    static = True  # main(): False with --generated-feed

    def __init__(self, count: int, log_path: Path) -> None:
        self.count = count
        self.log_path = log_path
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> Feed:
        log = open(self.log_path, "w", encoding="utf-8")  # noqa: SIM115 - closed with the process
        command = [
            sys.executable,
            "-m",
            "tests.partners.serve",
            CONNECTOR,
            "--count",
            str(self.count),
        ]
        # Rendering the file first takes ~0.1 ms a mission: the wait grows with the feed.
        timeout_s = 30.0 + (self.count / 2_000 if self.static else 0.0)
        self.proc = subprocess.Popen(
            command + (["--static"] if self.static else []),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        assert self.proc.stdout is not None
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self.proc.stdout.readline()))  # type: ignore[union-attr]
        reader.start()
        reader.join(timeout_s)
        if not line or not line[0].startswith("PORT "):
            self.stop()
            raise SystemExit(f"bench: the feed server did not start; see {self.log_path}")
        self.url = f"http://127.0.0.1:{int(line[0].split()[1])}/feed.xml"
        return self

    def stop(self) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# --------------------------------------------------------------------------------------------
# Workers: separate processes, one JSON line on stdout ("RESULT {...}")


def run_worker(args: list[str], log_path: Path, py_spy: Path | None = None) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", *args]
    if py_spy is not None:
        spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        spy_args = ["record", "--rate", "100", "--format", "raw", "--subprocesses"]
        cmd = [spy, *spy_args, "-o", str(py_spy), "--", *cmd]
    env = {**os.environ, "HUB_LOG_LEVEL": "warning"}
    started = time.perf_counter()
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True, env=env
        )
        try:
            out, _ = proc.communicate(timeout=WORKER_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise SystemExit(f"bench: worker {args[0]} timed out; see {log_path}") from None
    wall = time.perf_counter() - started
    for line in out.splitlines():
        if line.startswith("RESULT "):
            result: dict[str, Any] = json.loads(line[len("RESULT ") :])
            result["process_wall_s"] = wall
            return result
    raise SystemExit(f"bench: worker {args[0]} failed (exit {proc.returncode}); see {log_path}")


class _Timed:
    """Wraps a module-level function to add up its wall time (async or not) and its calls."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = collections.defaultdict(float)
        self.calls: dict[str, int] = collections.defaultdict(int)

    def wrap(self, module: Any, attr: str, label: str) -> None:
        original = getattr(module, attr)
        seconds, calls = self.seconds, self.calls
        if asyncio.iscoroutinefunction(original):

            async def timed_async(*a: Any, **k: Any) -> Any:
                t = time.perf_counter()
                try:
                    return await original(*a, **k)
                finally:
                    seconds[label] += time.perf_counter() - t
                    calls[label] += 1

            setattr(module, attr, timed_async)
        else:

            def timed(*a: Any, **k: Any) -> Any:
                t = time.perf_counter()
                try:
                    return original(*a, **k)
                finally:
                    seconds[label] += time.perf_counter() - t
                    calls[label] += 1

            setattr(module, attr, timed)


async def worker_sync(url: str) -> dict[str, Any]:
    """One sync of the partner through SyncRunner, measured from inside this process."""
    import httpx
    from sqlalchemy import event

    import hub.ingest.service
    import hub.storage.writer as writer
    import hub.sync.runner as runner_mod
    from hub.settings import load_settings
    from hub.storage.db import make_engine
    from hub.sync import SyncRunner

    timed = _Timed()
    # Where the wall time of a sync goes (patched names are module globals the hub looks up).
    timed.wrap(runner_mod.SyncRunner, "_write", "write batch (SyncRunner._write)")
    timed.wrap(runner_mod.SyncRunner, "_absence", "absence (SyncRunner._absence)")
    timed.wrap(hub.ingest.service, "prepare", "pipeline.prepare")
    timed.wrap(hub.ingest.service, "upsert_missions", "writer.upsert_missions")
    # writer.py calls these by module-level name; older trees had the first two as _private.
    for names, label in (
        (("resolve_organizations", "_resolve_organizations"), "writer._resolve_organizations"),
        (("_mission_values",), "writer._mission_values"),
        (("_write_children",), "writer._write_children"),
        (("link_duplicates", "_link_duplicates"), "writer._link_duplicates"),
        (("append_events", "_append_events"), "writer._append_events"),
    ):
        for name in names:
            if hasattr(writer, name):
                timed.wrap(writer, name, label)
                break
    for name in ("count_unmapped", "_count_unmapped"):  # moved to hub.storage.refusals
        if hasattr(hub.ingest.service, name):
            timed.wrap(hub.ingest.service, name, "ingest._count_unmapped")
            break

    settings = load_settings(database_url=url, db_echo=False)
    engine = make_engine(settings)
    statements = {"execute": 0, "executemany": 0}

    kinds: collections.Counter[str] = collections.Counter()
    kind_seconds: dict[str, float] = collections.defaultdict(float)
    started: list[float] = []

    def on_execute(_c: Any, _cur: Any, sql: str, _p: Any, _ctx: Any, many: bool) -> None:
        statements["executemany" if many else "execute"] += 1
        kinds[("many " if many else "") + " ".join(sql.split())[:70]] += 1
        started.append(time.perf_counter())

    def after_execute(_c: Any, _cur: Any, sql: str, _p: Any, _ctx: Any, many: bool) -> None:
        if started:  # the driver's round trip, database work included
            kind = ("many " if many else "") + " ".join(sql.split())[:70]
            kind_seconds[kind] += time.perf_counter() - started.pop()

    event.listen(engine.sync_engine, "before_cursor_execute", on_execute)
    event.listen(engine.sync_engine, "after_cursor_execute", after_execute)
    samples: list[tuple[int, float, float]] = []
    seen = 0
    t0 = 0.0

    child_peak = 0.0  # VmHWM of the pull's own process (hub.ingest.pulling), when it has one

    pulls: list[int] = []  # the pull process, once seen

    def progress(n: int) -> None:
        nonlocal seen, child_peak
        if (seen + n) // SAMPLE_EVERY > seen // SAMPLE_EVERY:
            samples.append((seen + n, time.perf_counter() - t0, proc_status("VmRSS")))
            pulls[:] = child_pids()
        # The pull process's own high-water mark, at each of its batches (its rusage would not
        # do: a child started by vfork inherits its parent's mark at exec).
        for child in pulls:
            with contextlib.suppress(OSError, ValueError):
                child_peak = max(child_peak, proc_status("VmHWM", child))
        seen += n

    try:
        async with httpx.AsyncClient() as http:
            runner = SyncRunner(engine, http, settings, clock=bench_clock())
            rss_start = proc_status("VmRSS")
            t0 = time.perf_counter()
            report = await runner.sync(PARTNER, progress=progress)
            sync_s = time.perf_counter() - t0
    finally:
        await engine.dispose()
    peak = proc_status("VmHWM")
    return {
        "status": report.status,
        "error": report.error,
        "counts": report.counts,
        "sync_s": sync_s,
        "rss_start_mb": rss_start,
        "rss_end_mb": proc_status("VmRSS"),
        "rss_peak_mb": peak,
        "pull_process_rss_peak_mb": child_peak,
        "rss_peak_sum_mb": peak + child_peak,  # both processes' peaks: the sync's memory in all
        "samples": samples,
        "breakdown_s": dict(timed.seconds),
        "calls": dict(timed.calls),
        "statements": statements,
        "statement_kinds": kinds.most_common(12),
        "statement_seconds": [
            (k, v, kinds[k]) for k, v in sorted(kind_seconds.items(), key=lambda kv: -kv[1])[:12]
        ],
        "batch_size": settings.sync_batch_size,
    }


class _CountingTransport(httpx.AsyncBaseTransport):
    """An httpx transport that counts the response bytes (the feed's size on the wire)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.bytes = 0

    async def handle_async_request(self, request: Any) -> Any:
        response = await self.inner.handle_async_request(request)
        outer = self

        class Stream(httpx.AsyncByteStream):
            async def __aiter__(self) -> Any:
                async for chunk in response.stream:  # type: ignore[union-attr]
                    outer.bytes += len(chunk)
                    yield chunk

            async def aclose(self) -> None:
                await response.aclose()

        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=Stream(),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


def _converters(table: Any, columns: list[str], sqlite: bool) -> list[Any]:
    """Per column, what SQLAlchemy's bind processing would turn a Python value into."""
    from sqlalchemy import JSON, Boolean

    from hub.storage.tables import UTCDateTime

    def as_json(v: Any) -> Any:
        return json.dumps(v)

    def as_sqlite_time(v: Any) -> Any:
        if v is None:
            return None
        return v.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")

    def as_pg_time(v: Any) -> Any:
        return None if v is None else v.astimezone(UTC)

    def as_int_bool(v: Any) -> Any:
        return None if v is None else int(v)

    out: list[Any] = []
    for name in columns:
        kind = table.c[name].type
        if isinstance(kind, JSON):
            out.append(as_json)
        elif isinstance(kind, UTCDateTime):
            out.append(as_sqlite_time if sqlite else as_pg_time)
        elif isinstance(kind, Boolean) and sqlite:
            out.append(as_int_bool)
        else:
            out.append(None)
    return out


def _tuples(
    table: Any, columns: list[str], dicts: list[dict[str, Any]], sqlite: bool
) -> list[tuple[Any, ...]]:
    conv = _converters(table, columns, sqlite)
    pairs = list(zip(columns, conv, strict=True))
    return [tuple(c(d[n]) if c else d[n] for n, c in pairs) for d in dicts]


async def worker_baseline(url: str, feed_url: str) -> dict[str, Any]:
    """The same rows, built once in memory, written by a bare bulk load into a fresh store."""
    import httpx
    from sqlalchemy.engine import make_url

    from connectors import ConnectorConfig, get_connector
    from hub.catalogue.model import EventType, MissionDraft, MissionStatus
    from hub.ingest.pipeline import Prepared, prepare
    from hub.settings import load_settings
    from hub.storage.db import make_engine
    from hub.storage.duplicate_candidates import written_comparable
    from hub.storage.duplicate_keys import keys_of
    from hub.storage.tables import (
        mission_causes,
        mission_dedup_keys,
        mission_events,
        mission_locations,
        mission_skills,
        missions,
    )
    from hub.storage.writer import _mission_values, ensure_partner, mission_id

    try:  # where organizations are resolved moved out of writer.py during this work
        from hub.storage.organizations import org_key as _org_key
        from hub.storage.organizations import resolve_organizations as _resolve_organizations
    except ImportError:
        from hub.storage.writer import (  # type: ignore[attr-defined,no-redef]
            _org_key,
            _resolve_organizations,
        )

    sqlite = backend_of(url) == "sqlite"
    timings: dict[str, float] = {}

    # 1. Pull and normalise (the connector alone; the floor of any sync of this feed).
    transport = _CountingTransport()
    connector = get_connector(CONNECTOR)(ConnectorConfig(url=feed_url, timeout=120.0))
    drafts: list[MissionDraft] = []
    refused = 0
    t = time.perf_counter()
    async with httpx.AsyncClient(transport=transport) as http, connector.run(http, {}) as run:
        async for outcome in run:
            if isinstance(outcome, MissionDraft):
                drafts.append(outcome)
            else:
                refused += 1
    timings["pull"] = time.perf_counter() - t

    # 2. The pipeline, once, in memory.
    t = time.perf_counter()
    prepared = [p for p in map(prepare, drafts) if isinstance(p, Prepared)]
    timings["prepare"] = time.perf_counter() - t

    # 3. Partner and organizations (4 in this catalogue) through the hub, untimed setup.
    engine = make_engine(load_settings(database_url=url, db_echo=False))
    now = BENCH_NOW
    try:
        async with engine.begin() as conn:
            partner = await ensure_partner(conn, PARTNER, now)
            orgs = await _resolve_organizations(
                conn,
                (p.draft.organization for p in prepared if p.draft.organization),
                now,
                partner.pk,
            )
    finally:
        await engine.dispose()

    # 4. The rows the hub writes for a first sync, as the driver takes them.
    t = time.perf_counter()
    mission_rows: list[dict[str, Any]] = []
    location_rows: list[dict[str, Any]] = []
    cause_rows: list[dict[str, Any]] = []
    skill_rows: list[dict[str, Any]] = []
    event_rows: list[dict[str, Any]] = []
    key_rows: list[dict[str, Any]] = []
    for pk, p in enumerate(prepared, start=1):
        org = p.draft.organization
        org_pk = orgs[_org_key(org)] if org is not None else None
        v = _mission_values(p, partner, org_pk, now)
        v.update(
            pk=pk,
            id=mission_id(partner.name, p.draft.external_id),
            partner_pk=partner.pk,
            external_id=p.draft.external_id,
            created_at=now,
            canonical_pk=None,
            missed_syncs=0,
            golden=None,  # a listing alone shows no merged mission (hub.storage.golden_rows)
        )
        mission_rows.append(v)
        for position, loc in enumerate(p.draft.locations):
            location_rows.append(
                {
                    "mission_pk": pk,
                    "position": position,
                    "street": loc.street,
                    "postal_code": loc.postal_code,
                    "city": loc.city,
                    "department_code": loc.department_code,
                    "region": loc.region,
                    "country": loc.country,
                    "latitude": loc.latitude,
                    "longitude": loc.longitude,
                    "geo_source": loc.geo_source.value,
                }
            )
        cause_rows += [{"mission_pk": pk, "cause": c} for c in p.causes]
        skill_rows += [{"mission_pk": pk, "skill": s} for s in p.skills]
        event_rows.append(
            {
                "seq": pk,
                "mission_pk": pk,
                "type": EventType.PUBLISHED.value,
                "occurred_at": now,
                "previous": None,
                "state": v["match_state"],
                "engagement_pk": None,
            }
        )
        key_rows += keys_of([(pk, written_comparable(partner, pk, p, org_pk, full=False))])
    assert all(r["status"] == MissionStatus.OPEN.value for r in mission_rows)
    plan: list[tuple[Any, list[str], list[tuple[Any, ...]]]] = []
    for table, dicts in (
        (missions, mission_rows),
        (mission_locations, location_rows),
        (mission_causes, cause_rows),
        (mission_skills, skill_rows),
        (mission_events, event_rows),
        (mission_dedup_keys, key_rows),
    ):
        if not dicts:
            continue
        columns = [c.name for c in table.columns if c.name in dicts[0]]
        generated = {c.name for c in table.columns if c.computed is not None}
        missing = {c.name for c in table.columns} - set(columns) - {"pk"} - generated
        assert not missing, (table.name, missing)
        plan.append((table, columns, _tuples(table, columns, dicts, sqlite)))
    timings["build_rows"] = time.perf_counter() - t
    del mission_rows, location_rows, cause_rows, skill_rows, event_rows, key_rows

    # 5. The bulk write, timed alone.
    u = make_url(url)
    per_table: dict[str, float] = {}
    if sqlite:
        db = sqlite3.connect(u.database or "", isolation_level=None)
        for pragma in ("foreign_keys=ON", "journal_mode=WAL", "synchronous=NORMAL"):
            db.execute(f"PRAGMA {pragma}")
        t = time.perf_counter()
        db.execute("BEGIN")
        for table, columns, rows in plan:
            marks = ", ".join("?" * len(columns))
            t1 = time.perf_counter()
            db.executemany(
                f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", rows
            )
            per_table[table.name] = time.perf_counter() - t1
        t1 = time.perf_counter()
        db.execute("COMMIT")
        per_table["COMMIT"] = time.perf_counter() - t1
        timings["write"] = time.perf_counter() - t
        db.close()
        method = "sqlite3 executemany, one transaction (FTS5 triggers fire)"
    else:
        import asyncpg

        conn = await asyncpg.connect(
            host=u.host or "127.0.0.1",
            port=u.port or 5432,
            user=u.username or "postgres",
            password=u.password,
            database=u.database,
        )
        try:
            t = time.perf_counter()
            async with conn.transaction():
                for table, columns, rows in plan:
                    t1 = time.perf_counter()
                    await conn.copy_records_to_table(table.name, records=rows, columns=columns)
                    per_table[table.name] = time.perf_counter() - t1
                for name, column in (("missions", "pk"), ("mission_events", "seq")):
                    await conn.execute(
                        f"SELECT setval(pg_get_serial_sequence('{name}', '{column}'), "
                        f"(SELECT max({column}) FROM {name}))"
                    )
            timings["write"] = time.perf_counter() - t
        finally:
            await conn.close()
        method = "asyncpg copy_records_to_table (binary COPY FROM STDIN), one transaction"
    return {
        "missions": len(prepared),
        "refused": refused + len(drafts) - len(prepared),
        "feed_bytes": transport.bytes,
        "rows": {table.name: len(rows) for table, _, rows in plan},
        "timings_s": timings,
        "write_by_table_s": per_table,
        "method": method,
        "rss_peak_mb": proc_status("VmHWM"),
    }


def worker_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench/ingest.py --worker")
    parser.add_argument("kind", choices=("sync", "baseline"))
    parser.add_argument("--url", required=True)
    parser.add_argument("--feed", default="")
    args = parser.parse_args(argv)
    if args.kind == "sync":
        result = asyncio.run(worker_sync(args.url))
    else:
        result = asyncio.run(worker_baseline(args.url, args.feed))
    print("RESULT " + json.dumps(result), flush=True)
    return 0


# --------------------------------------------------------------------------------------------
# py-spy: where the time of a sync went


def _frame_name(frame: str) -> tuple[str, str]:
    """'f (hub/storage/writer.py:412)' -> ('f', 'hub/storage/writer.py')."""
    m = re.match(r"(.*) \((.*?)(?::\d+)?\)$", frame)
    if not m:
        return frame, ""
    return m.group(1), m.group(2)


def _layer(path: str) -> str:
    p = "/" + path.replace("\\", "/").lstrip("/")
    for key, label in (
        ("/hub/pipeline", "hub pipeline (prepare)"),
        ("/hub/text", "hub pipeline (prepare)"),
        ("/hub/taxonomy", "hub pipeline (prepare)"),
        ("/hub/geo", "hub pipeline (prepare)"),
        ("/hub/hours", "hub pipeline (prepare)"),
        ("/hub/storage/writer", "hub writer"),
        ("/hub/ingest", "hub writer"),
        ("/hub/dedup", "hub writer"),
        ("/hub/sync", "hub sync runner"),
        ("/hub/storage/tables", "hub storage types"),
        ("/hub/", "hub other"),
        ("/connectors/", "connectors (parse, normalise)"),
        ("sqlalchemy/", "SQLAlchemy"),
        ("asyncpg/", "asyncpg"),
        ("aiosqlite/", "aiosqlite thread (SQLite executing statements)"),
        ("sqlite3/", "aiosqlite thread (SQLite executing statements)"),
        ("lxml", "lxml"),
        ("httpx/", "httpx / httpcore"),
        ("httpcore/", "httpx / httpcore"),
        ("h11/", "httpx / httpcore"),
        ("nh3", "nh3"),
        ("orjson", "orjson"),
        ("json/", "json (stdlib)"),
        ("asyncio/", "asyncio (event loop, waiting on the database or the feed)"),
        ("selectors", "asyncio (event loop, waiting on the database or the feed)"),
        ("threading", "threads"),
        ("concurrent/", "threads"),
        ("dataclasses", "dataclasses (replace in prepare)"),
        ("importlib", "imports"),
        ("uuid", "uuid"),
    ):
        if key in p:
            return label
    return "other"


KEY_FUNCTIONS = (
    "_sync",
    "_write",
    "apply_in",
    "prepare",
    "upsert_missions",
    "_resolve_organizations",
    "_mission_values",
    "match_state",
    "_write_children",
    "_link_duplicates",
    "_append_events",
    "_absence",
    "fetch",
    "xml_records",
    "normalise",
    "mission_outcome",
    "sanitise_html",
    "html_to_text",
    "search_text",
    "_hash",
    "execute",
    "_execute_context",
    "_exec_insertmany_context",
    "_deliver_insertmanyvalues_batches",
)


def summarise_py_spy(path: Path, top: int = 25) -> dict[str, Any]:
    """Self time by function and by layer, inclusive time of the write path's functions."""
    total = 0
    self_fn: collections.Counter[str] = collections.Counter()
    self_layer: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_s = line.rpartition(" ")
        if not stack or not count_s.isdigit():
            continue
        count = int(count_s)
        frames = [f for f in stack.split(";") if f]
        if frames and frames[0].startswith("process "):
            frames = frames[1:]
        if frames and frames[0].startswith("thread "):
            frames = frames[1:]
        if not frames:
            continue
        total += count
        name, file = _frame_name(frames[-1])
        short = file.split("site-packages/")[-1].split("/main/")[-1]
        self_fn[f"{name} ({short})"] += count
        self_layer[_layer(file)] += count
        names = set()
        for frame in frames:
            fname, ffile = _frame_name(frame)
            if fname in KEY_FUNCTIONS:
                fshort = ffile.split("site-packages/")[-1].split("/main/")[-1]
                names.add(f"{fname} ({fshort})")
        for n in names:
            inclusive[n] += count
    pct = (lambda c: 100.0 * c / total) if total else (lambda c: 0.0)
    return {
        "samples": total,
        "self_functions": [(k, c, pct(c)) for k, c in self_fn.most_common(top)],
        "self_layers": [(k, c, pct(c)) for k, c in self_layer.most_common()],
        "inclusive": [(k, c, pct(c)) for k, c in inclusive.most_common(40)],
    }


def print_py_spy(summary: dict[str, Any], title: str) -> None:
    print(f"\npy-spy, {title}: {summary['samples']} active samples at 100 Hz")
    print("  self time by layer:")
    for k, c, p in summary["self_layers"]:
        print(f"    {p:5.1f}%  {c:6d}  {k}")
    print("  self time by function (top):")
    for k, c, p in summary["self_functions"]:
        print(f"    {p:5.1f}%  {c:6d}  {k}")
    print("  inclusive (write path and parse):")
    for k, c, p in summary["inclusive"]:
        print(f"    {p:5.1f}%  {c:6d}  {k}")


# --------------------------------------------------------------------------------------------
# One size on one backend


def rate_window(samples: list[list[float]], first: bool) -> float | None:
    """missions/s over the first or the last 10% of the outcomes of a sync."""
    if len(samples) < 4:
        return None
    k = max(1, len(samples) // 10)
    n0: float
    t0: float
    if first:
        n0, t0 = 0.0, 0.0
        n1, t1 = samples[k - 1][0], samples[k - 1][1]
    else:
        n0, t0 = samples[-k - 1][0], samples[-k - 1][1]
        n1, t1 = samples[-1][0], samples[-1][1]
    return (n1 - n0) / (t1 - t0) if t1 > t0 else None


def measure_rss(url: str, size: int) -> dict[str, Any]:
    """--rss-only: one first sync of a feed of `size` missions (the memory run: a feed too long
    to hold, streamed), without the second sync and the baseline."""
    tag = f"{backend_of(url)}-{size}-rss"
    feed = Feed(size, OUT / f"ingest-feed-{tag}.log").start()
    try:
        asyncio.run(fresh_store(url))
        asyncio.run(add_feed_partner(url, feed.url))
        print(f"  {size:,} missions: first sync (all new), memory…", flush=True)
        load0 = loadavg()
        first = run_worker(["sync", "--url", url], OUT / f"ingest-sync1-{tag}.log")
        first["load"] = [load0, loadavg()]
    finally:
        feed.stop()
    return {"missions": size, "first": first}


def measure(url: str, size: int, py_spy: bool) -> dict[str, Any]:
    backend = backend_of(url)
    tag = f"{backend}-{size}"
    feed = Feed(size, OUT / f"ingest-feed-{tag}.log").start()
    result: dict[str, Any] = {"missions": size}
    try:
        asyncio.run(fresh_store(url))
        asyncio.run(add_feed_partner(url, feed.url))
        print(f"  {size:,} missions: first sync (all new)…", flush=True)
        spy = OUT / f"ingest-py-spy-{tag}.txt" if py_spy else None
        load0 = loadavg()
        first = run_worker(["sync", "--url", url], OUT / f"ingest-sync1-{tag}.log", spy)
        first["load"] = [load0, loadavg()]
        if first["status"] != "SUCCEEDED" or first["counts"].get("created") != size:
            raise SystemExit(
                f"bench: first sync of {size}: {first['status']} {first['counts']} {first['error']}"
            )
        result["first"] = first
        result["hub_rows"] = asyncio.run(row_counts(url))
        print(f"  {size:,} missions: second sync (all unchanged)…", flush=True)
        load0 = loadavg()
        second = run_worker(["sync", "--url", url], OUT / f"ingest-sync2-{tag}.log")
        second["load"] = [load0, loadavg()]
        if second["status"] != "SUCCEEDED" or second["counts"].get("unchanged") != size:
            raise SystemExit(f"bench: second sync of {size}: {second['status']} {second['counts']}")
        result["second"] = second
        print(f"  {size:,} missions: baseline (bulk write of the same rows)…", flush=True)
        asyncio.run(fresh_store(url))
        load0 = loadavg()
        base = run_worker(
            ["baseline", "--url", url, "--feed", feed.url], OUT / f"ingest-baseline-{tag}.log"
        )
        base["load"] = [load0, loadavg()]
        result["baseline"] = base
        result["baseline_rows"] = asyncio.run(row_counts(url))
        if result["baseline_rows"] != result["hub_rows"]:
            raise SystemExit(
                f"bench: the baseline wrote {result['baseline_rows']}, the hub {result['hub_rows']}"
            )
    finally:
        feed.stop()
    if spy is not None and spy.exists():
        result["py_spy"] = summarise_py_spy(spy)
        result["py_spy_file"] = str(spy.relative_to(ROOT))
    return result


def derived(r: dict[str, Any]) -> dict[str, Any]:
    first, second, base = r["first"], r["second"], r["baseline"]
    n = r["missions"]
    t = base["timings_s"]
    hub_rate = n / first["sync_s"]
    bulk_rate = n / t["write"]
    serial = t["pull"] + t["prepare"] + t["build_rows"] + t["write"]
    return {
        "hub_rate": hub_rate,
        "bulk_rate": bulk_rate,
        "ratio": hub_rate / bulk_rate,
        "serial_s": serial,
        "serial_rate": n / serial,
        "ratio_serial": hub_rate / (n / serial),
        "second_rate": n / second["sync_s"],
        "pull_rate": n / t["pull"],
        "feed_mb": base["feed_bytes"] / 1e6,
        "peak1": first["rss_peak_mb"],
        "growth1": first["rss_peak_mb"] - first["rss_start_mb"],
        "peak2": second["rss_peak_mb"],
        "growth2": second["rss_peak_mb"] - second["rss_start_mb"],
        "rate_first10": rate_window(first["samples"], True),
        "rate_last10": rate_window(first["samples"], False),
        "write_share": first["breakdown_s"].get("write batch (SyncRunner._write)", 0.0)
        / first["sync_s"],
    }


# --------------------------------------------------------------------------------------------
# Report


def verdict(results: list[dict[str, Any]]) -> tuple[bool, bool, str]:
    rates = [derived(r)["hub_rate"] for r in results]
    small, large = results[0], results[-1]
    p_small, p_large = small["first"]["rss_peak_mb"], large["first"]["rss_peak_mb"]
    growth = (p_large - p_small) / p_small if p_small else float("nan")
    rate_ok = min(rates) >= TARGET_RATE
    flat_ok = len(results) > 1 and growth <= FLAT_GROWTH
    per_10k = (
        (p_large - p_small) / ((large["missions"] - small["missions"]) / 10_000)
        if large["missions"] > small["missions"]
        else float("nan")
    )
    text = (
        f"- **≥ {TARGET_RATE:,.0f} missions/s: {'met' if rate_ok else 'not met'}** — first sync "
        f"{min(rates):,.0f}–{max(rates):,.0f} missions/s "
        f"({min(rates) / TARGET_RATE:.2f}–{max(rates) / TARGET_RATE:.2f}× the goal).\n"
        f"- **memory flat: {'met' if flat_ok else 'not met'}** — peak RSS of the sync process "
        f"{p_small:,.0f} MB at {small['missions']:,} missions, {p_large:,.0f} MB at "
        f"{large['missions']:,} ({growth * 100:+.0f}%, {per_10k:+.1f} MB per 10,000 missions; "
        f"flat means ≤ {FLAT_GROWTH * 100:.0f}% growth over the sizes)."
    )
    if len(results) < 2:
        text = text.split("\n- **memory flat")[0] + (
            f"\n- **memory flat: not judged** — one feed size only (peak RSS {p_small:,.0f} MB)."
        )
    return rate_ok, flat_ok, text


def print_table(backend: str, results: list[dict[str, Any]]) -> None:
    print(f"\n{backend}")
    head = (
        f"{'missions':>9} {'feed MB':>8} {'sync1 s':>8} {'hub/s':>7} {'bulk s':>7} {'bulk/s':>8} "
        f"{'÷bulk':>6} {'pull s':>7} {'prep s':>7} {'rows s':>7} {'÷serial':>7} {'sync2 s':>8} "
        f"{'sync2/s':>8} {'peak1':>6} {'grow1':>6} {'peak2':>6} {'load':>5}"
    )
    print(head)
    for r in results:
        d = derived(r)
        t = r["baseline"]["timings_s"]
        print(
            f"{r['missions']:>9,} {d['feed_mb']:>8.1f} {r['first']['sync_s']:>8.1f} "
            f"{d['hub_rate']:>7,.0f} {t['write']:>7.1f} {d['bulk_rate']:>8,.0f} "
            f"{d['ratio']:>6.3f} {t['pull']:>7.1f} {t['prepare']:>7.1f} {t['build_rows']:>7.1f} "
            f"{d['ratio_serial']:>7.3f} {r['second']['sync_s']:>8.1f} {d['second_rate']:>8,.0f} "
            f"{d['peak1']:>6.0f} {d['growth1']:>6.0f} {d['peak2']:>6.0f} "
            f"{r['first']['load'][1]:>5.1f}"
        )
    last = results[-1]["first"]
    for r in results:
        peak = r["first"].get("pull_process_rss_peak_mb", 0)
        print(f"  {r['missions']:,}: peak RSS of the pull's own process (first sync) {peak:.0f} MB")
    print(
        f"\n  where the first sync of {results[-1]['missions']:,} spent its wall time "
        f"({last['sync_s']:.1f} s; nested, so shares overlap):"
    )
    for k, v in sorted(last["breakdown_s"].items(), key=lambda kv: -kv[1]):
        share = 100 * v / last["sync_s"]
        print(f"    {v:8.1f} s {share:5.1f}%  {k}  ({last['calls'].get(k, 0):,} calls)")
    print(f"    statements: {last['statements']}")
    print("    statements by time (driver round trip, database included):")
    for k, v, c in last.get("statement_seconds", [])[:8]:
        print(f"      {v:7.1f} s {c:7,d}×  {k}")
    print("  " + bulk_md(results[-1]))


def breakdown_md(r: dict[str, Any]) -> str:
    first = r["first"]
    total = first["sync_s"]
    order = [
        "write batch (SyncRunner._write)",
        "pipeline.prepare",
        "writer.upsert_missions",
        "writer._mission_values",
        "writer._write_children",
        "writer._link_duplicates",
        "writer._append_events",
        "writer._resolve_organizations",
        "ingest._count_unmapped",
        "absence (SyncRunner._absence)",
    ]
    b = first["breakdown_s"]
    parts = [f"{k} {b[k]:.1f} s ({100 * b[k] / total:.0f}%)" for k in order if k in b]
    pull = (
        total
        - b.get("write batch (SyncRunner._write)", 0.0)
        - b.get("absence (SyncRunner._absence)", 0.0)
    )
    stm = first["statements"]
    return (
        f"Where the first sync of {r['missions']:,} spent its {total:.1f} s (wall time inside "
        f"wrapped hub functions; nested: `_write` contains `prepare` and `upsert_missions`, which "
        f"contains the `writer._*` ones): " + "; ".join(parts) + f"; the rest, {pull:.1f} s "
        f"({100 * pull / total:.0f}%), is the pull itself (HTTP, XML parse, `normalise`) "
        f"between batches. {stm['execute']:,} statements + {stm['executemany']:,} executemany "
        f"for {r['missions']:,} missions (batches of {first['batch_size']})."
    )


def bulk_md(r: dict[str, Any]) -> str:
    base = r["baseline"]
    parts = ", ".join(f"{k} {v:.2f} s" for k, v in base["write_by_table_s"].items())
    rows = ", ".join(f"{k} {v:,}" for k, v in base["rows"].items())
    return (
        f"Bulk write of {r['missions']:,} by table: {parts} (rows: {rows}). Feed on the wire: "
        f"{base['feed_bytes'] / 1e6:.1f} MB."
    )


def markdown_section(backend: str, url: str, command: str, results: list[dict[str, Any]]) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    base = results[-1]["baseline"]
    sizes_text = ", ".join(f"{r['missions']:,}" for r in results)
    lines = [
        f"### {backend} — {sizes_text} missions — {now}",
        "",
        f"Command: `{command}`  ",
        # The store's URL without this checkout's path: results speak of the project only.
        f"Store: `{spoken(url)}` (fresh and migrated for each size and for each baseline)  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} shared cores, Python "
        f"{platform.python_version()}; the feed server, the sync process and the database on "
        f"the same box; load average (1 min) at the end of each first sync in the last column.  ",
        "Feed: "
        + (
            "rendered to a file before the sync, the file served (`--static`)  "
            if Feed.static
            else "generated while it is sent (`--generated-feed`)  "
        ),
        f"Baseline: {base['method']}, of the rows the hub writes (missions, locations, causes, "
        "skills, change events), built beforehand from the same feed with `prepare` and the "
        "writer's `_mission_values`; row counts checked equal to the hub's.",
        "",
        "| missions | feed MB | 1st sync s | hub missions/s | bulk write s | bulk missions/s "
        "| hub ÷ bulk | pull+parse s | prepare s | build rows s | hub ÷ serial | 2nd sync s "
        "| 2nd sync missions/s | peak RSS MB 1st | growth MB 1st | peak RSS MB 2nd "
        "| rate first/last 10% | load |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for r in results:
        d = derived(r)
        t = r["baseline"]["timings_s"]
        lines.append(
            f"| {r['missions']:,} | {d['feed_mb']:.1f} | {r['first']['sync_s']:.1f} "
            f"| {d['hub_rate']:,.0f} | {t['write']:.2f} | {d['bulk_rate']:,.0f} "
            f"| {d['ratio']:.3f} | {t['pull']:.1f} | {t['prepare']:.1f} | {t['build_rows']:.1f} "
            f"| {d['ratio_serial']:.2f} | {r['second']['sync_s']:.1f} | {d['second_rate']:,.0f} "
            f"| {d['peak1']:.0f} | {d['growth1']:.0f} | {d['peak2']:.0f} "
            f"| {fmt(d['rate_first10'])} / {fmt(d['rate_last10'])} | {r['first']['load'][1]:.1f} |"
        )
    lines += [
        "",
        "hub missions/s = N ÷ the first sync's wall time inside the sync process (pull, parse, "
        "prepare, write, absence check; every mission new). bulk = the bare write alone; "
        "serial = pull+parse + prepare + build rows + bulk write done one after the other in one "
        "process (the same work without the hub's per-batch queries and SQLAlchemy). Peak RSS = "
        "VmHWM of the sync process (imports included); growth = peak − RSS just before the sync. "
        "2nd sync: the same feed again, all unchanged (nothing written).",
        "",
        breakdown_md(results[-1]),
        "",
        bulk_md(results[-1]),
        "",
        f"Against the goal (≥ {TARGET_RATE:,.0f} missions/s, memory flat in the feed's size):",
        "",
        verdict(results)[2],
    ]
    return "\n".join(lines)


INGEST_HEADER = """## Ingest (bench/ingest.py)

`bench/ingest.py` serves a simulated API Engagement XML feed of N missions from its own process
(`python -m tests.partners.serve api-engagement-xml --count N`), migrates a fresh store, adds the
partner with `hub.sync.add_partner`, and runs a full sync through `SyncRunner` in a separate
Python process (time, missions/s, peak RSS of that process alone), then a second sync of the
unchanged feed (the steady state). In the same run, the baseline writes the same rows without
the hub's per-mission work: PostgreSQL `COPY ... FROM STDIN`, SQLite `executemany` in one
transaction, into a fresh store of the same schema. Read the ratio (hub ÷ bulk) more than the
absolute rates: 2 shared cores, other engineers' jobs running too. Each run rewrites its
backend's part below (between the `bench:ingest-` markers); the notes after them are by hand.

    .venv/bin/python bench/ingest.py                                   # both backends, 10k/50k/100k
    .venv/bin/python bench/ingest.py --database-url sqlite+aiosqlite:///bench/out/ingest.db
    .venv/bin/python bench/ingest.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/benchingest
    .venv/bin/python bench/ingest.py --sizes 20000 --py-spy --no-results-md   # profile a first sync

Goal: ≥ 5,000 missions/s with memory flat in the feed's size.
"""


def update_results_md(backend: str, section: str) -> None:
    start, end = f"<!-- bench:ingest-{backend}:start -->", f"<!-- bench:ingest-{backend}:end -->"
    text = RESULTS_MD.read_text(encoding="utf-8") if RESULTS_MD.exists() else ""
    block = f"{start}\n{section}\n{end}"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        _, after = rest.split(end, 1)
        text = before + block + after
    else:
        if "## Ingest (bench/ingest.py)" not in text:
            text = text.rstrip("\n") + "\n\n" + INGEST_HEADER
        # After the header and any other backend's block of this section.
        head_at = text.index("## Ingest (bench/ingest.py)")
        others = [m.end() for m in re.finditer(r"<!-- bench:ingest-\w+:end -->", text)]
        anchor = max([o for o in others if o > head_at], default=None)
        if anchor is None:
            nxt = re.search(r"\n## |\n<!-- bench:(?!ingest)", text[head_at + 3 :])
            anchor = head_at + 3 + nxt.start() if nxt else len(text)
        text = text[:anchor].rstrip("\n") + "\n\n" + block + "\n" + text[anchor:]
    RESULTS_MD.write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        return worker_main(argv[1:])
    os.environ.setdefault("BENCH_T0", str(time.time()))  # the workers' BENCH_NOW (bench_clock)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--missions", type=int, default=100_000, help="largest feed")
    parser.add_argument(
        "--sizes", default=None, help="comma-separated feed sizes (default 10000,50000,MISSIONS)"
    )
    parser.add_argument("--database-url", action="append", default=None)
    parser.add_argument("--py-spy", action="store_true", help="profile each first sync")
    parser.add_argument("--no-results-md", action="store_true")
    parser.add_argument(
        "--generated-feed",
        action="store_true",
        help="the feed generated while it is sent (the partner's CPU on the same cores)",
    )
    parser.add_argument(
        "--rss-only",
        action="store_true",
        help="one first sync per size, its time and peak RSS only (no 2nd sync, no baseline)",
    )
    args = parser.parse_args(argv)
    Feed.static = not args.generated_feed
    if args.sizes:
        sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    else:
        sizes = sorted({s for s in (10_000, 50_000) if s < args.missions} | {args.missions})
    urls = [absolute_sqlite(u) for u in (args.database_url or [DEFAULT_SQLITE_URL, DEFAULT_PG_URL])]
    for url in urls:
        check_loopback(url)
    OUT.mkdir(parents=True, exist_ok=True)
    command = spoken(" ".join(["python bench/ingest.py", *argv]))
    if args.rss_only:
        for url in urls:
            for n in sizes:
                r = measure_rss(url, n)
                first = r["first"]
                name = f"ingest-{backend_of(url)}-{n}-rss.json"
                (OUT / name).write_text(json.dumps(r, indent=1), encoding="utf-8")
                print(
                    f"{backend_of(url)} {n:,}: {first['status']} {first['counts']} in "
                    f"{first['sync_s']:.0f} s ({n / first['sync_s']:,.0f} missions/s), peak RSS "
                    f"{first['rss_peak_mb']:.0f} MB (start {first['rss_start_mb']:.0f} MB; "
                    f"the pull's process {first.get('pull_process_rss_peak_mb', 0):.0f} MB; "
                    f"both {first.get('rss_peak_sum_mb', 0):.0f} MB), load {first['load']}",
                    flush=True,
                )
        return 0
    for url in urls:
        backend = backend_of(url)
        print(f"{backend}: {url}, sizes {sizes}", flush=True)
        started = time.perf_counter()
        results = [measure(url, n, args.py_spy) for n in sizes]
        name = (
            f"ingest-{backend}-{'-'.join(str(n) for n in sizes)}{'-py-spy' if args.py_spy else ''}"
        )
        (OUT / f"{name}.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
        print_table(backend, results)
        for r in results:
            if "py_spy" in r:
                print_py_spy(r["py_spy"], f"{backend}, first sync of {r['missions']:,}")
        print()
        print(verdict(results)[2])
        print(f"({backend}: {time.perf_counter() - started:.0f} s in all)")
        if not args.no_results_md and not args.py_spy:
            update_results_md(backend, markdown_section(backend, url, command, results))
            print(f"updated {RESULTS_MD.relative_to(ROOT)} (ingest-{backend})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
