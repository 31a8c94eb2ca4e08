// Load clients for bench/subscriptions.py: N WebSockets speaking graphql-transport-ws (raw `ws`),
// each running the same subscription document with the same variables (the intranet case).
//
//   node client.mjs '{"url":"ws://127.0.0.1:8124/graphql","n":500,"token":"...",
//                     "query":"subscription ...","variables":{...}}'
//
// Control on stdin, one JSON object a line; reports on stdout, one JSON object a line:
//   {"cmd":"phase","tag":"p1","m":1000}  start counting events whose externalId is "p1-<i>", i < m
//   {"cmd":"report","commit":[ms...],"sent":[ms...]}  per event index: epoch ms just after the
//        pusher got the mutation's response ("commit"), and just before it sent the request
//   {"cmd":"quit"}
// Every 250 ms: {"progress": ...} with open/acked sockets, warm-up coverage, phase receipts.
// Receipt time is performance.timeOrigin + performance.now() (epoch ms, sub-ms), taken when
// the message event fires, before anything else is done with the frame.

import { performance } from "node:perf_hooks";
import readline from "node:readline";
import WebSocket from "ws";

const cfg = JSON.parse(process.argv[2]);
const N = cfg.n;
const CONNECT_CONCURRENCY = cfg.connectConcurrency || 50;
const ID_RE = /"externalId"\s*:\s*"([^"]+)"/;

const now = () => performance.timeOrigin + performance.now();
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

// --- per-socket state -------------------------------------------------------------------------------
const acked = new Uint8Array(N);
const warmed = new Uint8Array(N);
const closes = {}; // close code -> count
const errors = []; // first few protocol errors
let open = 0;
let ackedCount = 0;
let warmCount = 0;
let otherMessages = 0;

// --- phase state ------------------------------------------------------------------------------------
let tag = null;
let prefix = "";
let M = 0;
let receipts = null; // Float64Array(N*M): first receipt time, 0 = not received
let dups = null; // Uint32Array(N): duplicates per subscriber
let received = 0;
let duplicated = 0;
let strays = 0; // events of the phase with an index outside 0..M-1
let firstReceipt = 0;
let lastReceipt = 0;
let cpuAtPhase = null;
let wallAtPhase = 0;

function onEvent(i, id, t) {
  if (id.startsWith("warm-")) {
    if (!warmed[i]) {
      warmed[i] = 1;
      warmCount += 1;
    }
    return;
  }
  if (tag === null || !id.startsWith(prefix)) return;
  const k = Number(id.slice(prefix.length));
  if (!(k >= 0 && k < M)) {
    strays += 1;
    return;
  }
  const slot = i * M + k;
  if (receipts[slot] !== 0) {
    dups[i] += 1;
    duplicated += 1;
    return;
  }
  receipts[slot] = t;
  received += 1;
  if (firstReceipt === 0) firstReceipt = t;
  lastReceipt = t;
}

function connect(i) {
  return new Promise((resolve) => {
    let settled = false;
    const done = () => {
      if (!settled) {
        settled = true;
        resolve();
      }
    };
    const ws = new WebSocket(cfg.url, "graphql-transport-ws", { perMessageDeflate: false });
    ws.on("open", () => {
      open += 1;
      ws.send(
        JSON.stringify({ type: "connection_init", payload: { Authorization: `Bearer ${cfg.token}` } }),
      );
    });
    ws.on("message", (data) => {
      const t = now();
      const text = data.toString();
      const m = ID_RE.exec(text);
      if (m !== null) {
        onEvent(i, m[1], t);
        return;
      }
      let msg;
      try {
        msg = JSON.parse(text);
      } catch {
        otherMessages += 1;
        return;
      }
      if (msg.type === "connection_ack") {
        acked[i] = 1;
        ackedCount += 1;
        ws.send(
          JSON.stringify({
            id: "1",
            type: "subscribe",
            payload: { query: cfg.query, variables: cfg.variables || {} },
          }),
        );
        done();
      } else if (msg.type === "ping") {
        ws.send('{"type":"pong"}');
      } else if (msg.type === "pong") {
        // keep-alive answer
      } else {
        otherMessages += 1;
        if (errors.length < 5) errors.push(text.slice(0, 300));
      }
    });
    ws.on("close", (code) => {
      if (open > 0) open -= 1;
      closes[code] = (closes[code] || 0) + 1;
      done();
    });
    ws.on("error", (err) => {
      if (errors.length < 5) errors.push(String(err).slice(0, 300));
      done();
    });
  });
}

async function connectAll() {
  const t0 = now();
  let next = 0;
  const workers = Array.from({ length: Math.min(CONNECT_CONCURRENCY, N) }, async () => {
    while (next < N) {
      const i = next++;
      await connect(i);
    }
  });
  await Promise.all(workers);
  out({ connected: { open, acked: ackedCount, ms: now() - t0, closes, errors } });
}

function percentile(sorted, q) {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((q / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

function report(commit, sent) {
  const cpu = process.cpuUsage(cpuAtPhase);
  const wall = now() - wallAtPhase;
  const lat = new Float64Array(received);
  const latSent = new Float64Array(received);
  let j = 0;
  let lostSubs = 0;
  let lost = 0;
  let dupSubs = 0;
  for (let i = 0; i < N; i++) {
    let got = 0;
    for (let k = 0; k < M; k++) {
      const t = receipts[i * M + k];
      if (t !== 0) {
        lat[j] = t - commit[k];
        latSent[j] = t - sent[k];
        j += 1;
        got += 1;
      }
    }
    if (got < M) {
      lostSubs += 1;
      lost += M - got;
    }
    if (dups[i] > 0) dupSubs += 1;
  }
  lat.sort();
  latSent.sort();
  const firstSent = Math.min(...sent);
  // Per event (up to 200): when its first, median and last receipt came, from the commit (ms),
  // and the request's own time (response − send): where each event's latency went.
  const perEvent = [];
  for (let k = 0; k < Math.min(M, 200); k++) {
    const ts = [];
    for (let i = 0; i < N; i++) {
      const t = receipts[i * M + k];
      if (t !== 0) ts.push(t - commit[k]);
    }
    ts.sort((a, b) => a - b);
    perEvent.push({
      k,
      request_ms: +(commit[k] - sent[k]).toFixed(2),
      first_ms: ts.length ? +ts[0].toFixed(2) : null,
      p50_ms: ts.length ? +percentile(ts, 50).toFixed(2) : null,
      last_ms: ts.length ? +ts[ts.length - 1].toFixed(2) : null,
      commit: commit[k],
    });
  }
  out({
    report: {
      tag,
      n: N,
      m: M,
      expected: N * M,
      received,
      lost,
      lost_subscribers: lostSubs,
      duplicated,
      duplicated_subscribers: dupSubs,
      strays,
      first_sent: firstSent,
      first_receipt: firstReceipt,
      last_receipt: lastReceipt,
      p50_ms: percentile(lat, 50),
      p90_ms: percentile(lat, 90),
      p99_ms: percentile(lat, 99),
      max_ms: lat.length ? lat[lat.length - 1] : null,
      min_ms: lat.length ? lat[0] : null,
      p50_from_sent_ms: percentile(latSent, 50),
      p99_from_sent_ms: percentile(latSent, 99),
      per_event: perEvent,
      client_cpu_s: (cpu.user + cpu.system) / 1e6,
      client_wall_s: wall / 1000,
      open,
      closes,
      errors,
      rss_mb: process.memoryUsage().rss / 1e6,
    },
  });
}

const progress = setInterval(() => {
  out({ progress: { open, acked: ackedCount, warm: warmCount, received, duplicated, closes } });
}, 250);

const rl = readline.createInterface({ input: process.stdin });
rl.on("line", (line) => {
  if (!line.trim()) return;
  const cmd = JSON.parse(line);
  if (cmd.cmd === "phase") {
    tag = cmd.tag;
    prefix = `${tag}-`;
    M = cmd.m;
    receipts = new Float64Array(N * M);
    dups = new Uint32Array(N);
    received = duplicated = strays = 0;
    firstReceipt = lastReceipt = 0;
    cpuAtPhase = process.cpuUsage();
    wallAtPhase = now();
    out({ phase: tag });
  } else if (cmd.cmd === "report") {
    report(cmd.commit, cmd.sent);
  } else if (cmd.cmd === "quit") {
    clearInterval(progress);
    process.exit(0);
  }
});
rl.on("close", () => process.exit(0));

connectAll();
