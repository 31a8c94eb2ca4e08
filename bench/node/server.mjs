// Baseline for bench/subscriptions.py: a plain `graphql-ws` server on `ws`, with the same
// subscription shape as the hub's `missionEvents(filter, after)`, broadcasting the events it is
// told about through POST /publish (where the bench would call the hub's upsertMissions).
//
//   node server.mjs --port 8125
//
// What it does per event, like a textbook graphql-ws server: every subscriber has its own async
// iterator (a queue), and graphql-ws executes the subscription document once per event per
// subscriber (graphql-js `subscribe` + `execute`), then JSON.stringify's the result per socket.
// No persistence, no token verification (connection_init must carry an Authorization string),
// no per-event database read: it is the cost of GraphQL fan-out alone in Node.
//
// Endpoints: GET /healthz, GET /stats, POST /publish {"missions":[{externalId,title,remote}]}
// answers {"published": n, "seqs": [...]} once every subscriber's queue has the events.

import http from "node:http";
import { parseArgs } from "node:util";
import { buildSchema } from "graphql";
import { useServer } from "graphql-ws/lib/use/ws";
import { WebSocketServer } from "ws";

const { values: args } = parseArgs({
  options: {
    port: { type: "string", default: "8125" },
    host: { type: "string", default: "127.0.0.1" },
  },
});
if (!["127.0.0.1", "localhost", "::1"].includes(args.host)) {
  throw new Error(`loopback only, got ${args.host}`);
}

const schema = buildSchema(`
  enum MissionEventType { PUBLISHED UPDATED CLOSED }
  enum RemoteMode { FULL POSSIBLE NONE }
  input MissionFilterInput { remote: [RemoteMode!] text: String causes: [String!] }
  type Mission { externalId: String! title: String! remote: RemoteMode! }
  type MissionEvent {
    cursor: String!
    type: MissionEventType!
    occurredAt: String!
    mission: Mission!
  }
  type Query { ok: Boolean! }
  type Subscription {
    missionEvents(filter: MissionFilterInput, after: String): MissionEvent!
  }
`);

// --- a minimal pub/sub: one unbounded queue per subscriber --------------------------------------

const listeners = new Set();
let subscribed = 0;

function listen(filter) {
  const queue = [];
  let wake = null;
  let done = false;
  const listener = {
    push(event) {
      if (filter && filter.remote && !filter.remote.includes(event.mission.remote)) return;
      if (wake) {
        const w = wake;
        wake = null;
        w({ value: event, done: false });
      } else {
        queue.push(event);
      }
    },
  };
  listeners.add(listener);
  subscribed += 1;
  const finish = () => {
    if (!done) {
      done = true;
      listeners.delete(listener);
      subscribed -= 1;
      if (wake) wake({ value: undefined, done: true });
    }
    return Promise.resolve({ value: undefined, done: true });
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next() {
      if (queue.length) return Promise.resolve({ value: queue.shift(), done: false });
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => {
        wake = resolve;
      });
    },
    return: finish,
    throw: (error) => {
      finish();
      return Promise.reject(error);
    },
  };
}

const field = schema.getSubscriptionType().getFields().missionEvents;
field.subscribe = (_root, args) => listen(args.filter);
field.resolve = (event) => event;

// --- WebSocket + HTTP -----------------------------------------------------------------------------

let seq = 0;
const server = http.createServer((req, res) => {
  if (req.method === "GET" && req.url === "/healthz") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end('{"status":"ok"}');
    return;
  }
  if (req.method === "GET" && req.url === "/stats") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ subscribers: subscribed, sockets: wss.clients.size }));
    return;
  }
  if (req.method === "POST" && req.url === "/publish") {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      let body;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        res.writeHead(400).end("bad json");
        return;
      }
      const now = new Date().toISOString();
      const seqs = [];
      for (const m of body.missions || []) {
        seq += 1;
        seqs.push(seq);
        const event = {
          cursor: Buffer.from(`evt:${seq}`).toString("base64url"),
          type: "PUBLISHED",
          occurredAt: now,
          mission: { externalId: m.externalId, title: m.title, remote: m.remote || "FULL" },
        };
        for (const listener of listeners) listener.push(event);
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ published: seqs.length, seqs }));
    });
    return;
  }
  res.writeHead(404).end();
});

const wss = new WebSocketServer({ server, path: "/graphql" }); // permessage-deflate off (ws default)
useServer(
  {
    schema,
    onConnect: (ctx) => {
      const auth = ctx.connectionParams && ctx.connectionParams.Authorization;
      return typeof auth === "string" && auth.startsWith("Bearer ");
    },
  },
  wss,
);

// A burst blocks this event loop for seconds; Node's 5 s keep-alive timer can then fire before
// the next request on the pusher's connection is read, and the socket is reset under it.
server.keepAliveTimeout = 120_000;
server.headersTimeout = 121_000;

server.listen(Number(args.port), args.host, () => {
  console.log(JSON.stringify({ listening: `http://${args.host}:${args.port}`, pid: process.pid }));
});

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    for (const socket of wss.clients) socket.terminate();
    server.close();
    process.exit(0);
  });
}
