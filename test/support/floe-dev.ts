import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { icebergRead } from "icebird";
import { readManifest, readManifestList } from "../../src/iceberg/manifest-read.js";
import { currentSnapshot, type TableMetadata } from "../../src/iceberg/metadata.js";
import { loadTable, tableLocation, type TableLocation } from "../../src/iceberg/table.js";
import { S3Store } from "../../src/storage/s3-store.js";
import { duckdb } from "./duckdb.js";
import { tempFile } from "./temp-file.js";
import { freePort, startWranglerDev, type WranglerDev } from "./wrangler-dev.js";

/** The local credentials of the lake bucket (wrangler.toml, `local_dev.experimental_s3_credentials`). */
export const LAKE = { bucket: "floe-lake", accessKeyId: "floe-dev-access-key", secretAccessKey: "floe-dev-secret-key", warehouse: "warehouse" } as const;
// The reader-side helper the demo uses (scripts/lake-fetch.mjs). It is plain JavaScript without a
// declaration file: imported by URL so TypeScript does not ask for one, and typed here.
type PointFetchAtLake = (o: { endpoint: string; accessKeyId: string; secretAccessKey: string }) => () => void;
const LAKE_FETCH = new URL("../../scripts/lake-fetch.mjs", import.meta.url).href;
const pointFetchAtLake = async (o: Parameters<PointFetchAtLake>[0]) => ((await import(LAKE_FETCH)) as { pointFetchAtLake: PointFetchAtLake }).pointFetchAtLake(o);

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export const INGEST_TOKEN = "e2e-ingest-token";
export const ADMIN_TOKEN = "e2e-admin-token";

/** A `wrangler dev` running Floe, with everything a test needs to talk to it and to read its lake. */
export interface FloeDev extends WranglerDev {
  /** An S3Store on the lake bucket through the S3 API this wrangler dev serves (for reading what Floe wrote). */
  lake: S3Store;
  /** `fetch` against the Worker, answering the status and the parsed JSON body (or the text when it is not JSON). */
  call(path: string, init?: RequestInit): Promise<{ status: number; body: any; headers: Headers }>;
  /** The table's status (`GET /v1/tables/{t}`), or undefined on 404. */
  status(table: string): Promise<any | undefined>;
}

/**
 * Starts Floe under `wrangler dev` on a port chosen here first, so that `S3_ENDPOINT` (the S3 API
 * the consumer and the Durable Object write the lake through, served by this same wrangler dev)
 * can name it: `startWranglerDev` picks its port internally and only reports it once started,
 * too late to pass as a `--var`. Tokens, S3 credentials and the test knobs are passed as vars as
 * well, so the run does not depend on a developer's `.dev.vars` (vars given here override it).
 */
export async function startFloe(vars: Record<string, string> = {}, opts: { timeoutMs?: number; batchTimeoutS?: number } = {}): Promise<FloeDev> {
  let lastError: unknown;
  const config = opts.batchTimeoutS === undefined ? undefined : consumerConfig(opts.batchTimeoutS);
  // The port is free when picked; another process could take it before wrangler binds (rare): try again then.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const s3Endpoint = `http://127.0.0.1:${port}/cdn-cgi/local/r2/s3`;
    let dev: WranglerDev;
    try {
      dev = await startWranglerDev({
        port,
        config,
        timeoutMs: opts.timeoutMs ?? 90_000,
        vars: {
          FLOE_INGEST_TOKEN: INGEST_TOKEN,
          FLOE_ADMIN_TOKEN: ADMIN_TOKEN,
          S3_ENDPOINT: s3Endpoint,
          S3_ACCESS_KEY_ID: LAKE.accessKeyId,
          S3_SECRET_ACCESS_KEY: LAKE.secretAccessKey,
          // Neutral unless a test asks: a developer's .dev.vars must not inject faults or shorten leases.
          FLOE_FAULTS: "",
          FLOE_LEASE_MS: "60000",
          ...vars,
        },
      });
    } catch (e) {
      lastError = e;
      if (/EADDRINUSE|address already in use/i.test(String((e as Error).message))) continue;
      throw e;
    }
    if (dev.s3Endpoint !== s3Endpoint) throw new Error(`wrangler dev serves S3 at ${dev.s3Endpoint}, not ${s3Endpoint}`);
    const lake = new S3Store({ endpoint: dev.s3Endpoint, bucket: LAKE.bucket, accessKeyId: LAKE.accessKeyId, secretAccessKey: LAKE.secretAccessKey });
    const call: FloeDev["call"] = async (path, init = {}) => {
      const res = await fetch(`${dev.url}${path}`, { ...init, signal: init.signal ?? AbortSignal.timeout(30_000) });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON: keep the text, so the assertion that expected JSON shows what came instead
      }
      return { status: res.status, body, headers: res.headers };
    };
    const status: FloeDev["status"] = async (table) => {
      const r = await call(`/v1/tables/${table}`, { headers: { Authorization: `Bearer ${INGEST_TOKEN}` } });
      if (r.status === 404) return undefined;
      if (r.status !== 200) throw new Error(`GET /v1/tables/${table} answered ${r.status}: ${JSON.stringify(r.body)}`);
      return r.body;
    };
    const stop = async () => {
      await dev.stop();
      if (config) rmSync(config, { force: true });
    };
    return { ...dev, stop, lake, call, status };
  }
  throw lastError;
}

/**
 * A copy of wrangler.toml whose ingest consumer waits `seconds` for a batch (instead of 2): a test
 * can then change a table after events were queued and before the consumer writes them. Kept beside
 * wrangler.toml (its paths are relative to it) and removed by `stop`.
 */
function consumerConfig(seconds: number): string {
  const toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  const changed = toml.replace(/(queue = "floe-ingest"\nmax_batch_size = \d+\nmax_batch_timeout = )\d+/, `$1${seconds}`);
  if (changed === toml) throw new Error("wrangler.toml: the floe-ingest consumer's max_batch_timeout was not found");
  const path = join(ROOT, `.wrangler-e2e-${process.pid}-${Math.random().toString(36).slice(2)}.toml`);
  writeFileSync(path, changed);
  return path;
}

/**
 * Polls the table's status until `totalRecords` reaches `count` (or passes it: the caller's
 * assertion then shows the excess) or `timeoutMs` runs out; answers the last status either way.
 */
export async function waitForRecords(dev: FloeDev, table: string, count: number, timeoutMs: number, everyMs = 500): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: any;
  for (;;) {
    try {
      last = (await dev.status(table)) ?? last;
    } catch {
      // A transient failure of the status call is not what is being waited for: poll again.
    }
    if ((last?.totalRecords ?? 0) >= count || Date.now() >= deadline) return last;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Where a table `namespace.table` (or `table`, in namespace `default`) lives in the local lake. */
export function locationFor(table: string): TableLocation {
  const [ns, name] = table.includes(".") ? table.split(".") : ["default", table];
  return tableLocation(LAKE.bucket, LAKE.warehouse, ns, name);
}

export interface LakeWalk {
  metadata: TableMetadata;
  /** Store keys of the data files of the current snapshot. */
  currentDataFiles: string[];
  /** Every file any snapshot references (manifest lists, manifests, data files) that the lake does not hold. */
  missing: string[];
  /** Files referenced per snapshot, for the record. */
  snapshots: number;
  manifests: number;
  dataFiles: number;
}

/**
 * Walks every snapshot of a table through the S3 API: its manifest list, every manifest it names,
 * and every data file those list (HEAD: present and of the size the manifest says).
 */
export async function walkLake(lake: S3Store, loc: TableLocation): Promise<LakeWalk> {
  const t = await loadTable(lake, loc);
  if (!t) throw new Error(`no table at ${loc.uri}`);
  const key = (uri: string) => {
    if (!uri.startsWith(`${loc.uri}/`)) throw new Error(`${uri} is outside the table at ${loc.uri}`);
    return `${loc.key}/${uri.slice(loc.uri.length + 1)}`;
  };
  const missing: string[] = [];
  const seenManifests = new Set<string>();
  const seenFiles = new Map<string, boolean>();
  const current = currentSnapshot(t.metadata);
  let currentDataFiles: string[] = [];
  for (const snap of t.metadata.snapshots) {
    const list = await lake.get(key(snap["manifest-list"]));
    if (!list) {
      missing.push(snap["manifest-list"]);
      continue;
    }
    const files: string[] = [];
    for (const m of readManifestList(list)) {
      seenManifests.add(m.manifestPath);
      const mb = await lake.get(key(m.manifestPath));
      if (!mb) {
        missing.push(m.manifestPath);
        continue;
      }
      for (const e of readManifest(mb).entries) {
        const path = e.dataFile.filePath;
        // Status 2 (deleted) entries name files a compaction replaced: not part of the snapshot,
        // and deleted once the snapshots that had them live expire.
        if (Number(e.status) === 2) continue;
        files.push(key(path));
        if (!seenFiles.has(path)) {
          const info = await lake.head(key(path));
          const ok = info !== null && info.size === Number(e.dataFile.fileSizeInBytes);
          seenFiles.set(path, ok);
          if (!ok) missing.push(info ? `${path} (size ${info.size}, manifest says ${e.dataFile.fileSizeInBytes})` : path);
        }
      }
    }
    if (snap === current) currentDataFiles = files;
  }
  return { metadata: t.metadata, currentDataFiles, missing, snapshots: t.metadata.snapshots.length, manifests: seenManifests.size, dataFiles: seenFiles.size };
}

/**
 * Every row of the table as icebird (a reader we did not write) reads it from the metadata file
 * Floe reported (`metadataLocation`), over the lake's S3 API: `pointFetchAtLake` routes its
 * `https://{bucket}.s3.amazonaws.com/…` requests to this wrangler dev, signed with aws4fetch.
 */
export async function icebirdRows(dev: FloeDev, metadataLocation: string): Promise<Record<string, unknown>[]> {
  const m = /^(s3:\/\/.+)\/metadata\/([^/]+\.metadata\.json)$/.exec(metadataLocation);
  if (!m) throw new Error(`not a metadata location: ${metadataLocation}`);
  const restore = await pointFetchAtLake({ endpoint: dev.s3Endpoint, accessKeyId: LAKE.accessKeyId, secretAccessKey: LAKE.secretAccessKey });
  try {
    return await icebergRead({ tableUrl: m[1], metadataFileName: m[2] });
  } finally {
    restore();
  }
}

/**
 * Runs `sql` in DuckDB over the given data files (store keys), downloaded through the S3 API into
 * temporary files: `{files}` in the SQL is replaced with `read_parquet([...], union_by_name = true)`
 * (files written before a column was added lack it; DuckDB reads it as null).
 */
export async function duckdbOverFiles(lake: S3Store, keys: readonly string[], sql: string): Promise<Record<string, unknown>[]> {
  if (!keys.length) throw new Error("no data files to read");
  const paths: string[] = [];
  for (const key of keys) {
    const bytes = await lake.get(key);
    if (!bytes) throw new Error(`data file ${key} is missing from the lake`);
    paths.push(tempFile(key.split("/").pop()!, bytes));
  }
  const list = paths.map((p) => `'${p.replace(/'/g, "''")}'`).join(", ");
  return duckdb(sql.replaceAll("{files}", `read_parquet([${list}], union_by_name = true)`));
}
