// What the bench Worker's bundle needs to run in Node for `scripts/bench-heap.mjs`: a stand-in for
// `cloudflare:workers`, an R2 bucket in memory, and Durable Object namespaces that run the bundle's
// own TableDO class over node:sqlite (the same SQL as workerd's SQLite storage). Only the
// runtime is stood in for: the consumer, the table object and the Iceberg code are the bundle's.
import { registerHooks } from "node:module";

const DO_BASE = "export class DurableObject { constructor(ctx, env) { this.ctx = ctx; this.env = env; } }";
registerHooks({
  resolve: (specifier, context, next) =>
    specifier === "cloudflare:workers" ? { url: `data:text/javascript,${encodeURIComponent(DO_BASE)}`, shortCircuit: true } : next(specifier, context),
});

/** The subset of R2Bucket that src/storage/r2-store.ts calls. Bytes live outside V8's heap, as in R2. */
class MemoryBucket {
  objects = new Map();
  written = new Map();
  async put(key, value, opts = {}) {
    if (opts.onlyIf?.etagDoesNotMatch === "*" && this.objects.has(key)) return null;
    const bytes = typeof value === "string" ? new TextEncoder().encode(value) : new Uint8Array(value);
    this.objects.set(key, bytes);
    this.written.set(key, new Date());
    return { key, size: bytes.byteLength, httpEtag: `"${this.objects.size}"` };
  }
  async get(key, opts = {}) {
    const whole = this.objects.get(key);
    if (!whole) return null;
    const r = opts.range;
    const b = r ? whole.subarray(r.offset ?? 0, r.length === undefined ? undefined : (r.offset ?? 0) + r.length) : whole;
    return { size: whole.byteLength, arrayBuffer: async () => b.slice().buffer, body: new Blob([b]).stream() };
  }
  /** R2's multipart upload, parts kept until complete (the parts are equal except the last, as R2 wants). */
  async createMultipartUpload(key) {
    const parts = [];
    return {
      uploadPart: async (n, bytes) => {
        parts[n - 1] = new Uint8Array(bytes);
        return { partNumber: n, etag: String(n) };
      },
      complete: async () => {
        const size = parts.reduce((a, p) => a + p.byteLength, 0);
        const all = new Uint8Array(size);
        let at = 0;
        for (const p of parts) all.set(p, (at += p.byteLength) - p.byteLength);
        this.objects.set(key, all);
        return { key, size, httpEtag: `"${this.objects.size}"` };
      },
      abort: async () => {},
    };
  }
  async head(key) {
    const b = this.objects.get(key);
    return b ? { key, size: b.byteLength } : null;
  }
  async list({ prefix = "", cursor, limit = 1000, delimiter }) {
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix) && (!cursor || k > cursor)).sort();
    if (delimiter) {
      // As R2 does: keys below the next delimiter fold into one `delimitedPrefixes` entry.
      const prefixes = new Set();
      const direct = keys.filter((k) => {
        const at = k.indexOf(delimiter, prefix.length);
        if (at === -1) return true;
        prefixes.add(k.slice(0, at + delimiter.length));
        return false;
      });
      return { objects: direct.map((key) => ({ key, size: this.objects.get(key).byteLength, httpEtag: '"x"', uploaded: this.written.get(key) ?? new Date() })), delimitedPrefixes: [...prefixes], truncated: false };
    }
    const page = keys.slice(0, limit);
    return { objects: page.map((key) => ({ key, size: this.objects.get(key).byteLength, httpEtag: '"x"', uploaded: this.written.get(key) ?? new Date() })), delimitedPrefixes: [], truncated: keys.length > limit, cursor: page.at(-1) };
  }
  async delete(keys) {
    for (const k of [keys].flat()) this.objects.delete(k);
  }
}

/** A queue producer that keeps what is sent, for the caller to deliver to the consumer itself (`take`). */
class MemoryQueue {
  messages = [];
  async send(body) {
    this.messages.push(body);
  }
  async sendBatch(msgs) {
    for (const m of msgs) this.messages.push(m.body);
  }
  /** What was sent since the last take, as a MessageBatch the consumer accepts (ack/retry recorded on each message). */
  take(queue = "floe-ingest") {
    const bodies = this.messages.splice(0);
    return { queue, messages: bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body, acked: false, retried: false, ack() { this.acked = true; }, retry() { this.retried = true; } })), ackAll() {}, retryAll() {} };
  }
}

/** `ctx` of a SQLite-backed Durable Object: `storage.sql.exec` with `one`/`toArray`, `transactionSync`, alarms. */
function objectState() {
  // Loaded on first use, so a bundle without Durable Objects runs with nothing extra in its heap.
  const { DatabaseSync } = process.getBuiltinModule("node:sqlite");
  const db = new DatabaseSync(":memory:");
  let alarm = null;
  const statements = new Map(); // workerd caches prepared statements too; preparing per call would dominate
  const exec = (query, ...params) => {
    if (!statements.has(query)) statements.set(query, db.prepare(query));
    const rows = statements.get(query).all(...params);
    return { toArray: () => rows, one: () => { if (rows.length !== 1) throw new Error(`expected one row, got ${rows.length}`); return rows[0]; }, [Symbol.iterator]: () => rows[Symbol.iterator]() };
  };
  const transactionSync = (fn) => {
    db.exec("BEGIN");
    try { const r = fn(); db.exec("COMMIT"); return r; } catch (e) { db.exec("ROLLBACK"); throw e; }
  };
  return { storage: { sql: { exec }, transactionSync, getAlarm: async () => alarm, setAlarm: async (t) => void (alarm = t) }, blockConcurrencyWhile: async (fn) => fn() };
}

/** The bench Worker's env (bench/wrangler.toml) with the lake in memory, reached through the binding. */
export function nodeEnv(bundle) {
  const objects = new Map();
  const env = { LAKE_BUCKET: "floe-bench", WAREHOUSE: "warehouse", LAKE_ACCESS: "binding", LAKE: new MemoryBucket(), INGEST: new MemoryQueue() };
  env.TABLES = {
    idFromName: (name) => name,
    get: (id) => objects.get(id) ?? objects.set(id, new bundle.TableDO(objectState(), env)).get(id),
  };
  // The catalog's directory, which a table object tells when it creates a table.
  const catalogs = new Map();
  env.CATALOG = {
    idFromName: (name) => name,
    get: (id) => catalogs.get(id) ?? catalogs.set(id, new bundle.CatalogDO(objectState(), env)).get(id),
  };
  return env;
}
