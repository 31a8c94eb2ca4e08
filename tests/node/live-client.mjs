// A company intranet's live feed, as the graphql-ws docs write it: subscribe, print each
// event as one JSON line, exit after COUNT events. Usage: node live-client.mjs URL TOKEN COUNT
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [url, token, count] = process.argv.slice(2);
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${token}` },
  retryAttempts: 0,
});
const query = `subscription { missionEvents(filter: { remote: [FULL] }) {
  cursor type mission { externalId title } } }`;
let seen = 0;
const timer = setTimeout(() => {
  console.error("timed out");
  process.exit(2);
}, 30000);
console.log(JSON.stringify({ ready: true }));
for await (const result of client.iterate({ query })) {
  if (result.errors) {
    console.error(JSON.stringify(result.errors));
    process.exit(1);
  }
  console.log(JSON.stringify(result.data.missionEvents));
  seen += 1;
  if (seen >= Number(count)) break;
}
clearTimeout(timer);
await client.dispose();
process.exit(0);
