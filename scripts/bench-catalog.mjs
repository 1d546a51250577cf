// Benchmark 7, the REST catalog: latency of loading a table and of committing through `/iceberg`
// (as an engine does), beside the same Worker's `GET /healthz` (a trivial request), its status API
// (`GET /v1/tables/{t}`, one RPC to the same TableDO) and a direct metadata commit through the
// admin API (`PUT /v1/tables/{t}` with a property: TableDO → commitTable, no catalog layer), in the
// same run against the local service. Table history grows as the commits land, so the figures are
// taken at two sizes of metadata.
import { readFileSync } from "node:fs";
import { startDev } from "./bench-dev.mjs";

const N = Number(process.env.BENCH_CATALOG_N ?? 200);
const dev = Object.fromEntries(readFileSync(".dev.vars.example", "utf8").split("\n").filter((l) => /^[A-Z0-9_]+=/.test(l)).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
const admin = { Authorization: `Bearer ${dev.FLOE_ADMIN_TOKEN}`, "Content-Type": "application/json" };

async function timed(n, fn) {
  const ms = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { p50: ms[Math.floor(n / 2)].toFixed(1), p99: ms[Math.min(n - 1, Math.floor(n * 0.99))].toFixed(1) };
}

async function expect(res, status, what) {
  const text = await res.text();
  if (res.status !== status) throw new Error(`${what}: ${res.status} ${text.slice(0, 300)}`);
  return text;
}

export async function catalogBench() {
  const floe = await startDev({
    config: "wrangler.toml",
    name: "catalog",
    vars: (base) => ({ FLOE_INGEST_TOKEN: dev.FLOE_INGEST_TOKEN, FLOE_ADMIN_TOKEN: dev.FLOE_ADMIN_TOKEN, S3_ENDPOINT: `${base}/cdn-cgi/local/r2/s3`, S3_ACCESS_KEY_ID: dev.S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY: dev.S3_SECRET_ACCESS_KEY }),
    probe: async (base) => { if (!(await fetch(`${base}/healthz`)).ok) throw new Error("not ready"); },
  });
  const lines = [`REST catalog (local service, one table; ${N} requests each, one at a time):`];
  try {
    const u = `${floe.base}/iceberg/v1/floe/namespaces/bench/tables/catalog`;
    await expect(await fetch(`${floe.base}/iceberg/v1/floe/namespaces`, { method: "POST", headers: admin, body: JSON.stringify({ namespace: ["bench"] }) }), 200, "create namespace");
    const schema = { type: "struct", "schema-id": 0, fields: [{ id: 1, name: "id", type: "long", required: false }] };
    await expect(await fetch(`${floe.base}/iceberg/v1/floe/namespaces/bench/tables`, { method: "POST", headers: admin, body: JSON.stringify({ name: "catalog", schema }) }), 200, "create table");
    const round = async (label) => {
      const load = await timed(N, async () => expect(await fetch(u, { headers: admin }), 200, "load"));
      const status = await timed(N, async () => expect(await fetch(`${floe.base}/v1/tables/bench.catalog`, { headers: admin }), 200, "status"));
      const trivial = await timed(N, async () => expect(await fetch(`${floe.base}/healthz`), 200, "healthz"));
      const tag = (await fetch(u, { headers: admin })).headers.get("etag");
      const notModified = await timed(N, async () => expect(await fetch(u, { headers: { ...admin, "If-None-Match": tag } }), 304, "304"));
      const commit = await timed(N, async (i) => expect(await fetch(u, { method: "POST", headers: admin, body: JSON.stringify({ requirements: [], updates: [{ action: "set-properties", updates: { "bench.n": String(i) } }] }) }), 200, "catalog commit"));
      const direct = await timed(N, async (i) => expect(await fetch(`${floe.base}/v1/tables/bench.catalog`, { method: "PUT", headers: admin, body: JSON.stringify({ properties: { "bench.m": String(i) } }) }), 200, "direct commit"));
      const bytes = (await (await fetch(u, { headers: admin })).text()).length;
      lines.push(`  ${label} (LoadTableResult ${(bytes / 1024).toFixed(1)} KB): load p50 ${load.p50} ms (p99 ${load.p99}), with a matching ETag (304) p50 ${notModified.p50} ms; status API (same DO) p50 ${status.p50} ms; trivial request p50 ${trivial.p50} ms`);
      lines.push(`  ${label}: commit through the catalog p50 ${commit.p50} ms (p99 ${commit.p99}); direct DO commit (admin API) p50 ${direct.p50} ms (p99 ${direct.p99}); ratio catalog/direct ${(Number(commit.p50) / Number(direct.p50)).toFixed(2)}`);
    };
    await round("fresh table");
    await round(`after ${2 * N} commits`);
  } finally {
    floe.stop();
  }
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) for (const l of await catalogBench()) console.log(l);
