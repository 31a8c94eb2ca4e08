// The GraphQL over HTTP audit suite (graphql-http's serverAudits) against a running hub.
//
//   node audit.mjs http://127.0.0.1:8000/graphql      (HUB_TOKEN: a company's bearer token)
//
// Prints one JSON array on stdout: {id, name, status: ok|warn|notice|error, reason, detail}.
// Exits 0 whatever the results: the caller (tests/test_graphql_http.py) judges them.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
const token = process.env.HUB_TOKEN;
if (!url || !token) {
  console.error('usage: HUB_TOKEN=<token> node audit.mjs <url of /graphql>');
  process.exit(2);
}

// Every audit request carries the token, as a company's intranet would send it.
function fetchFn(input, init = {}) {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
}

async function describe(response) {
  if (!response) return null;
  let body = '';
  try {
    body = (await response.clone().text()).slice(0, 500);
  } catch {
    body = '<body already read>';
  }
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    body,
  };
}

const results = [];
for (const audit of serverAudits({ url, fetchFn })) {
  try {
    const result = await audit.fn();
    results.push({
      id: result.id,
      name: result.name,
      status: result.status,
      reason: result.reason ?? null,
      detail: await describe(result.response),
    });
  } catch (error) {
    // graphql-http throws only for failures it calls fatal (the request itself broke).
    results.push({
      id: audit.id,
      name: audit.name,
      status: 'error',
      reason: `fatal: ${error instanceof Error ? error.message : String(error)}`,
      detail: null,
    });
  }
}
process.stdout.write(JSON.stringify(results, null, 2) + '\n');
