// Benchmark 3, ingest: events/s through the local service (`wrangler dev` with the repo's
// wrangler.toml) against a Worker that only reads the body and answers 202, driven by the same
// client: a few connections posting 1,000 events of ~1 KB per request, for a bounded time.
import { readFileSync } from "node:fs";
import { gzipSync } from "fflate";
import { benchEvent } from "../bench/events.ts";
import { sleep, startDev } from "./bench-dev.mjs";

const EVENTS_PER_REQUEST = 1000;
const CONNECTIONS = Number(process.env.BENCH_INGEST_CONNECTIONS ?? 4);
const SECONDS = Number(process.env.BENCH_INGEST_SECONDS ?? 10);
const MAX_REQUESTS = 5000;

const body = Array.from({ length: EVENTS_PER_REQUEST }, (_, i) => JSON.stringify(benchEvent(i))).join("\n");
// Tokens and S3 keys from the example file, not .dev.vars: the run must not depend on local edits.
const dev = Object.fromEntries(readFileSync(".dev.vars.example", "utf8").split("\n").filter((l) => /^[A-Z0-9_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));

/** Posts the body from CONNECTIONS loops until SECONDS pass (or MAX_REQUESTS); every answer must be 202. */
async function drive(url, headers) {
  for (let i = 0; i < 2; i++) await post(url, headers); // warm-up: first-request compile, table creation
  const latencies = [];
  const deadline = performance.now() + SECONDS * 1000;
  const t0 = performance.now();
  let sent = 0;
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (performance.now() < deadline && sent < MAX_REQUESTS) {
      sent++;
      const t = performance.now();
      await post(url, headers);
      latencies.push(performance.now() - t);
    }
  }));
  const s = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return { requests: latencies.length, eventsPerSec: (latencies.length * EVENTS_PER_REQUEST) / s, p50: latencies[Math.floor(latencies.length / 2)] };
}

const RECEIPT_REQUESTS = 10;

/** Latency of `?wait=true` (the commit receipt) beside the plain 202, one request at a time. */
async function waitLatency(base) {
  const headers = { authorization: `Bearer ${dev.FLOE_INGEST_TOKEN}`, "content-type": "application/x-ndjson" };
  const small = body.split("\n").slice(0, 100).join("\n");
  const run = async (wait) => {
    const ms = [];
    for (let i = 0; i < RECEIPT_REQUESTS; i++) {
      const t = performance.now();
      const res = await fetch(`${base}/v1/tables/bench.receipts/events${wait ? "?wait=true" : ""}`, { method: "POST", body: small, headers });
      const json = await res.json();
      if (res.status !== (wait ? 200 : 202) || (wait && !json.snapshotId)) throw new Error(`receipt: ${res.status} ${JSON.stringify(json)}`);
      ms.push(performance.now() - t);
    }
    ms.sort((a, b) => a - b);
    return { p50: ms[Math.floor(ms.length / 2)], max: ms[ms.length - 1] };
  };
  const plain = await run(false);
  const wait = await run(true);
  // The Worker asks every 100 ms, then 1.5× longer up to 500 ms: the asks a wait of this length took.
  let polls = 0;
  for (let t = 0, p = 100; t < wait.p50; t += p, p = Math.min(p * 1.5, 500)) polls++;
  return { plain, wait, polls };
}

const AUTH_REQUESTS = 40;

/**
 * What a minted token costs beside a bootstrap one: the registry's round trip (and the rate limiter,
 * which both pay), on a 1-event POST sent one at a time, alternating so that both see the same load.
 */
async function authLatency(base) {
  const mint = await fetch(`${base}/v1/admin/tokens`, {
    method: "POST",
    headers: { authorization: `Bearer ${dev.FLOE_ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "bench", scopes: ["ingest"], tables: ["bench.*"] }),
  });
  const { token } = await mint.json();
  if (mint.status !== 201) throw new Error(`mint: ${mint.status}`);
  const one = JSON.stringify(benchEvent(0));
  const times = { bootstrap: [], minted: [] };
  for (let i = 0; i < AUTH_REQUESTS * 2; i++) {
    const which = i % 2 ? "minted" : "bootstrap";
    const t = performance.now();
    const res = await fetch(`${base}/v1/tables/bench.auth/events`, { method: "POST", body: one, headers: { authorization: `Bearer ${which === "minted" ? token : dev.FLOE_INGEST_TOKEN}`, "content-type": "application/json" } });
    await res.text();
    if (res.status !== 202) throw new Error(`auth bench: ${res.status}`);
    if (i >= 4) times[which].push(performance.now() - t); // after the warm-up
  }
  const p50 = (a) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)];
  return { bootstrap: p50(times.bootstrap), minted: p50(times.minted) };
}

async function post(url, headers) {
  const res = await fetch(url, { method: "POST", body, headers: { "content-type": "application/x-ndjson", ...headers } });
  const text = await res.text();
  if (res.status !== 202) throw new Error(`${url}: ${res.status} ${text.slice(0, 300)}`);
}

export async function ingestBench() {
  const floe = await startDev({
    config: "wrangler.toml",
    name: "ingest",
    vars: (base) => ({ FLOE_INGEST_TOKEN: dev.FLOE_INGEST_TOKEN, FLOE_ADMIN_TOKEN: dev.FLOE_ADMIN_TOKEN, S3_ENDPOINT: `${base}/cdn-cgi/local/r2/s3`, S3_ACCESS_KEY_ID: dev.S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY: dev.S3_SECRET_ACCESS_KEY }),
    probe: async (base) => { if (!(await fetch(`${base}/healthz`)).ok) throw new Error("not ready"); },
  });
  let ours, receipts, auth;
  try {
    ours = await drive(`${floe.base}/v1/tables/bench.ingest/events`, { authorization: `Bearer ${dev.FLOE_INGEST_TOKEN}` });
    receipts = await waitLatency(floe.base);
    auth = await authLatency(floe.base);
  } finally {
    floe.stop();
  }
  await sleep(500); // let the stopped workerd release its CPU before the baseline runs
  const trivial = await startDev({ config: "bench/trivial.wrangler.toml", name: "trivial" });
  let base;
  try {
    base = await drive(trivial.base, {});
  } finally {
    trivial.stop();
  }
  const kb = (body.length / 1024).toFixed(0);
  const squeeze = compressionLine();
  const line = (r) => `${r.eventsPerSec.toFixed(0)} events/s (${r.requests} requests, p50 ${r.p50.toFixed(0)} ms)`;
  return [
    `ingest (POST 1,000 events of ~1 KB = ${kb} KB NDJSON per request, ${CONNECTIONS} connections from Node, ${SECONDS} s each, loopback):`,
    `  floe (wrangler dev, repo wrangler.toml; a request over 256 KB is staged in R2 + 1 queue message; the queue consumer writes Parquet meanwhile): ${line(ours)}`,
    `  trivial Worker (reads the body, answers 202): ${line(base)}`,
    `  ratio floe/trivial: ${(ours.eventsPerSec / base.eventsPerSec).toFixed(2)}`,
    `auth (${AUTH_REQUESTS} POSTs of 1 event each per token, one at a time): a minted token (one round trip to the token registry) p50 ${auth.minted.toFixed(1)} ms, the bootstrap ingest token p50 ${auth.bootstrap.toFixed(1)} ms; ratio minted/bootstrap ${(auth.minted / auth.bootstrap).toFixed(2)}; memory per check: one registry row (a few hundred bytes)`,
    squeeze,
    `commit receipts (${RECEIPT_REQUESTS} requests of 100 events one at a time, after the load above): POST ?wait=true answered 200 with the snapshot in p50 ${receipts.wait.p50.toFixed(0)} ms (max ${receipts.wait.max.toFixed(0)}), asking the table's object about ${receipts.polls} times per request (every 100 ms, then 1.5× longer up to 500 ms); the same POST without wait answered 202 in p50 ${receipts.plain.p50.toFixed(0)} ms; the difference is the queue's batch wait (max_batch_timeout 2 s) plus writing and committing`,
  ];
}

/**
 * Would a request between 256 KB and the body limit fit the queue compressed, instead of being
 * staged in R2? The same 1 MB body gzipped as a Worker could (fflate, synchronous), timed here in
 * Node: its size against one sendBatch (256 KB, messages of 128 KB), and the CPU it costs.
 */
function compressionLine() {
  const bytes = new TextEncoder().encode(body);
  const out = [];
  for (const level of [1, 6]) {
    let best = Infinity;
    let size = 0;
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      size = gzipSync(bytes, { level }).byteLength;
      best = Math.min(best, performance.now() - t);
    }
    out.push(`level ${level}: ${(size / 1024).toFixed(0)} KB (${(bytes.byteLength / size).toFixed(1)}×) in ${best.toFixed(1)} ms, ${Math.ceil(size / (124 * 1024))} message(s) of 128 KB${size <= 248 * 1024 ? ", one sendBatch" : ", more than one sendBatch"}`);
  }
  return `staging measured against compression (the ${(bytes.byteLength / 1024).toFixed(0)} KB request body gzipped with fflate in Node, best of 5): ${out.join("; ")}; staged instead, the request costs one R2 put of the whole body and one read by the consumer (the ingest p50 above)`;
}

// `node scripts/bench-ingest.mjs` runs this part alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  for (const l of await ingestBench()) console.log(l);
  process.exit(0);
}
