// CI: bundles the Worker offline (`wrangler deploy --dry-run`) and fails if it outgrows its budget.
// The budget is far below Cloudflare's limits (3 MB gzip on the free plan) on purpose: it is here
// to make a heavy new dependency a decision, not an accident. (apache-arrow, for Arrow IPC uploads,
// is about 80 KiB of it; @hono/zod-openapi, which validates requests and generates /openapi.json from
// the same schemas, about 20 KiB; the columnar write path of issue 13 (the NDJSON scanner, our column
// writer, snappyjs) about 11 KiB, for which the budget went from 450 to 470.)
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const BUDGET_GZIP_KIB = 470;
execFileSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", "dist"], { stdio: ["ignore", "ignore", "inherit"] });
const code = readFileSync("dist/worker.js");
const gz = gzipSync(code).byteLength / 1024;
console.log(`bundle: ${(code.byteLength / 1024).toFixed(0)} KiB, ${gz.toFixed(0)} KiB gzip (budget ${BUDGET_GZIP_KIB} KiB gzip)`);
if (gz > BUDGET_GZIP_KIB) {
  console.error(`bundle over budget by ${(gz - BUDGET_GZIP_KIB).toFixed(0)} KiB gzip`);
  process.exit(1);
}
