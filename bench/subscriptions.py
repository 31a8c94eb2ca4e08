#!/usr/bin/env python
"""Subscription fan-out benchmark: the hub's live feed against a plain Node graphql-ws server.

    python bench/subscriptions.py [--subscribers 500,2000] [--events 500:200,2000:100]
                                  [--batch 10] [--steady-deliveries 2000] [--brokers memory,redis]
                                  [--database-url URL] [--no-node] [--py-spy] [--no-results-md]

What it does, in one run, for each N in --subscribers and each server (hub with the in-process
broker, hub with the Redis broker, then the Node baseline):

1. Starts the server as a real process: `entraide-hub serve` on a fresh SQLite file (or a fresh
   PostgreSQL database `benchsubs` with --database-url), after `migrate`, `partners add benchpush
   --push-only` and two `clients create` (a partner client that pushes, a company client whose one
   token all subscribers share; HUB_MAX_CONNECTIONS_PER_CLIENT is raised to N); or
   `node bench/node/server.mjs` (graphql-ws + ws, same subscription shape, POST /publish).
2. Starts the load clients, `node bench/node/client.mjs`, in their own process: N WebSockets
   speaking graphql-transport-ws, token in connection_init, all with the same document and
   variables (`missionEvents(filter: {remote: [FULL]})`).
3. Warm-up: pushes `warm-k` missions until every subscriber has received one (so every
   subscription is live before anything is measured).
4. Burst phase: pushes M missions through the real mutation (`upsertMissions`, batches of
   --batch, one request after the other, as fast as the server answers); Node: POST /publish with
   the same batches. Delivered events/s = distinct (subscriber, event) receipts ÷ (last receipt −
   first request sent).
5. Steady phase: pushes missions at a fixed rate (--steady-deliveries ÷ N events/s, in batches),
   for p50/p99 latency at a load both servers should sustain.
6. Per phase: latency = receipt time in the client process − the pusher's clock just after the
   mutation's HTTP response (the transaction has committed by then; an event can arrive before the
   response, hence small negative minima); also from just before the request was sent (an upper
   bound that includes the mutation itself). Lost = expected − distinct received, duplicated =
   receipts of an event a subscriber already had. CPU seconds of the server and of the clients
   (from /proc) over the phase.

Prints a table, saves bench/out/subscriptions.json and rewrites the subscriptions section of
bench/RESULTS.md (the other sections are kept). Loopback only; every wait has a timeout; the
processes it starts are stopped by their own pid (process group) at the end and on errors.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import platform
import queue
import re
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
NODE_DIR = ROOT / "bench" / "node"
RESULTS_MD = ROOT / "bench" / "RESULTS.md"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/benchsubs"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/6"  # not db 0: other jobs and CI share the server

GOAL_RATIO = 2.0  # hub delivered events/s ÷ Node's, at 500 and 2,000 subscribers
GOAL_P99_MS = 50.0
GOAL_WRITER_MS = 100.0  # another writer's upsertMissions round trip during a burst
GOAL_SUBSCRIBERS = (500, 2000)
PARTNER = "benchpush"

SUBSCRIBE = (
    "subscription Feed($filter: MissionFilterInput) { missionEvents(filter: $filter) "
    "{ cursor type occurredAt mission { externalId title } } }"
)
VARIABLES = {"filter": {"remote": ["FULL"]}}
UPSERT = (
    "mutation Push($missions: [MissionInput!]!) { upsertMissions(missions: $missions) "
    "{ counts { created updated unchanged refused } } }"
)
CLK_TCK = os.sysconf("SC_CLK_TCK")
HEADING = "## Subscriptions (bench/subscriptions.py)"


def console() -> Any:
    from rich.console import Console

    return Console(highlight=False, width=None if sys.stdout.isatty() else 160)


def cpu_seconds(pid: int | None) -> float:
    """utime + stime of a process (its threads included), from /proc; NaN when gone."""
    if not pid:
        return math.nan
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mb(pid: int | None) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return math.nan


def port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def stop_group(proc: subprocess.Popen[Any] | None, timeout: float = 15) -> None:
    """TERM then KILL the process group we started (start_new_session=True), by its pid."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def raise_nofile(wanted: int) -> str:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return f"{soft}/{hard}"


# --------------------------------------------------------------------------------------------
# Servers


class Server:
    label = ""
    proc: subprocess.Popen[bytes] | None = None
    port = 0

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def wait_healthy(self, log: Path, timeout_s: float = 60) -> None:
        import httpx

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise SystemExit(f"bench: {self.label} exited at start-up; see {log}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise SystemExit(f"bench: {self.label} did not answer /healthz in {timeout_s:.0f} s")

    def stop(self) -> None:
        stop_group(self.proc)


class HubServer(Server):
    """`entraide-hub serve` (one uvicorn process) on a fresh store, with its two clients."""

    def __init__(
        self,
        broker: str,
        database_url: str | None,
        port: int,
        n: int,
        gc_threshold: str = "",
        redis_url: str = DEFAULT_REDIS_URL,
    ) -> None:
        self.broker = broker
        self.redis_url = redis_url
        self.gc_threshold = gc_threshold
        self.label = f"hub ({broker}{', gc ' + gc_threshold if gc_threshold else ''})"
        self.port = port
        self.n = n
        self.database_url = database_url
        self.exe = str(ROOT / ".venv" / "bin" / "entraide-hub")
        if not Path(self.exe).exists():
            self.exe = shutil.which("entraide-hub") or "entraide-hub"
        self.env: dict[str, str] = {}
        self.subscriber_token = ""
        self.partner_token = ""
        self.log = OUT / f"subs-hub-{broker}-{n}.log"

    def _cli(self, *args: str) -> str:
        r = subprocess.run(
            [self.exe, *args], env=self.env, cwd=OUT, capture_output=True, text=True, timeout=120
        )
        if r.returncode != 0:
            raise SystemExit(f"bench: entraide-hub {' '.join(args)} failed: {r.stderr[-800:]}")
        return r.stdout

    def _fresh_store(self) -> str:
        if self.database_url is None:
            path = OUT / "subs.db"
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            return f"sqlite+aiosqlite:///{path}"
        import asyncio

        import asyncpg
        from sqlalchemy.engine import make_url

        u = make_url(self.database_url)
        if (u.host or "127.0.0.1") not in LOOPBACK:
            raise SystemExit(f"bench: only loopback databases, got {u.host!r}")
        name = u.database or "benchsubs"
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or name == "postgres":
            raise SystemExit(f"bench: unexpected database name {name!r}")

        async def recreate() -> None:
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

        asyncio.run(recreate())
        return self.database_url

    def start(self) -> None:
        import httpx

        if not port_free(self.port):
            raise SystemExit(f"bench: port {self.port} is taken; pass --port")
        url = self._fresh_store()
        self.env = dict(os.environ)
        self.env.update(
            HUB_DATABASE_URL=url,
            HUB_BROKER_URL="memory://" if self.broker == "memory" else self.redis_url,
            HUB_HOST="127.0.0.1",
            HUB_PORT=str(self.port),
            HUB_LOG_LEVEL="warning",
            HUB_DB_ECHO="false",
            HUB_TOKEN_TTL_SECONDS="7200",
            HUB_RATE_LIMIT_PER_MINUTE="0",
            HUB_MAX_CONNECTIONS_PER_CLIENT=str(self.n + 100),
            HUB_SCHEDULER="false",
        )
        self._cli("migrate")
        self._cli("partners", "add", PARTNER, "--push-only")
        partner = json.loads(
            self._cli(
                "clients",
                "create",
                "--kind",
                "partner",
                "--name",
                "bench push",
                "--partner",
                PARTNER,
                "--json",
            )
        )
        company = json.loads(
            self._cli("clients", "create", "--kind", "company", "--name", "bench subs", "--json")
        )
        log = self.log.open("wb")
        serve = [self.exe, "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        if self.gc_threshold:  # an experiment on the interpreter, not on the hub's code
            serve = [
                str(ROOT / ".venv" / "bin" / "python"),
                "-c",
                "import gc, sys; gc.set_threshold(*map(int, sys.argv[1].split(','))); "
                "from hub.cli import main; sys.exit(main(sys.argv[2:]))",
                self.gc_threshold,
                *serve[1:],
            ]
        self.proc = subprocess.Popen(
            serve,
            env=self.env,
            cwd=OUT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.wait_healthy(self.log)

        def token(made: dict[str, str], scope: str) -> str:
            r = httpx.post(
                f"http://127.0.0.1:{self.port}/oauth/token",
                data={"grant_type": "client_credentials", "scope": scope},
                auth=(made["client_id"], made["client_secret"]),
                timeout=30,
            )
            if r.status_code != 200:
                raise SystemExit(f"bench: no token: {r.status_code} {r.text[:300]}")
            return str(r.json()["access_token"])

        self.partner_token = token(partner, "missions:write")
        self.subscriber_token = token(company, "missions:read")

    def pusher(self) -> Pusher:
        return Pusher(
            f"http://127.0.0.1:{self.port}/graphql",
            {"Authorization": f"Bearer {self.partner_token}"},
            graphql=True,
        )


class NodeServer(Server):
    def __init__(self, port: int, n: int) -> None:
        self.label = "Node graphql-ws"
        self.port = port
        self.subscriber_token = "baseline"  # presence only: the baseline verifies nothing
        self.log = OUT / f"subs-node-{n}.log"

    def start(self) -> None:
        if not port_free(self.port):
            raise SystemExit(f"bench: port {self.port} is taken; pass --node-port")
        log = self.log.open("wb")
        self.proc = subprocess.Popen(
            ["node", str(NODE_DIR / "server.mjs"), "--port", str(self.port)],
            cwd=NODE_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.wait_healthy(self.log)

    def pusher(self) -> Pusher:
        return Pusher(f"http://127.0.0.1:{self.port}/publish", {}, graphql=False)


# --------------------------------------------------------------------------------------------
# Pushing events


def mission(external_id: str, title: str, remote: str = "FULL") -> dict[str, Any]:
    return {
        "externalId": external_id,
        "title": title,
        "applicationUrl": f"https://partner.example/{external_id}",
        "remote": remote,
        "causes": ["numerique"],
    }


class Pusher:
    """One keep-alive HTTP connection, one batch a request; times every request."""

    def __init__(self, url: str, headers: dict[str, str], graphql: bool) -> None:
        import httpx

        self.url = url
        self.graphql = graphql
        # Idle connections are dropped before a server's keep-alive timeout would (Node's is
        # 5 s): a request on a connection the server just closed fails with a reset.
        self.http = httpx.Client(
            headers=headers, timeout=60, limits=httpx.Limits(keepalive_expiry=2.0)
        )
        self.request_ms: list[float] = []

    def clone(self) -> Pusher:
        """Another writer on its own connection, with the same credentials."""
        return Pusher(self.url, dict(self.http.headers), self.graphql)

    def push(self, items: list[dict[str, Any]]) -> tuple[float, float]:
        """Epoch ms before the request and just after the response."""
        if self.graphql:
            body: dict[str, Any] = {"query": UPSERT, "variables": {"missions": items}}
        else:
            body = {"missions": items}
        sent = time.time() * 1000
        r = self.http.post(self.url, json=body)
        done = time.time() * 1000
        self.request_ms.append(done - sent)
        if r.status_code != 200:
            raise SystemExit(f"bench: push answered {r.status_code}: {r.text[:300]}")
        data = r.json()
        if self.graphql:
            if data.get("errors"):
                raise SystemExit(f"bench: push failed: {data['errors']}")
            counts = data["data"]["upsertMissions"]["counts"]
            if counts["created"] != len(items):
                raise SystemExit(f"bench: push created {counts} for {len(items)} items")
        return sent, done

    def close(self) -> None:
        self.http.close()


class Writer:
    """Another partner writing while a burst is delivered: one `upsertMissions` of one mission
    every `every_s` on its own connection, each round trip timed. Its missions are not FULL
    remote, so no subscriber receives them (the hub still logs, reads and judges them)."""

    def __init__(self, pusher: Pusher, tag: str, every_s: float = 0.05) -> None:
        self.pusher = pusher.clone()
        self.tag = tag
        self.every_s = every_s
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        k = 0
        while not self.stop.is_set():
            self.pusher.push([mission(f"{self.tag}-w{k}", f"writer {k}", remote="NONE")])
            k += 1
            self.stop.wait(self.every_s)

    def __enter__(self) -> Writer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=120)
        self.pusher.close()

    @property
    def round_trips_ms(self) -> list[float]:
        return list(self.pusher.request_ms)


# --------------------------------------------------------------------------------------------
# The load clients (a Node process)


class Clients:
    def __init__(self, ws_url: str, n: int, token: str) -> None:
        self.n = n
        cfg = {
            "url": ws_url,
            "n": n,
            "token": token,
            "query": SUBSCRIBE,
            "variables": VARIABLES,
            "connectConcurrency": 50,
        }
        self.proc = subprocess.Popen(
            ["node", str(NODE_DIR / "client.mjs"), json.dumps(cfg)],
            cwd=NODE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        self.progress: dict[str, Any] = {}
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with contextlib.suppress(json.JSONDecodeError):
                msg = json.loads(line)
                if "progress" in msg:
                    self.progress = msg["progress"]
                else:
                    self.messages.put(msg)

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line.rstrip())

    def send(self, obj: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(obj) + "\n")
        self.proc.stdin.flush()

    def expect(self, key: str, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"bench: the clients exited: {' | '.join(self.stderr[-5:])}")
            try:
                msg = self.messages.get(timeout=0.2)
            except queue.Empty:
                continue
            if key in msg:
                return msg[key]  # type: ignore[no-any-return]
        raise SystemExit(f"bench: no {key!r} from the clients within {timeout:.0f} s")

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.send({"cmd": "quit"})
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        stop_group(self.proc)


# --------------------------------------------------------------------------------------------
# One measurement


@dataclasses.dataclass
class Phase:
    server: str
    broker: str
    n: int
    kind: str  # burst | steady
    m: int
    batch: int
    target_rate: float  # events/s offered (0 = as fast as the server answers)
    push_rate: float = 0.0  # events/s actually pushed
    push_ms_p50: float = math.nan  # mutation / publish round trip
    push_ms_p99: float = math.nan
    writer_n: int = 0  # another writer's single-mission mutations during the phase
    writer_ms_p50: float = math.nan
    writer_ms_p99: float = math.nan
    writer_ms_max: float = math.nan
    writer_ms: list[float] = dataclasses.field(default_factory=list)  # each round trip, in order
    writer_idle_ms_p50: float = math.nan  # the same writer alone, just before the phase
    writer_idle_ms_p99: float = math.nan
    expected: int = 0
    received: int = 0
    lost: int = 0
    lost_subscribers: int = 0
    duplicated: int = 0
    delivered_per_s: float = 0.0
    p50_ms: float = math.nan
    p99_ms: float = math.nan
    max_ms: float = math.nan
    min_ms: float = math.nan
    p99_from_sent_ms: float = math.nan
    drain_s: float = 0.0  # from the last push's response to the last receipt
    server_cpu_s: float = math.nan
    client_cpu_s: float = math.nan
    wall_s: float = 0.0
    server_rss_mb: float = math.nan
    closes: dict[str, int] = dataclasses.field(default_factory=dict)
    per_event: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # receipts, in ms
    load_avg: float = math.nan
    timed_out: bool = False
    connect_s: float = math.nan


def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    s = sorted(values)
    return s[min(len(s), max(1, math.ceil(q / 100 * len(s)))) - 1]


def warm_up(clients: Clients, pusher: Pusher, n: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    k = 0
    while time.monotonic() < deadline:
        if clients.progress.get("warm", 0) >= n:
            return
        pusher.push([mission(f"warm-{k}", f"warm-up {k}")])
        k += 1
        wait_until = time.monotonic() + 1.0
        while time.monotonic() < wait_until and clients.progress.get("warm", 0) < n:
            time.sleep(0.05)
    got = clients.progress.get("warm", 0)
    raise SystemExit(f"bench: only {got} of {n} subscribers got a warm-up event in {timeout_s} s")


def run_phase(
    con: Any,
    server: Server,
    clients: Clients,
    pusher: Pusher,
    phase: Phase,
    tag: str,
    timeout_s: float,
    stall_s: float,
) -> Phase:
    m = phase.m
    clients.send({"cmd": "phase", "tag": tag, "m": m})
    clients.expect("phase", 10)
    sent = [0.0] * m
    commit = [0.0] * m
    if phase.kind == "burst":  # the writer's round trip with nothing else going on
        with Writer(pusher, f"{tag}i") as idle:
            time.sleep(1.5)
        phase.writer_idle_ms_p50 = percentile(idle.round_trips_ms, 50)
        phase.writer_idle_ms_p99 = percentile(idle.round_trips_ms, 99)
    cpu0 = (cpu_seconds(server.pid), cpu_seconds(clients.pid))
    t0 = time.monotonic()
    pusher.request_ms = []
    writer = Writer(pusher, tag) if phase.kind == "burst" else None
    with writer or contextlib.nullcontext():
        _push_and_wait(con, clients, pusher, phase, tag, timeout_s, stall_s, t0, sent, commit)
    if writer is not None:
        times = writer.round_trips_ms
        phase.writer_n = len(times)
        phase.writer_ms_p50 = percentile(times, 50)
        phase.writer_ms_p99 = percentile(times, 99)
        phase.writer_ms_max = max(times, default=math.nan)
        phase.writer_ms = [round(t, 1) for t in times]
    time.sleep(0.5)  # late duplicates, if any
    phase.wall_s = time.monotonic() - t0
    phase.server_cpu_s = cpu_seconds(server.pid) - cpu0[0]
    phase.server_rss_mb = rss_mb(server.pid)
    clients.send({"cmd": "report", "commit": commit, "sent": sent})
    rep = clients.expect("report", 60)
    phase.client_cpu_s = cpu_seconds(clients.pid) - cpu0[1]
    phase.expected = rep["expected"]
    phase.received = rep["received"]
    phase.lost = rep["lost"]
    phase.lost_subscribers = rep["lost_subscribers"]
    phase.duplicated = rep["duplicated"]
    phase.per_event = rep.get("per_event") or []
    span_s = (rep["last_receipt"] - rep["first_sent"]) / 1000 if rep["received"] else math.nan
    phase.delivered_per_s = rep["received"] / span_s if span_s and span_s > 0 else 0.0
    phase.drain_s = (rep["last_receipt"] - max(commit)) / 1000 if rep["received"] else math.nan
    for key in ("p50_ms", "p99_ms", "max_ms", "min_ms", "p99_from_sent_ms"):
        value = rep.get(key)
        setattr(phase, key, math.nan if value is None else float(value))
    phase.closes = {str(k): int(v) for k, v in (rep.get("closes") or {}).items()}
    phase.load_avg = os.getloadavg()[0]
    return phase


def _push_and_wait(
    con: Any,
    clients: Clients,
    pusher: Pusher,
    phase: Phase,
    tag: str,
    timeout_s: float,
    stall_s: float,
    t0: float,
    sent: list[float],
    commit: list[float],
) -> None:
    """Push the phase's events, then wait until every subscriber has them (or a stall)."""
    n, m, b = phase.n, phase.m, phase.batch
    interval = b / phase.target_rate if phase.target_rate else 0.0
    for start in range(0, m, b):
        if interval:
            due = t0 + (start // b) * interval
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        if time.monotonic() - t0 > timeout_s:
            raise SystemExit(f"bench: pushing {tag} took longer than {timeout_s} s")
        ids = range(start, min(m, start + b))
        items = [mission(f"{tag}-{i}", f"{tag} {i} sent {time.time():.6f}") for i in ids]
        s, d = pusher.push(items)
        for i in ids:
            sent[i], commit[i] = s, d
    pushed_s = time.monotonic() - t0
    phase.push_rate = m / pushed_s if pushed_s else math.inf
    phase.push_ms_p50 = percentile(pusher.request_ms, 50)
    phase.push_ms_p99 = percentile(pusher.request_ms, 99)
    expected = n * m
    last_count, last_change = -1, time.monotonic()
    while True:
        got = clients.progress.get("received", 0)
        now = time.monotonic()
        if got >= expected:
            break
        if got != last_count:
            last_count, last_change = got, now
        if now - last_change > stall_s or now - t0 > timeout_s:
            phase.timed_out = True
            con.print(f"  [yellow]{tag}: stopped waiting at {got:,} of {expected:,}[/]")
            break
        time.sleep(0.05)


def measure_server(
    con: Any,
    server: Server,
    n: int,
    args: argparse.Namespace,
    run_id: str,
) -> list[Phase]:
    broker = getattr(server, "broker", "—")
    phases: list[Phase] = []
    clients: Clients | None = None
    pusher: Pusher | None = None
    spy: subprocess.Popen[bytes] | None = None
    try:
        server.start()
        con.print(f"[bold]{server.label}[/], N={n}: up, pid {server.pid}")
        pusher = server.pusher()
        t = time.monotonic()
        clients = Clients(server.ws_url, n, server.subscriber_token)
        connected = clients.expect("connected", args.connect_timeout)
        connect_s = time.monotonic() - t
        if connected["acked"] < n:
            raise SystemExit(
                f"bench: {server.label}: only {connected['acked']} of {n} sockets acknowledged "
                f"(closes {connected['closes']}, errors {connected['errors']})"
            )
        warm_up(clients, pusher, n, args.connect_timeout)
        con.print(f"  {n} subscribers connected and live in {time.monotonic() - t:.1f} s")
        plans = [
            Phase(server.label, broker, n, "burst", args.events, args.batch, 0.0),
        ]
        steady_rate = args.steady_deliveries / n
        steady_m = max(args.batch, min(args.events, int(steady_rate * args.steady_seconds)))
        steady_batch = max(1, min(args.batch, int(steady_rate / 5) or 1))  # ≥ 5 pushes a second
        plans.append(Phase(server.label, broker, n, "steady", steady_m, steady_batch, steady_rate))
        for k, plan in enumerate(plans):
            tag = f"{run_id}{plan.kind[0]}{k}"
            if args.py_spy and isinstance(server, HubServer) and plan.kind == args.py_spy_phase:
                spy = start_py_spy(server, n, args)
            phase = run_phase(con, server, clients, pusher, plan, tag, args.phase_timeout, 15)
            phase.connect_s = connect_s
            if spy is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    spy.wait(timeout=60)
                spy = None
            phases.append(phase)
            con.print(
                f"  {plan.kind}: {phase.m} events × {n}: delivered {phase.delivered_per_s:,.0f}/s, "
                f"p50 {phase.p50_ms:,.1f} ms, p99 {phase.p99_ms:,.1f} ms, lost {phase.lost:,}, "
                f"dup {phase.duplicated:,}, push {phase.push_rate:,.0f} ev/s "
                f"(req p50 {phase.push_ms_p50:.1f} ms), CPU server {phase.server_cpu_s:.1f} s / "
                f"clients {phase.client_cpu_s:.1f} s over {phase.wall_s:.1f} s"
            )
            if server.proc is not None and server.proc.poll() is not None:
                raise SystemExit(f"bench: {server.label} died; see {server.log}")
    finally:
        if spy is not None:
            stop_group(spy)
        if clients is not None:
            clients.stop()
        if pusher is not None:
            pusher.close()
        server.stop()
    return phases


def start_py_spy(server: Server, n: int, args: argparse.Namespace) -> subprocess.Popen[bytes]:
    exe = ROOT / ".venv" / "bin" / "py-spy"
    out = OUT / f"subs-pyspy-{getattr(server, 'broker', 'x')}-{n}.txt"
    return subprocess.Popen(
        [
            str(exe),
            "record",
            "-p",
            str(server.pid),
            "-d",
            str(args.py_spy_seconds),
            "-r",
            "100",
            "-f",
            "raw",
            "-o",
            str(out),
            *(["--native"] if args.py_spy_native else ["--nonblocking"]),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


# --------------------------------------------------------------------------------------------
# Report


def fmt(value: float, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:,.{digits}f}"


def node_of(phases: list[Phase], n: int, kind: str) -> Phase | None:
    return next(
        (p for p in phases if p.server.startswith("Node") and p.n == n and p.kind == kind), None
    )


def ratio(p: Phase, phases: list[Phase]) -> float:
    base = node_of(phases, p.n, p.kind)
    if base is None or not base.delivered_per_s:
        return math.nan
    return p.delivered_per_s / base.delivered_per_s


HEADERS = [
    "N",
    "server",
    "phase",
    "events",
    "offered ev/s",
    "pushed ev/s",
    "push req p50 ms",
    "writer idle p50 / p99 ms",
    "writer rt p50 ms",
    "writer rt p99 ms",
    "delivered/s",
    "÷ Node",
    "p50 ms",
    "p99 ms",
    "max ms",
    "p99 from send ms",
    "lost",
    "dup",
    "closed",
    "drain s",
    "server CPU s",
    "server µs/delivery",
    "client CPU s",
    "wall s",
    "server RSS MB",
    "load avg",
]


def row(p: Phase, phases: list[Phase]) -> list[str]:
    closed = ", ".join(f"{k}×{v}" for k, v in p.closes.items()) or "0"
    return [
        f"{p.n:,}",
        p.server,
        p.kind,
        f"{p.m:,}",
        "max" if not p.target_rate else fmt(p.target_rate, 1),
        fmt(p.push_rate, 0),
        fmt(p.push_ms_p50, 1),
        f"{fmt(p.writer_idle_ms_p50, 1)} / {fmt(p.writer_idle_ms_p99, 1)}" if p.writer_n else "—",
        fmt(p.writer_ms_p50, 1) + (f" (n={p.writer_n})" if p.writer_n else ""),
        fmt(p.writer_ms_p99, 1),
        fmt(p.delivered_per_s, 0),
        fmt(ratio(p, phases), 2),
        fmt(p.p50_ms, 1),
        fmt(p.p99_ms, 1),
        fmt(p.max_ms, 1),
        fmt(p.p99_from_sent_ms, 1),
        f"{p.lost:,}" + (f" ({p.lost_subscribers} subs)" if p.lost else ""),
        f"{p.duplicated:,}",
        closed,
        fmt(p.drain_s, 2),
        fmt(p.server_cpu_s, 1),
        fmt(1e6 * p.server_cpu_s / p.received if p.received else math.nan, 0),
        fmt(p.client_cpu_s, 1),
        fmt(p.wall_s, 1),
        fmt(p.server_rss_mb, 0),
        fmt(p.load_avg, 1),
    ]


def print_table(phases: list[Phase]) -> None:
    from rich.table import Table

    table = Table(title="Subscription fan-out (hub vs Node graphql-ws, same clients, same run)")
    for h in HEADERS:
        table.add_column(h, justify="left" if h in ("server", "phase") else "right")
    for p in phases:
        table.add_row(*row(p, phases))
    console().print(table)


def verdict(phases: list[Phase]) -> list[str]:
    lines = []
    for p in phases:
        if p.server.startswith("Node") or p.n not in GOAL_SUBSCRIBERS or p.kind != "burst":
            continue
        steady = next(
            (q for q in phases if q.server == p.server and q.n == p.n and q.kind == "steady"), None
        )
        r = ratio(p, phases)
        lost = p.lost + (steady.lost if steady else 0)
        p99 = steady.p99_ms if steady else math.nan
        checks = [
            (f"delivered/s ÷ Node {fmt(r, 2)} (goal ≥ {GOAL_RATIO:.0f})", r >= GOAL_RATIO),
            (
                f"p99 {fmt(p99, 1)} ms at the steady rate (goal ≤ {GOAL_P99_MS:.0f})",
                p99 <= GOAL_P99_MS,
            ),
            (f"lost {lost:,} (goal 0)", lost == 0),
            (
                f"a writer's upsertMissions during the burst p50 {fmt(p.writer_ms_p50, 1)} / "
                f"p99 {fmt(p.writer_ms_p99, 1)} ms (goal p99 < {GOAL_WRITER_MS:.0f})",
                p.writer_ms_p99 < GOAL_WRITER_MS,
            ),
        ]
        met = all(ok for _, ok in checks)
        lines.append(
            f"- **{p.server}, {p.n:,} subscribers: {'met' if met else 'not met'}** — "
            + "; ".join(f"{text} {'✔' if ok else '✘'}" for text, ok in checks)
        )
    return lines


def markdown_section(
    phases: list[Phase], command: str, args: argparse.Namespace, nofile: str, db: str
) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    node_v = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    lines = [
        f"### {when} — store: {db}",
        "",
        f"Command: `{command}`  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} shared cores, Python "
        f"{platform.python_version()}, Node {node_v}; hub (one uvicorn process), the Node "
        f"baseline, the load clients (one Node process), the pusher (this script), Redis and the "
        f"store on the same box; other engineers' jobs were running too (load-average column). "
        f"Open-files limit for the run {nofile}.  ",
        "Subscribers: N WebSockets in one Node process (`bench/node/client.mjs`, raw `ws`, "
        "graphql-transport-ws), one company token for all, the same document and variables: "
        f"`{SUBSCRIBE}` with `{json.dumps(VARIABLES)}`.  ",
        "Events: new missions pushed through `upsertMissions` by a partner client (one request a "
        "batch, one keep-alive connection); baseline: the same batches to POST /publish of "
        "`bench/node/server.mjs` (graphql-ws 5 + ws 8, per-subscriber execution, no store, no "
        "token check).  ",
        "**burst**: M events, batch after batch as fast as the server answers; delivered/s = "
        "distinct (subscriber, event) receipts ÷ (last receipt − first request sent). "
        f"**steady**: {args.steady_deliveries:,} deliveries/s offered (events/s = that ÷ N), for "
        "latency under a load both should carry.  ",
        "Latency = receipt (client process clock, when the frame's message event fires) − the "
        "pusher's clock just after the mutation's response (the transaction committed before "
        "it; delivery can precede the response, so small negatives occur); `p99 from send` "
        "counts from just before the request (includes the mutation itself). Lost = expected − "
        "distinct received per subscriber; dup = receipts of an event already received.",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "|".join("---" if h in ("server", "phase") else "---:" for h in HEADERS) + "|",
    ]
    lines += ["| " + " | ".join(row(p, phases)) + " |" for p in phases]
    lines += [
        "",
        f"Against the goal (≥ {GOAL_RATIO:.0f}× the Node baseline's delivered events/s at 500 "
        f"and 2,000 subscribers, p99 ≤ {GOAL_P99_MS:.0f} ms at the steady rate, 0 lost, "
        f"another writer's upsertMissions round trip during the burst < "
        f"{GOAL_WRITER_MS:.0f} ms at p99):",
        "",
        *(verdict(phases) or ["- no 500- or 2,000-subscriber run in this measurement"]),
        "",
    ]
    return "\n".join(lines)


def update_results_md(section: str) -> None:
    """Add this run's section at the top of the subscriptions block; earlier runs stay below."""
    start, end = "<!-- bench:subscriptions:start -->", "<!-- bench:subscriptions:end -->"
    text = RESULTS_MD.read_text(encoding="utf-8") if RESULTS_MD.exists() else ""
    if start in text and end in text:
        head, rest = text.split(start, 1)
        block, tail = rest.split(end, 1)
        earlier = block.strip("\n").removeprefix(HEADING).strip("\n")
        text = f"{head}{start}\n{HEADING}\n\n{section}\n{earlier}\n{end}{tail}"
    else:
        text = text.rstrip("\n") + f"\n\n{start}\n{HEADING}\n\n{section}{end}\n"
    RESULTS_MD.write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", default="500,2000", help="comma-separated N values")
    parser.add_argument(
        "--events",
        default="500:200,2000:100",
        help="M events in the burst phase: one number, or N:M pairs (500:200,2000:100)",
    )
    parser.add_argument("--batch", type=int, default=10, help="events per mutation")
    parser.add_argument(
        "--steady-deliveries",
        type=float,
        default=2000,
        help="deliveries/s offered in the steady phase (events/s = this ÷ N)",
    )
    parser.add_argument("--steady-seconds", type=float, default=15, help="length of steady phase")
    parser.add_argument("--brokers", default="memory,redis")
    parser.add_argument("--no-node", action="store_true", help="skip the Node baseline")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="the Redis broker's URL")
    parser.add_argument("--database-url", help=f"PostgreSQL, e.g. {DEFAULT_PG_URL}")
    parser.add_argument("--port", type=int, default=8124)
    parser.add_argument("--node-port", type=int, default=8125)
    parser.add_argument("--phase-timeout", type=float, default=240)
    parser.add_argument("--connect-timeout", type=float, default=120)
    parser.add_argument("--py-spy", action="store_true", help="profile the hub (--py-spy-phase)")
    parser.add_argument("--py-spy-seconds", type=int, default=20)
    parser.add_argument("--py-spy-phase", default="burst", choices=["burst", "steady"])
    parser.add_argument("--py-spy-native", action="store_true", help="include C frames (GC…)")
    parser.add_argument(
        "--hub-gc-threshold",
        default="",
        help="experiment: run the hub with gc.set_threshold(T0,T1,T2) (e.g. 100000,50,1000)",
    )
    parser.add_argument("--no-results-md", action="store_true")
    args = parser.parse_args(argv)

    con = console()
    OUT.mkdir(parents=True, exist_ok=True)
    if not (NODE_DIR / "node_modules").exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, timeout=300
        )
    if args.database_url:
        from sqlalchemy.engine import make_url

        if not args.database_url.startswith("postgresql+asyncpg://"):
            raise SystemExit("bench: --database-url must be postgresql+asyncpg://…")
        if (make_url(args.database_url).host or "127.0.0.1") not in LOOPBACK:
            raise SystemExit("bench: only loopback databases are benchmarked")
    ns = [int(x) for x in args.subscribers.split(",") if x.strip()]
    pairs = dict(p.split(":") for p in args.events.split(",") if ":" in p)
    events_for = {
        n: int(pairs.get(str(n), args.events if ":" not in args.events else 100)) for n in ns
    }
    nofile = raise_nofile(max(ns) * 2 + 1024)  # inherited by the servers and the clients
    command = "python bench/subscriptions.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    run_id = f"r{int(time.time()) % 100000}"
    phases: list[Phase] = []

    def on_term(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    try:
        for n in ns:
            servers: list[Server] = [
                HubServer(
                    b.strip(),
                    args.database_url,
                    args.port,
                    n,
                    args.hub_gc_threshold,
                    args.redis_url,
                )
                for b in args.brokers.split(",")
                if b.strip()
            ]
            if not args.no_node:
                servers.append(NodeServer(args.node_port, n))
            for server in servers:
                phases += measure_server(
                    con,
                    server,
                    n,
                    argparse.Namespace(**vars(args) | {"events": events_for[n]}),
                    f"{run_id}n{n}",
                )
    except KeyboardInterrupt:
        con.print("[red]interrupted[/]")
        return 130
    finally:
        if phases:
            print_table(phases)
            payload = {
                "when": datetime.now(UTC).isoformat(),
                "command": command,
                "phases": [
                    dataclasses.asdict(p) | {"ratio_to_node": ratio(p, phases)} for p in phases
                ],
            }
            (OUT / "subscriptions.json").write_text(json.dumps(payload, indent=2), encoding="utf-8")
    for line in verdict(phases):
        con.print(line)
    if not args.no_results_md:
        db = "PostgreSQL" if args.database_url else "SQLite (fresh file per server start)"
        update_results_md(markdown_section(phases, command, args, nofile, db))
        con.print(f"updated {RESULTS_MD.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
