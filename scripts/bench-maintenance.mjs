// Benchmarks of table maintenance (issue 9), run by `npm run bench`: the real TableDO and consumer in
// Node with the lake in memory (the bench bundle of bench/maintenance-worker.ts), so the figures are
// our own code's cost, not local R2's.
// 1. Commit time at commits 100, 1,000 and 10,000 of one table, maintenance on (the alarm and the
//    compaction steps run as they come due) and off (the same code, `floe.maintenance.enabled=false`).
// 2. Compaction of many small files: MB/s of input beside DuckDB (threads=1) rewriting the same files
//    into one, and the time and heap of each step (one queue message, one Worker invocation), run
//    under a 64 MB V8 old-space limit.
import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { duckdb } from "./bench-uploads.mjs";

const OUT = "bench-out";
const ON_COMMITS = Number(process.env.BENCH_HISTORY_COMMITS ?? 10_000);
// Without maintenance every commit rewrites all of history: 10,000 of them take ~20 minutes here,
// so the default stops at 3,000 (BENCH_HISTORY_OFF_COMMITS=10000 runs all).
const OFF_COMMITS = Number(process.env.BENCH_HISTORY_OFF_COMMITS ?? 3_000);
const FILES = Number(process.env.BENCH_COMPACT_FILES ?? 200);
const ROWS = Number(process.env.BENCH_COMPACT_ROWS ?? 10_000);
const mb = (b) => (b / 1024 / 1024).toFixed(1);

function bundle() {
  execFileSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", join(process.cwd(), OUT, "maintenance-bundle"), "-c", "bench/maintenance.wrangler.toml"], { stdio: "ignore" });
  return join(process.cwd(), OUT, "maintenance-bundle", "maintenance-worker.js");
}

function run(worker, paths, { heapMb, env = {} } = {}) {
  const args = ["--expose-gc", "--disable-warning=ExperimentalWarning", ...(heapMb ? [`--max-old-space-size=${heapMb}`, "--max-semi-space-size=1"] : [])];
  const r = spawnSync(process.execPath, [...args, "scripts/bench-maintenance-run.mjs", worker, ...paths], { encoding: "utf8", env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  try {
    return JSON.parse(r.stdout.trim().split("\n").pop()).result;
  } catch {
    throw new Error(`maintenance bench ${paths.join(" ")} failed: ${r.stderr.slice(-2000)}`);
  }
}

export async function maintenanceBench() {
  const worker = bundle();
  const points = (n) => [...new Set([100, 1_000, 10_000].filter((c) => c <= n).concat([n]))];
  const lines = [];
  if (ON_COMMITS > 0) lines.push(...history(worker, points));
  lines.push(...(await compaction(worker)));
  return lines;
}

function history(worker, points) {
  const on = run(worker, [`/history?table=bench.on&n=${ON_COMMITS}&maintenance=on&checkpoints=${points(ON_COMMITS)}`]);
  const off = run(worker, [`/history?table=bench.off&n=${OFF_COMMITS}&maintenance=off&checkpoints=${points(OFF_COMMITS)}`]);
  const lines = [`commit time of one table, one small commit after another (real TableDO in Node, lake in memory; mean of the 20 commits before each point):`];
  for (const r of [on, off]) {
    const first = r.checkpoints[0];
    const last = r.checkpoints.at(-1);
    const at = r.checkpoints.map((c) => `#${c.commit}: ${c.ms.toFixed(2)} ms (metadata.json ${(c.metadataBytes / 1024).toFixed(0)} KB, ${c.snapshots} snapshots, ${c.dataFiles} data files)`).join("; ");
    lines.push(`  maintenance ${r.maintenance ? "on " : "off"}: ${at}; last/first ${(last.ms / first.ms).toFixed(2)}×`);
  }
  lines.push(`  at the last point, maintenance on / off: ${(on.checkpoints.at(-1).ms / off.checkpoints.at(-1).ms).toFixed(2)}× the commit time (off measured to ${OFF_COMMITS} commits)`);
  return lines;
}

async function compaction(worker) {
  const lines = [];

  const dump = join(OUT, "compaction-inputs");
  const paths = [`/compaction/prepare?table=bench.compact&files=${FILES}&rows=${ROWS}`, "/compaction/run?table=bench.compact"];
  // Timed without a limit; then the same under shrinking V8 old-space limits, to find the smallest
  // that the whole run (the Durable Object and the consumer in one heap) completes within.
  const c = run(worker, paths, { env: { DUMP_DIR: dump } });
  let fits;
  for (const limit of [64, 48, 40, 32]) {
    try {
      run(worker, paths, { heapMb: limit });
      fits = limit;
    } catch {
      break;
    }
  }
  const inputs = readdirSync(dump).map((f) => join(dump, f));
  const inputBytes = inputs.reduce((n, f) => n + statSync(f).size, 0);
  const { ms: duckMs, rows: duckRows } = await duckdb(`${dump}/*.parquet`);
  if (duckRows !== c.totalRecords) throw new Error(`duckdb rewrote ${duckRows} rows of ${c.totalRecords}`);
  const stepMs = c.steps.map((s) => s.ms);
  const heaps = c.steps.map((s) => s.heap);
  const ours = inputBytes / (c.ms / 1000);
  const duck = inputBytes / (duckMs / 1000);
  lines.push(
    `compaction of ${FILES} small files (${mb(inputBytes)} MB, ${c.totalRecords} events of 9 columns) into ${c.dataFiles} file(s): ${c.report.compact.jobs} job(s), ${c.steps.length} steps (one queue message and invocation each); ${(c.ms / 1000).toFixed(1)} s, ${mb(ours)} MB/s of input`,
    `  steps in order: ${stepMs.map((ms) => `${ms.toFixed(0)} ms`).join(", ")}${stepMs.length > 1 ? ` (segments re-encoded at ${mb(inputBytes / (stepMs.slice(0, -1).reduce((a, b) => a + b, 0) / 1000))} MB/s of input; the last, the join, copied their row groups byte for byte at ${mb(inputBytes / (stepMs.at(-1) / 1000))} MB/s)` : ""}; heap used ${mb(Math.min(...heaps))}–${mb(Math.max(...heaps))} MB at its peak (sampled every 2 ms, garbage included); the run completes within a V8 old-space limit of ${fits ? `${fits} MB` : "more than 64 MB"} (smallest of 64/48/40/32 tried)`,
    `  duckdb (threads=1, read_parquet → COPY parquet, the same files into one): ${(duckMs / 1000).toFixed(2)} s, ${mb(duck)} MB/s; ratio ours/duckdb ${(ours / duck).toFixed(2)}`,
  );
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) for (const l of await maintenanceBench()) console.log(l);
