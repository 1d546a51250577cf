// Benchmark 5, large uploads (issue 4): a big generated NDJSON.gz (and an uncompressed NDJSON that
// is split into 64 MiB ranges) put into the local R2 bucket and ingested through the real upload
// path: an upload message {v:1, kind:"upload", bucket, key, eTag, size} handed to the real consumer
// (`consume`) with the real TableDO in workerd (bench/uploads-worker.ts), one queue batch (one
// consumer invocation) at a time. Prints time, MB/s, rows, data files and the growth of the workerd
// process's peak RSS per invocation; the heap of every invocation, measured by running the same
// bundle in Node (as bench-heap.mjs does for the other benchmarks): the heap used sampled without a
// limit and under a 128 MB old-space limit, what is live after forced GCs (array buffers included:
// a Worker's 128 MB counts them too), and the smallest old-space limit in which it completes; and
// DuckDB single-threaded reading the same files, in the same run. Timings are printed, never asserted.
//
// Sizes (MB = 2^20 bytes, as elsewhere in the bench; generated once, deterministic, cached in bench-out/):
//   BENCH_UPLOAD_GZ_MB      compressed size of the gzip file (default 16; issue 4's proof: 200)
//   BENCH_UPLOAD_NDJSON_MB  size of the uncompressed NDJSON file (default 100 → 2 ranges; 0 skips it)
//   BENCH_UPLOAD_PARQUET    "1" (default): also a flat Parquet file (DuckDB, from the NDJSON or gzip
//                           input), uploaded twice: registered as it is, and rewritten (rule
//                           "parquet": "rewrite"); "0" skips it
//   BENCH_UPLOAD_HEAP       "search" (default): the smallest old-space limit per invocation (within
//                           4 MB); "check": only whether each completes within 128 MB
//
// Also the child process of its own heap runs: `node scripts/bench-uploads.mjs --child <bundle>
// <file> <key> <mode>` (see `child` below).
import { spawnSync, execFileSync } from "node:child_process";
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pathToFileURL } from "node:url";
import { createGzip } from "node:zlib";

const OUT = "bench-out";
const MiB = 1024 * 1024;
const MB = MiB;
const GZ_MB = Number(process.env.BENCH_UPLOAD_GZ_MB ?? 16);
const NDJSON_MB = Number(process.env.BENCH_UPLOAD_NDJSON_MB ?? 100);
const HEAP_MODE = process.env.BENCH_UPLOAD_HEAP ?? "search";
const PARQUET = (process.env.BENCH_UPLOAD_PARQUET ?? "1") !== "0";
const TABLE = "big";
/** Uploads under rewrite/ go to the same table, always rewritten (the bench Worker gets this rule, in workerd and in Node). */
const REWRITE_RULES = JSON.stringify([{ prefix: "rewrite/", table: TABLE, format: "parquet", parquet: "rewrite" }]);
const HEAP_CAP = 128; // MB: the Workers isolate's memory limit
const mb = (bytes) => (bytes / MB).toFixed(1);

// ---------------------------------------------------------------------------------------------
// The input: web/app events of mixed types (longs, doubles, booleans, ISO timestamps as strings,
// low- and high-cardinality strings, nulls, a nested struct, a list, an optional struct), drawn
// from a seeded PRNG so the bytes compress like real logs rather than like repeated text.

const TYPES = ["page_view", "page_view", "page_view", "click", "click", "add_to_cart", "purchase", "search", "signup", "error"];
const COUNTRIES = ["US", "DE", "FR", "JP", "BR", "IN", "GB", "CA", "AU", "ES", "IT", "NL", "MX", "KR", "SE"];
const CITIES = "Springfield Riverside Franklin Greenville Bristol Clinton Fairview Salem Madison Georgetown Arlington Ashland Burlington Manchester Milton Newport Oxford Dover Hudson Kingston".split(" ");
const WORDS = "shoes shirt laptop phone case charger lamp desk chair mug book pen bag watch camera lens tripod jacket socks hat bottle towel pillow blanket speaker cable mouse keyboard monitor".split(" ");
const OS = [["iOS", "17.4.1"], ["iOS", "16.7.2"], ["Android", "14"], ["Android", "13"], ["Windows", "11"], ["macOS", "14.3"], ["Linux", "6.5"]];
const UAS = [
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.6312.99 Mobile Safari/537.36",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36 Edg/123.0.2420.81",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Safari/605.1.15",
  "Mozilla/5.0 (X11; Linux x86_64; rv:124.0) Gecko/20100101 Firefox/124.0",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:124.0) Gecko/20100101 Firefox/124.0",
];
const ERRORS = ["timeout contacting payment provider", "card declined", "address validation failed", "inventory service unavailable", "session expired"];

/** A deterministic event source: `next()` is the next NDJSON line (no newline). */
export function eventSource() {
  let s = 0x9e3779b9; // xorshift32 state
  const rnd = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
  const int = (n) => Math.floor(rnd() * n);
  const pick = (a) => a[int(a.length)];
  const hex = (n) => { let t = ""; for (let k = 0; k < n; k++) t += "0123456789abcdef"[int(16)]; return t; };
  // Never integral, so every value infers (and stays) a double: an odd multiple of 1/2^k.
  const dbl = (scale, k = 1000) => (2 * int(scale * k) + 1) / (2 * k);
  let i = 0;
  let t = Date.UTC(2026, 10, 1);
  return () => {
    t += 1 + int(60);
    const type = TYPES[int(TYPES.length)];
    const [os, osv] = pick(OS);
    const e = {
      event_id: `evt_${hex(16)}`,
      seq: i++,
      ts: new Date(t).toISOString(),
      type,
      user_id: 1 + int(2_000_000),
      session_id: `s_${hex(12)}`,
      is_mobile: os === "iOS" || os === "Android",
      country: pick(COUNTRIES),
      device: { os, os_version: osv, screen_w: pick([390, 412, 1280, 1440, 1920, 2560]), dark_mode: rnd() < 0.3 },
      geo: { city: pick(CITIES), lat: dbl(90), lon: dbl(180) },
      url: `https://shop.example.com/${pick(WORDS)}/${int(50_000)}${rnd() < 0.3 ? `?ref=${pick(WORDS)}` : ""}`,
      referrer: rnd() < 0.4 ? null : `https://${pick(["google.com", "bing.com", "t.co", "news.example.org", "mail.example.net"])}/`,
      user_agent: pick(UAS),
      latency_ms: int(2_000),
      score: dbl(1, 1e6),
      tags: Array.from({ length: 1 + int(4) }, () => pick(WORDS)),
      amount: type === "purchase" || type === "add_to_cart" ? dbl(500, 100) : null,
      currency: type === "purchase" || type === "add_to_cart" ? pick(["USD", "EUR", "GBP", "JPY"]) : null,
      quantity: type === "purchase" || type === "add_to_cart" ? 1 + int(5) : null,
      query: type === "search" ? `${pick(WORDS)} ${pick(WORDS)}` : null,
      error: type === "error" ? { code: 400 + int(200), message: pick(ERRORS), retryable: rnd() < 0.5 } : null,
    };
    return JSON.stringify(e);
  };
}

/**
 * Writes events to `path` until the file holds at least `targetBytes` (compressed if `gzip`),
 * streaming (nothing whole in memory); written under a temporary name and renamed, with a
 * `.json` beside it holding rows and NDJSON bytes, so an interrupted run is never cached.
 */
export async function generate(path, targetBytes, gzip) {
  const tmp = `${path}.tmp`;
  const file = createWriteStream(tmp);
  const gz = gzip ? createGzip({ level: 6 }) : undefined;
  let written = 0;
  if (gz) {
    gz.on("data", (d) => (written += d.byteLength));
    gz.pipe(file);
  }
  const sink = gz ?? file;
  const next = eventSource();
  let rows = 0;
  let raw = 0;
  while ((gzip ? written : raw) < targetBytes) {
    let chunk = "";
    while (chunk.length < MiB) { chunk += next() + "\n"; rows++; }
    raw += Buffer.byteLength(chunk);
    if (!sink.write(chunk)) await new Promise((r) => sink.once("drain", r));
  }
  const finished = new Promise((r) => file.once("finish", r));
  sink.end();
  await finished;
  renameSync(tmp, path);
  writeFileSync(`${path}.json`, JSON.stringify({ rows, ndjsonBytes: raw }));
}

/** The cached input (generated on first use): `{path, size, rows, ndjsonBytes, generatedMs}`. */
async function input(name, targetMb, gzip) {
  mkdirSync(OUT, { recursive: true });
  const path = join(OUT, name);
  let generatedMs;
  if (!existsSync(path) || !existsSync(`${path}.json`)) {
    const t = performance.now();
    await generate(path, targetMb * MB, gzip);
    generatedMs = performance.now() - t;
  }
  return { path, size: statSync(path).size, ...JSON.parse(readFileSync(`${path}.json`, "utf8")), generatedMs };
}

/**
 * A flat Parquet file (every column a top-level primitive, so registrable) DuckDB writes from an
 * NDJSON(.gz) input: the events' scalar columns, `ts` as a TIMESTAMPTZ. Cached like the inputs.
 */
async function flatParquet(from) {
  const path = join(OUT, `${from.path.split("/").pop().replace(/\.ndjson(\.gz)?$/, "")}-flat.parquet`);
  let generatedMs;
  if (!existsSync(path) || !existsSync(`${path}.json`)) {
    const t = performance.now();
    const { DuckDBInstance } = await import("@duckdb/node-api");
    const db = await DuckDBInstance.create(":memory:");
    const conn = await db.connect();
    await conn.run("SET TimeZone = 'UTC'");
    await conn.run(`COPY (SELECT event_id, seq::BIGINT AS seq, ts::TIMESTAMPTZ AS ts, type, user_id::BIGINT AS user_id, session_id, is_mobile, country, url, referrer,
      user_agent, latency_ms::BIGINT AS latency_ms, score::DOUBLE AS score, amount::DOUBLE AS amount, currency, quantity::BIGINT AS quantity, query
      FROM read_json('${from.path}', columns = {event_id: 'VARCHAR', seq: 'BIGINT', ts: 'VARCHAR', type: 'VARCHAR', user_id: 'BIGINT', session_id: 'VARCHAR',
        is_mobile: 'BOOLEAN', country: 'VARCHAR', url: 'VARCHAR', referrer: 'VARCHAR', user_agent: 'VARCHAR', latency_ms: 'BIGINT', score: 'DOUBLE',
        amount: 'DOUBLE', currency: 'VARCHAR', quantity: 'BIGINT', query: 'VARCHAR'})) TO '${path}.tmp' (FORMAT parquet)`);
    const rows = Number((await (await conn.runAndReadAll(`SELECT count(*) FROM read_parquet('${path}.tmp')`)).getRows())[0][0]);
    conn.closeSync();
    db.closeSync();
    renameSync(`${path}.tmp`, path);
    writeFileSync(`${path}.json`, JSON.stringify({ rows }));
    generatedMs = performance.now() - t;
  }
  return { path, size: statSync(path).size, ...JSON.parse(readFileSync(`${path}.json`, "utf8")), generatedMs };
}

// ---------------------------------------------------------------------------------------------
// Child mode: the bundle in Node, the upload read from the file on disk through an R2-like
// binding (ranges, etag preconditions; bytes outside V8's heap, as R2's are outside the isolate),
// the lake in memory (outside V8's heap too), TableDO over node:sqlite (bench-node-env.mjs).
//   mode "all":   every invocation in order: the upload message, then each message it sent (the
//                 ranges), one invocation each; the heap sampled per invocation.
//   mode "first": the upload message only (for a split object: the invocation that splits it).
//   mode "range:K": the upload message (set-up), then range K alone, measured.
// Prints {"ok", "invocations": [{what, ms, heapUsedPeak, heapUsedAtStart, acked}]}.

async function child([bundle, file, key, mode]) {
  const { nodeEnv } = await import("./bench-node-env.mjs");
  const mod = await import(pathToFileURL(bundle).href);
  const env = nodeEnv(mod);
  const size = statSync(file).size;
  const eTag = `bench-${size}`;
  const lake = env.LAKE;
  env.LAKE_BUCKET = "floe-lake";
  env.FLOE_UPLOAD_RULES = REWRITE_RULES;
  // The heap is measured here, not the lease: slowed by a tight heap limit, an invocation may pass
  // the 60 s lease and have its commit refused; 15 min is a queue consumer's wall-time limit.
  env.FLOE_LEASE_MS = String(15 * 60_000);
  env.LAKE = {
    get: async (k, opts = {}) => {
      if (k !== key) return lake.get(k, opts);
      const meta = { key, size, etag: eTag, httpEtag: `"${eTag}"`, httpMetadata: {} };
      if (opts.onlyIf?.etagMatches && opts.onlyIf.etagMatches !== eTag) return meta;
      const start = opts.range?.offset ?? 0;
      const end = opts.range?.length !== undefined ? start + opts.range.length - 1 : undefined;
      const body = Readable.toWeb(createReadStream(file, { start, end, highWaterMark: 65536 }));
      return { ...meta, body, arrayBuffer: () => new Response(body).arrayBuffer() };
    },
    // Parquet data files are not kept (production sends them to R2 and forgets them; kept, they
    // would fill the array buffers measured below); metadata, manifests and lists are.
    put: async (k, value, opts) => {
      if (!k.endsWith(".parquet")) return lake.put(k, value, opts);
      const o = await lake.put(k, new Uint8Array(0), opts);
      return o && { ...o, size: typeof value === "string" ? value.length : value.byteLength };
    },
    list: (...a) => lake.list(...a),
    delete: (...a) => lake.delete(...a),
    head: async (k) => (k === key ? { key, size, etag: eTag } : null),
  };
  const upload = { v: 1, kind: "upload", bucket: "floe-lake", key, eTag, size };
  // heapUsed: V8's heap (what --max-old-space-size bounds); arrayBuffers: the bytes of buffers
  // outside it (stream chunks, the Parquet of the open file), which a Worker's 128 MB counts too.
  let peak = 0;
  let peakAll = 0;
  const sample = () => {
    const m = process.memoryUsage();
    peak = Math.max(peak, m.heapUsed);
    peakAll = Math.max(peakAll, m.heapUsed + m.arrayBuffers);
  };
  setInterval(sample, 2).unref();
  // With BENCH_UPLOAD_LIVE_MS (set by heapRun): a full GC every that many ms, then heap used + array buffers, i.e.
  // what is live (V8 collects lazily; the 2 ms samples count garbage not yet collected).
  let livePeak = 0;
  const liveEvery = Number(process.env.BENCH_UPLOAD_LIVE_MS ?? 0);
  const timeline = [];
  if (liveEvery > 0) setInterval(() => {
    globalThis.gc();
    const m = process.memoryUsage();
    livePeak = Math.max(livePeak, m.heapUsed + m.arrayBuffers);
    if (process.env.BENCH_UPLOAD_TIMELINE) timeline.push([Math.round(performance.now()), Math.round(m.heapUsed / MB), Math.round(m.arrayBuffers / MB)]);
  }, liveEvery).unref();
  const invoke = async (bodies, what, measure = true) => {
    globalThis.gc?.();
    const start = process.memoryUsage().heapUsed;
    peak = peakAll = livePeak = 0;
    sample();
    const t = performance.now();
    const res = await mod.default.fetch(new Request("http://bench/consume", { method: "POST", body: JSON.stringify(bodies) }), env);
    const json = await res.json();
    const ms = performance.now() - t;
    sample();
    const ok = res.ok && json.acked === bodies.length && json.retried === 0;
    return { ok, sent: json.sent ?? [], row: measure ? { what, ms, heapUsedPeak: peak, withBuffersPeak: peakAll, ...(liveEvery ? { livePeak } : {}), heapUsedAtStart: start, acked: json.acked } : undefined };
  };
  const invocations = [];
  let ok = true;
  const first = await invoke([upload], "upload message", !mode.startsWith("range:"));
  ok &&= first.ok;
  if (first.row) invocations.push(first.row);
  if (mode === "all") {
    for (const m of first.sent) {
      const r = await invoke([m], `range ${m.range.index}`);
      ok &&= r.ok;
      invocations.push(r.row);
    }
  } else if (mode.startsWith("range:")) {
    const k = Number(mode.slice(6));
    const r = await invoke([first.sent[k]], `range ${k}`);
    ok &&= r.ok;
    invocations.push(r.row);
  }
  const status = await (await mod.default.fetch(new Request(`http://bench/status?table=default.${TABLE}`), env)).json();
  if (timeline.length) console.error(JSON.stringify(timeline));
  console.log(JSON.stringify({ ok, invocations, totalRecords: status.totalRecords, dataFiles: status.dataFiles }));
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------
// The benchmark.

const LIVE_MS = 200;
const heapRun = (bundle, file, key, mode, limitMb, liveMs) => {
  const args = ["--expose-gc", "--disable-warning=ExperimentalWarning", ...(limitMb ? [`--max-old-space-size=${limitMb}`, "--max-semi-space-size=1"] : [])];
  const env = { ...process.env, BENCH_UPLOAD_LIVE_MS: String(liveMs ?? 0) };
  const r = spawnSync(process.execPath, [...args, "scripts/bench-uploads.mjs", "--child", bundle, file, key, mode], { encoding: "utf8", maxBuffer: 64 * MiB, env });
  let out;
  try { out = JSON.parse(r.stdout.trim().split("\n").pop()); } catch { /* died: out of memory, or a bug */ }
  const why = (r.stderr ?? "").split("\n").filter((l) => /FATAL|heap|Error|floe:/.test(l)).slice(0, 2).join(" / ").slice(0, 300);
  return out?.ok ? out : { ...out, ok: false, error: why || `exit ${r.status}` };
};

/** The smallest old-space limit (MB, within 4) in which `mode` completes; "> 128" if not within 128; in "check" mode only 128 is tried. */
function smallestLimit(bundle, file, key, mode) {
  const capped = heapRun(bundle, file, key, mode, HEAP_CAP);
  const underCap = capped?.ok ? capped.invocations.at(-1) : undefined;
  if (!capped?.ok) return { limit: Infinity, runs: 1, error: capped.error };
  if (HEAP_MODE === "check") return { limit: HEAP_CAP, checked: true, runs: 1, underCap };
  let lo = 8, hi = HEAP_CAP, runs = 1; // the smallest limit that completes lies in (lo, hi]
  while (hi - lo > 4) {
    const mid = Math.floor((lo + hi) / 2);
    runs++;
    if (heapRun(bundle, file, key, mode, mid)?.ok) hi = mid; else lo = mid;
  }
  return { limit: hi, runs, underCap };
}

const limitText = (l) => (l.limit === Infinity ? `does NOT complete within a V8 old-space limit of ${HEAP_CAP} MB (${l.error})` : l.checked ? `completes within a V8 old-space limit of ${HEAP_CAP} MB (checked, not searched)` : `completes within a V8 old-space limit of ${l.limit} MB (smallest found, within 4 MB): inside ${HEAP_CAP} MB`);

/** `{ms, rows, columns}` of DuckDB (one thread) converting the file to Parquet (a Parquet input, or a glob of them, is rewritten into one file). */
export async function duckdb(path) {
  const { DuckDBInstance } = await import("@duckdb/node-api");
  const db = await DuckDBInstance.create(":memory:");
  const conn = await db.connect();
  await conn.run("SET threads=1");
  const out = join(OUT, "uploads-duckdb.parquet");
  rmSync(out, { force: true });
  const t = performance.now();
  await conn.run(`COPY (SELECT * FROM ${path.endsWith(".parquet") ? "read_parquet" : "read_json"}('${path}')) TO '${out}' (FORMAT parquet)`);
  const ms = performance.now() - t;
  const rows = Number((await (await conn.runAndReadAll(`SELECT count(*) FROM read_parquet('${out}')`)).getRows())[0][0]);
  const columns = Number((await (await conn.runAndReadAll(`SELECT count(*) FROM (DESCRIBE SELECT * FROM read_parquet('${out}'))`)).getRows())[0][0]);
  conn.closeSync();
  db.closeSync();
  rmSync(out, { force: true });
  return { ms, rows, columns };
}

const procStatus = (pid, key) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))[1]) * 1024;

/**
 * The growth of the workerd processes' peak RSS during `fn` (Linux: VmHWM reset by `clear_refs` 5),
 * the largest over the processes; undefined where the peak cannot be reset.
 */
async function rssGrowth(pids, fn) {
  const before = pids.map((p) => procStatus(p, "VmRSS"));
  let reset = pids.length > 0;
  for (const p of pids) { try { writeFileSync(`/proc/${p}/clear_refs`, "5"); } catch { reset = false; } }
  const result = await fn();
  const growth = reset ? Math.max(...pids.map((p, i) => procStatus(p, "VmHWM") - before[i])) : undefined;
  return { result, growth };
}

/**
 * Runs the benchmark and answers its printed lines. Starts its own wrangler dev (bench/uploads.wrangler.toml).
 */
export async function uploadsBench() {
  const { startDev, workerdPids } = await import("./bench-dev.mjs");
  const t0 = performance.now();
  const gz = await input(`uploads-events-${GZ_MB}mb.ndjson.gz`, GZ_MB, true);
  const nd = NDJSON_MB > 0 ? await input(`uploads-events-${NDJSON_MB}mb.ndjson`, NDJSON_MB, false) : undefined;
  const files = [{ ...gz, kind: "gzip", key: `incoming/${TABLE}/events-${GZ_MB}mb.ndjson.gz` }, ...(nd ? [{ ...nd, kind: "ndjson", key: `incoming/${TABLE}/events-${NDJSON_MB}mb.ndjson` }] : [])];
  if (PARQUET) {
    const flat = await flatParquet(nd ?? gz);
    files.push({ ...flat, kind: "parquet-register", key: `incoming/${TABLE}/events-flat.parquet` }, { ...flat, kind: "parquet-rewrite", key: "rewrite/events-flat.parquet" });
  }

  // Ours in workerd: each file into its own fresh state (so each table holds that file's rows alone).
  for (const f of files) {
    const dev = await startDev({
      config: "bench/uploads.wrangler.toml",
      name: `uploads-${f.kind}`,
      vars: (b) => ({ S3_ENDPOINT: `${b}/cdn-cgi/local/r2/s3`, FLOE_UPLOAD_RULES: REWRITE_RULES }),
      probe: async (b) => { if ((await fetch(b)).status !== 404) throw new Error("not ready"); },
    });
    try {
      const tp = performance.now();
      const putRes = await fetch(`${dev.base}/object?key=${encodeURIComponent(f.key)}`, { method: "PUT", body: Readable.toWeb(createReadStream(f.path, { highWaterMark: MiB })), duplex: "half", headers: { "content-length": String(f.size) } });
      const put = await putRes.json();
      if (!putRes.ok || put.size !== f.size) throw new Error(`put ${f.key}: ${putRes.status} ${JSON.stringify(put)}`);
      f.putMs = performance.now() - tp;
      const pids = workerdPids(dev.pid);
      const consume = async (bodies) => {
        const t = performance.now();
        const { result: res, growth } = await rssGrowth(pids, async () => { const r = await fetch(`${dev.base}/consume`, { method: "POST", body: JSON.stringify(bodies) }); return { ok: r.ok, status: r.status, json: await r.json() }; });
        const json = res.json;
        // A retry is the consumer's answer to a failure: e.g. a commit refused because the claim's lease (60 s) ended first.
        if (!res.ok || json.acked !== bodies.length || json.retried) throw new Error(`consume ${JSON.stringify(bodies).slice(0, 200)}: ${res.status} ${JSON.stringify(json).slice(0, 500)} (retried: the commit failed, e.g. the claim's lease ended before it; wrangler dev's log has the reason)`);
        return { ...json, wallMs: performance.now() - t, rss: growth };
      };
      // The upload message as the notification (or the upload endpoint, or the reconciler) queues it.
      const upload = { v: 1, kind: "upload", bucket: "floe-lake", key: f.key, eTag: put.eTag, size: put.size };
      const tw = performance.now();
      const first = await consume([upload]);
      f.invocations = [{ what: first.sent.length ? `the upload message: split into ${first.sent.length} range messages` : "the upload message: the whole object", ms: first.wallMs, rss: first.rss }];
      // The range messages it sent, each delivered as its own batch (its own invocation).
      for (const m of first.sent) {
        const r = await consume([m]);
        f.invocations.push({ what: `range ${m.range.index} (bytes ${m.range.start}–${m.range.end})`, ms: r.wallMs, rss: r.rss, bytes: m.range.end - m.range.start });
      }
      f.ms = performance.now() - tw;
      f.status = await (await fetch(`${dev.base}/status?table=default.${TABLE}`)).json();
      const entry = f.status.uploads.find((u) => u.key === f.key);
      if (f.status.totalRecords !== f.rows || entry?.state !== "ingested" || entry.rows !== f.rows) throw new Error(`${f.key}: table holds ${f.status.totalRecords} rows, expected ${f.rows}; ledger ${JSON.stringify(entry)}`);
    } finally {
      dev.stop();
    }
  }

  // The heap of every invocation: the same bundle in Node (child mode above).
  execFileSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", join(process.cwd(), OUT, "uploads-bundle"), "-c", "bench/uploads.wrangler.toml"], { stdio: "ignore" });
  const bundle = join(process.cwd(), OUT, "uploads-bundle", "uploads-worker.js");
  for (const f of files) {
    const sampled = heapRun(bundle, f.path, f.key, "all", undefined, LIVE_MS);
    if (!sampled.ok || sampled.totalRecords !== f.rows) throw new Error(`${f.key} in Node: ${JSON.stringify(sampled)}`);
    f.node = sampled;
    const modes = f.invocations.length === 1 ? ["all"] : ["first", ...f.invocations.slice(1).map((_, k) => `range:${k}`)];
    f.limits = modes.map((m) => smallestLimit(bundle, f.path, f.key, m));
  }

  // DuckDB, one thread, the same files.
  for (const f of files) f.duck = files.find((g) => g.path === f.path && g.duck)?.duck ?? (await duckdb(f.path));
  // The local buckets hold a copy of each file and its Parquet: not kept (the inputs stay cached).
  for (const f of files) rmSync(join(OUT, `state-uploads-${f.kind}`), { recursive: true, force: true });

  const lines = [];
  for (const f of files) {
    const s = f.status;
    if (f.kind.startsWith("parquet")) {
      const how = f.kind === "parquet-register" ? "registered as it is (footer read, CopyObject, commit)" : "rewritten (rule \"parquet\": \"rewrite\": read a row group at a time, Parquet written anew)";
      const inv = f.invocations[0];
      const n = f.node.invocations[0];
      const l = f.limits[0];
      lines.push(`upload of a flat Parquet file (${f.path}: ${mb(f.size)} MB, ${f.rows} rows, ${s.fields} columns, written by DuckDB), ${how}: ${(f.ms / 1000).toFixed(2)} s, ${(f.size / MB / (f.ms / 1000)).toFixed(1)} MB/s, ${Math.round(f.rows / (f.ms / 1000))} rows/s; ${s.totalRecords} rows and ${s.dataFiles} data files in the table; the workerd process's peak RSS grew ${inv.rss === undefined ? "n/a" : `${mb(inv.rss)} MB`}`);
      lines.push(`  heap of the invocation (Node, same bundle): peak ${mb(n.heapUsedPeak)} MB with no limit (${mb(n.withBuffersPeak)} MB with array buffers, V8 collecting lazily); live (a full GC every ${LIVE_MS} ms): ${n.livePeak ? `heap used + array buffers ≤ ${mb(n.livePeak)} MB` : "not sampled (shorter than that)"}; ${limitText(l)}`);
      lines.push(`  duckdb (threads=1, COPY (SELECT * FROM read_parquet(…)) TO parquet): ${(f.duck.ms / 1000).toFixed(2)} s; ratio upload ${f.kind}/duckdb (speed): ${(f.duck.ms / f.ms).toFixed(2)}`);
      continue;
    }
    const ndjsonMbps = f.ndjsonBytes / MB / (f.ms / 1000);
    const head = f.kind === "gzip"
      ? `large upload, gzip (${f.path}: ${mb(f.size)} MB NDJSON.gz = ${mb(f.ndjsonBytes)} MB NDJSON, ${f.rows} events of ~${Math.round(f.ndjsonBytes / f.rows)} B, ${s.fields} columns incl. a struct, a list and nulls; put into the local R2 bucket in ${(f.putMs / 1000).toFixed(1)} s; one upload message → the real consumer and TableDO in workerd, Parquet and metadata through the local S3 API)`
      : `large upload, NDJSON (${f.path}: ${mb(f.size)} MB, ${f.rows} events, split into ${f.invocations.length - 1} ranges of 64 MiB; same path; each range message delivered as its own queue batch)`;
    lines.push(`${head}: ${f.invocations.length} invocation(s), ${(f.ms / 1000).toFixed(1)} s, ${f.kind === "gzip" ? `${(f.size / MB / (f.ms / 1000)).toFixed(1)} MB/s compressed, ` : ""}${ndjsonMbps.toFixed(1)} MB/s NDJSON, ${Math.round(f.rows / (f.ms / 1000))} rows/s; ${s.totalRecords} rows and ${s.dataFiles} data files in the table, upload ingested once`);
    f.invocations.forEach((inv, k) => {
      const n = f.node.invocations[k];
      const l = f.invocations.length === 1 ? f.limits[0] : f.limits[k];
      const speed = inv.bytes ? `, ${(inv.bytes / MB / (inv.ms / 1000)).toFixed(1)} MB/s` : "";
      lines.push(`  invocation ${k + 1}, ${inv.what}: ${(inv.ms / 1000).toFixed(2)} s in workerd${speed}; the workerd process's peak RSS grew ${inv.rss === undefined ? "n/a" : `${mb(inv.rss)} MB`}`);
      lines.push(`    heap of the invocation (Node, same bundle): heap used ${mb(n.heapUsedAtStart)} MB before it (code, TableDO); peak, sampled every 2 ms: ${mb(n.heapUsedPeak)} MB with no limit (V8 collects lazily), ${l.underCap ? `${mb(l.underCap.heapUsedPeak)} MB under a ${HEAP_CAP} MB old-space limit (${mb(l.underCap.withBuffersPeak)} MB with array buffers)` : "n/a"}; live (a full GC every ${LIVE_MS} ms): ${n.livePeak ? `heap used + array buffers ≤ ${mb(n.livePeak)} MB` : "not sampled (shorter than that)"}; ${limitText(l)}`);
    });
    const duckMbps = f.ndjsonBytes / MB / (f.duck.ms / 1000);
    lines.push(`  duckdb (threads=1, COPY (SELECT * FROM read_json('${f.path}')) TO parquet, ${f.duck.rows} rows, ${f.duck.columns} columns): ${(f.duck.ms / 1000).toFixed(1)} s, ${f.kind === "gzip" ? `${(f.size / MB / (f.duck.ms / 1000)).toFixed(1)} MB/s compressed, ` : ""}${duckMbps.toFixed(1)} MB/s NDJSON`);
    lines.push(`  ratio upload ${f.kind}/duckdb: ${(ndjsonMbps / duckMbps).toFixed(2)}`);
  }
  const gen = [...new Set(files.filter((f) => f.generatedMs).map((f) => `${f.path} generated in ${(f.generatedMs / 1000).toFixed(0)} s`))];
  lines.push(`  (large uploads took ${((performance.now() - t0) / 1000).toFixed(0)} s in all${gen.length ? `; ${gen.join(", ")}, cached for the next run` : ""}; sizes: BENCH_UPLOAD_GZ_MB=${GZ_MB}, BENCH_UPLOAD_NDJSON_MB=${NDJSON_MB}, BENCH_UPLOAD_PARQUET=${PARQUET ? 1 : 0}; heap limits: BENCH_UPLOAD_HEAP=${HEAP_MODE})`);
  return lines;
}

if (process.argv[2] === "--child") await child(process.argv.slice(3));
else if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const line of await uploadsBench()) console.log(line);
  process.exit(0);
}
