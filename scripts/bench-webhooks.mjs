// Benchmark 4, webhooks: verified deliveries per second through `POST /v1/webhooks/{source}` of the
// real service (`wrangler dev`, repo wrangler.toml), against the events endpoint of the same
// service taking bodies of the same size (one event per request), driven by the same client in the
// same run: the ratio is what signature verification, the source's bookkeeping and the envelope
// (the webhook row) cost per request. The two alternate in slices (A B B A …) so that drift on a
// shared machine falls on both alike; the queue consumer commits meanwhile, as in production, and
// a bounded wait at the end checks that every accepted row was committed.
import { createHmac, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { sleep, startDev } from "./bench-dev.mjs";

const CONNECTIONS = Number(process.env.BENCH_WEBHOOK_CONNECTIONS ?? 4);
const SECONDS = Number(process.env.BENCH_WEBHOOK_SECONDS ?? 10);
const BODY_BYTES = 2048;
const MAX_REQUESTS = 50_000;
const SLICES = 4;
// Rows are normally all committed within one batch timeout (2 s) of the last 202. If wrangler dev
// reloads meanwhile (a watched file changed: the source, wrangler.toml, node_modules), the local
// queue loses the messages it had not yet delivered (it holds them in memory): the line says so.
const DRAIN_MS = 20_000;

const SECRET = "bench-github-secret";
const SOURCE = { name: "github", provider: "github", secrets: [SECRET], table: "bench.github_events" };
const EVENTS_TABLE = "bench.webhook_sized_events";
// Tokens and S3 keys from the example file, not .dev.vars: the run must not depend on local edits.
const dev = Object.fromEntries(readFileSync(".dev.vars.example", "utf8").split("\n").filter((l) => /^[A-Z0-9_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));

const WORDS = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua".split(" ");
/** A GitHub `pull_request` delivery `i`, padded (the PR's body text) to BODY_BYTES of JSON. */
function payload(i) {
  const p = {
    action: ["opened", "synchronize", "closed", "labeled"][i % 4],
    number: i,
    pull_request: { number: i, state: "open", title: `Change ${i}`, user: { login: `user_${i % 50}`, id: 1000 + (i % 50) }, head: { ref: `feature-${i % 97}`, sha: (i * 2654435761 >>> 0).toString(16).padStart(40, "0") }, base: { ref: "main" }, draft: i % 5 === 0, body: "" },
    repository: { id: 1296269, full_name: "acme/app", private: false, html_url: "https://github.com/acme/app", default_branch: "main" },
    sender: { login: `user_${i % 50}`, id: 1000 + (i % 50), type: "User" },
    installation: { id: 42 },
  };
  const room = BODY_BYTES - JSON.stringify(p).length;
  let text = "";
  for (let k = i; text.length < room; k = (Math.imul(k, 1103515245) + 12345) >>> 0) text += WORDS[k % WORDS.length] + " ";
  p.pull_request.body = text.slice(0, Math.max(0, room));
  return JSON.stringify(p);
}

/** A GitHub-signed delivery (X-Hub-Signature-256 over the body, node:crypto), with a unique delivery id. */
function githubDelivery(i) {
  const body = payload(i);
  return {
    body,
    headers: {
      "content-type": "application/json",
      "x-github-event": "pull_request",
      "x-github-delivery": randomUUID(),
      "x-github-hook-id": "4242",
      "x-hub-signature-256": `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`,
    },
  };
}

/** The same body sent as one event to the events endpoint. */
function eventRequest(i) {
  return { body: payload(i), headers: { "content-type": "application/json", authorization: `Bearer ${dev.FLOE_INGEST_TOKEN}` } };
}

async function post(url, { body, headers }) {
  const res = await fetch(url, { method: "POST", body, headers });
  const text = await res.text();
  if (res.status !== 202) throw new Error(`${url}: ${res.status} ${text.slice(0, 300)}`);
}

/** Posts requests made by `make()` from CONNECTIONS loops for `seconds` (or MAX_REQUESTS); every answer must be 202. */
async function drive(url, make, seconds, into) {
  const deadline = performance.now() + seconds * 1000;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (performance.now() < deadline && into.latencies.length < MAX_REQUESTS) {
      const req = make(); // built (and signed) before this request's clock starts
      const t = performance.now();
      await post(url, req);
      into.latencies.push(performance.now() - t);
    }
  }));
  into.seconds += (performance.now() - t0) / 1000;
}

const summary = ({ latencies, seconds }) => {
  const sorted = [...latencies].sort((a, b) => a - b);
  const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
  return { requests: sorted.length, perSec: sorted.length / seconds, p50: q(0.5), p99: q(0.99) };
};

/** Waits (bounded) until the table holds `count` rows; answers the rows seen and how long it took. */
async function drain(base, table, count) {
  const t0 = performance.now();
  let rows = 0;
  while (performance.now() - t0 < DRAIN_MS) {
    const res = await fetch(`${base}/v1/tables/${table}`, { headers: { authorization: `Bearer ${dev.FLOE_INGEST_TOKEN}` } });
    if (res.ok) rows = (await res.json()).totalRecords ?? 0;
    else await res.body?.cancel();
    if (rows >= count) break;
    await sleep(250);
  }
  return { rows, s: (performance.now() - t0) / 1000 };
}

export async function webhookBench() {
  const floe = await startDev({
    config: "wrangler.toml",
    name: "webhooks",
    vars: (base) => ({
      FLOE_INGEST_TOKEN: dev.FLOE_INGEST_TOKEN,
      FLOE_ADMIN_TOKEN: dev.FLOE_ADMIN_TOKEN,
      S3_ENDPOINT: `${base}/cdn-cgi/local/r2/s3`,
      S3_ACCESS_KEY_ID: dev.S3_ACCESS_KEY_ID,
      S3_SECRET_ACCESS_KEY: dev.S3_SECRET_ACCESS_KEY,
      FLOE_SOURCES: JSON.stringify([SOURCE]),
    }),
    probe: async (base) => { if (!(await fetch(`${base}/healthz`)).ok) throw new Error("not ready"); },
  });
  let hooks, events, hooksDrain, eventsDrain;
  try {
    const hookUrl = `${floe.base}/v1/webhooks/${SOURCE.name}`;
    const eventUrl = `${floe.base}/v1/tables/${EVENTS_TABLE}/events`;
    // Warm-up: first-request compile, table creation (both tables), then let those rows land.
    for (let i = 0; i < 3; i++) await post(hookUrl, githubDelivery(i));
    for (let i = 0; i < 3; i++) await post(eventUrl, eventRequest(i));
    await drain(floe.base, SOURCE.table, 3);
    await drain(floe.base, EVENTS_TABLE, 3);

    // SECONDS per endpoint, in slices alternated A B B A … so that drift on this shared machine
    // (and the consumer's growing work) falls on both alike.
    const h = { latencies: [], seconds: 0 };
    const e = { latencies: [], seconds: 0 };
    let n = 3;
    const slice = SECONDS / SLICES;
    for (let k = 0; k < SLICES; k++) {
      const order = k % 2 === 0 ? ["h", "e"] : ["e", "h"];
      for (const which of order) {
        if (which === "h") await drive(hookUrl, () => githubDelivery(n++), slice, h);
        else await drive(eventUrl, () => eventRequest(n++), slice, e);
      }
    }
    hooks = summary(h);
    events = summary(e);
    hooksDrain = await drain(floe.base, SOURCE.table, 3 + hooks.requests);
    eventsDrain = await drain(floe.base, EVENTS_TABLE, 3 + events.requests);
  } finally {
    floe.stop();
  }
  const line = (r, unit) => `${r.perSec.toFixed(0)} ${unit}/s (${r.requests} requests, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms)`;
  const landed = (d, want) => (d.rows >= want ? `all ${d.rows} rows committed` : `only ${d.rows} of ${want} rows committed ${DRAIN_MS / 1000} s after the run`);
  return [
    `webhooks (one wrangler dev of the service, repo wrangler.toml; ${BODY_BYTES / 1024} KB JSON bodies, one per request, ${CONNECTIONS} connections from Node, ${SECONDS} s each in ${SLICES} alternating slices, loopback):`,
    `  POST /v1/webhooks/github (X-Hub-Signature-256 verified, unique X-GitHub-Delivery, counted, queued as a webhook row): ${line(hooks, "deliveries")}; ${landed(hooksDrain, 3 + hooks.requests)}`,
    `  POST /v1/tables/{table}/events (same bodies, one event per request): ${line(events, "events")}; ${landed(eventsDrain, 3 + events.requests)}`,
    `  ratio webhooks/events: ${(hooks.perSec / events.perSec).toFixed(2)}`,
  ];
}

// `node scripts/bench-webhooks.mjs` runs this part alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  for (const l of await webhookBench()) console.log(l);
  process.exit(0);
}
