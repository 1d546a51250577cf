import { lakeConfig, leaseMs, splitBytes, type Env } from "../config.js";
import { DEFAULT_BATCH_ROWS, DEFAULT_RECORD_BYTES, decodeGroups, uploadBytes, type ColumnSource } from "../decode/index.js";
import { ClaimStatus } from "../durable/keys.js";
import type { TableInfo } from "../durable/table-info.js";
import { FloeError, isFloeError, rpc } from "../errors.js";
import { commitBatch, type Abortable } from "../pipeline/commit-batch.js";
import { retryOrQuarantine } from "../pipeline/retry.js";
import { TableWriter, type Written } from "../pipeline/table-writer.js";
import type { UploadMessage } from "../queue/messages.js";
import { CREATE_ACTIONS, R2Notification } from "./notification.js";
import { lineSlice } from "./range.js";
import { objectChanged, rangedObject, registerParquet } from "./register.js";
import { routeObject, type Route } from "./routing.js";

/**
 * Uploads a consumer invocation reads beyond the first that is "heavy" (a range, or a whole object
 * over this size) are handed back to the queue: one invocation reads at most about one range's
 * worth of a large upload, within the CPU limit however the queue batches the range messages.
 */
const HEAVY_BYTES = 16 * 1024 * 1024;

/** `{bucket}/{key}#{eTag}`: one object version, the unit of exactly-once for uploads. */
export const objectId = (m: { bucket: string; key: string; eTag: string }) => `${m.bucket}/${m.key}#${m.eTag}`;

/**
 * An R2 notification as an upload message, or undefined when there is nothing to ingest: deletes
 * are recorded in the table's ledger (not ingested), and objects outside the upload prefixes or of
 * another bucket are not Floe's.
 */
export async function fromNotification(env: Env, body: unknown): Promise<UploadMessage | undefined> {
  const n = R2Notification.parse(body);
  if (n.bucket !== lakeConfig(env).LAKE_BUCKET) return undefined;
  let route: Route;
  try {
    route = routeObject(env, n.object.key);
  } catch {
    if (!CREATE_ACTIONS.has(n.action)) return undefined;
    return { v: 1, kind: "upload", bucket: n.bucket, key: n.object.key, eTag: n.object.eTag ?? "", size: n.object.size ?? 0 };
  }
  if (!CREATE_ACTIONS.has(n.action)) {
    await rpc(env.TABLES.get(env.TABLES.idFromName(route.table)).deletedUpload(route.table, n.object.key));
    return undefined;
  }
  return { v: 1, kind: "upload", bucket: n.bucket, key: n.object.key, eTag: n.object.eTag ?? "", size: n.object.size ?? 0 };
}

/** An upload whose reading takes most of an invocation's CPU: a range, or a whole object over 16 MiB. */
export const isHeavyUpload = (m: UploadMessage) => m.range !== undefined || m.size > HEAVY_BYTES;

/**
 * Ingests upload messages one object (or range) at a time: each is its own claim and commit. The
 * consumer hands over at most one heavy upload per invocation (see `isHeavyUpload`).
 */
export async function consumeUploads(env: Env, items: { msg: Message<unknown>; body: UploadMessage }[]): Promise<void> {
  for (const { msg, body } of items) {
    try {
      const outcome = await ingestObject(env, body);
      if (outcome === "busy") msg.retry({ delaySeconds: Math.ceil(leaseMs(env) / 1000) });
      else msg.ack();
    } catch (e) {
      await retryOrQuarantine(env, "_uploads", msg, e, `upload ${body.key}`);
    }
  }
}

type Outcome = "ingested" | "duplicate" | "failed" | "split" | "busy";

async function ingestObject(env: Env, m: UploadMessage): Promise<Outcome> {
  let route: Route;
  try {
    route = routeObject(env, m.key);
  } catch (e) {
    if (!isFloeError(e, "invalid_input")) throw e;
    const table = e.details?.table as string | undefined;
    // No table to hold a failed ledger entry: the quarantine keeps the reason.
    if (!table) throw new FloeError("not_found", e.message);
    const stub = env.TABLES.get(env.TABLES.idFromName(table));
    await rpc(stub.seeUpload(table, { object: objectId(m), key: m.key, etag: m.eTag, size: m.size, ranges: 1 }));
    await rpc(stub.failUpload(table, objectId(m), e.message));
    return "failed";
  }
  const stub = env.TABLES.get(env.TABLES.idFromName(route.table));
  const object = objectId(m);
  const split = splitBytes(env);
  const splittable = route.format.format === "ndjson" && !route.format.gzip && m.size > split;
  if (!m.range) {
    const ranges = splittable ? Math.ceil(m.size / split) : 1;
    const state = await rpc(stub.seeUpload(route.table, { object, key: m.key, etag: m.eTag, size: m.size, ranges }));
    if (state === "ingested" || state === "deleted") return "duplicate";
    if (splittable) {
      // One message per range, sent together; each range is claimed and committed on its own.
      const msgs: UploadMessage[] = Array.from({ length: ranges }, (_, index) => ({ ...m, range: { start: index * split, end: Math.min(m.size, (index + 1) * split), index, count: ranges } }));
      for (let i = 0; i < msgs.length; i += 100) await env.INGEST.sendBatch(msgs.slice(i, i + 100).map((body) => ({ body })));
      return "split";
    }
  }
  const dedupeKey = m.range ? `${object}:${m.range.start}-${m.range.end}` : object;
  let outcome: Outcome = "ingested";
  try {
    await commitBatch(
      env,
      route.table,
      [dedupeKey],
      async (claim, aborts) => {
        if (claim.status[0] !== ClaimStatus.Fresh) {
          outcome = claim.status[0] === ClaimStatus.Duplicate ? "duplicate" : "busy";
          return null;
        }
        const register = route.parquet === "register" && route.format.format === "parquet" && !route.format.gzip;
        const written =
          (register ? await registerParquet(env, m, route, claim.info, aborts) : undefined) ??
          (await writeObject(env, m, route, claim.info, aborts, () => rpc(stub.renew(route.table, claim.fence))));
        if (written.rows === 0) throw new FloeError("invalid_input", m.size === 0 ? "the object is empty (zero bytes)" : "the object holds no rows");
        return written;
      },
      { carries: (w) => ({ uploads: [{ object, rows: w.rows }] }), log: () => ({ object, key: m.key, ...(m.range ? { range: `${m.range.index + 1}/${m.range.count}` } : {}) }) },
    );
  } catch (e) {
    // Atomic per object: a file that cannot be read, or whose rows do not fit, is not ingested at
    // all; it is marked failed with the reason and left in place for a replay.
    if (isFloeError(e, "invalid_input") || isFloeError(e, "too_large") || isFloeError(e, "schema_conflict")) {
      const where = m.range ? ` (byte range ${m.range.start}-${m.range.end} of ${m.size})` : "";
      await rpc(stub.failUpload(route.table, object, `${e.message}${where}`));
      return "failed";
    }
    throw e;
  }
  if (outcome !== "ingested") return outcome;
  if (!m.range || m.range.count === 1) await afterIngest(env, m, route);
  return "ingested";
}

/**
 * Streams the object (or range) through the decoder into the table's writer (see `TableWriter`: a
 * file that fails half way changes nothing, no new columns, no table created), renewing the claim
 * as it goes.
 */
async function writeObject(env: Env, m: UploadMessage, route: Route, info: TableInfo, aborts: Abortable[], renew: () => Promise<boolean>): Promise<Written> {
  const object = await openObject(env, m, route, info);
  // Parquet and Arrow say what their numbers are: the number policy is for untyped text (JSON, CSV).
  const typed = route.format.format === "parquet" || route.format.format === "arrow";
  const writer = new TableWriter(env, route.table, info, typed ? { ...info.policy, numbers: "long" } : info.policy);
  aborts.push(writer);
  // A large object may take longer than one lease to read: renew it as we go (Date.now advances
  // across the reads), so the commit is not refused at the end and the whole file redone.
  const lease = leaseMs(env);
  let renewed = Date.now();
  const keepClaim = async () => {
    if (Date.now() - renewed > lease / 3) {
      if (!(await renew())) throw new FloeError("commit_conflict", `the claim on ${m.key} ended while it was read; it is read again`, { retryable: true });
      renewed = Date.now();
    }
  };
  if ("scan" in object) {
    const opts = { batchRows: DEFAULT_BATCH_ROWS, maxLineBytes: DEFAULT_RECORD_BYTES, objectsOnly: true };
    if (object.bytes) await (object.scan === "json" ? writer.writeJson(object.bytes, opts, keepClaim) : writer.writeNdjson(object.bytes, opts, keepClaim));
  } else {
    for await (const group of object.groups) {
      await keepClaim();
      await writer.writeColumns(group);
    }
  }
  return writer.finish();
}

/** CSV columns typed by the table's schema where it has them (the rest inferred). */
function csvTypes(info: TableInfo): Record<string, "string" | "long" | "double" | "boolean"> {
  const out: Record<string, "string" | "long" | "double" | "boolean"> = {};
  for (const f of info.schema?.fields ?? []) {
    if (typeof f.type !== "string") continue;
    out[f.name] = f.type === "long" || f.type === "int" ? "long" : f.type === "double" || f.type === "float" ? "double" : f.type === "boolean" ? "boolean" : "string";
  }
  return out;
}

/**
 * The object's rows, read only if it is still the version the message names (a newer upload is its
 * own version): NDJSON and JSON for the columnar scanner (which reads them as decodeRows would,
 * scan-batches.ts); CSV, Parquet and Arrow as column sources (a batch, row group or record batch a
 * column at a time, into typed columns: BatchWriter.writeColumns).
 */
async function openObject(env: Env, m: UploadMessage, route: Route, info: TableInfo): Promise<{ scan: "ndjson" | "json"; bytes: ReadableStream<Uint8Array> | undefined } | { groups: AsyncIterable<ColumnSource> }> {
  const csv = { ...route.format.csv, ...route.rule?.csv, types: csvTypes(info) };
  // Parquet stored uncompressed is read with ranged gets: the footer, then a row group at a time.
  if (route.format.format === "parquet" && !route.format.gzip) return { groups: decodeGroups(null, { ...route.format, file: rangedObject(env, m), size: m.size }) };
  const readFrom = m.range ? Math.max(0, m.range.start - 1) : 0;
  const o = await env.LAKE.get(m.key, { onlyIf: { etagMatches: m.eTag }, ...(m.range ? { range: { offset: readFrom } } : {}) });
  if (!o || !("body" in o)) throw objectChanged(m);
  const body = m.range ? lineSlice(o.body, readFrom, m.range.start, m.range.end) : o.body;
  const format = route.format.format;
  if (format === "ndjson" || format === "json") return { scan: format, bytes: await uploadBytes(body, route.format.gzip) };
  return { groups: decodeGroups(body, { ...route.format, size: m.size, csv }) };
}

/** After a successful ingest: keep the source (default), delete it, or move it under `archive/`. */
async function afterIngest(env: Env, m: UploadMessage, route: Route): Promise<void> {
  if (route.after === "keep") return;
  if (route.after === "archive") {
    const o = await env.LAKE.get(m.key, { onlyIf: { etagMatches: m.eTag } });
    if (!o || !("body" in o)) return;
    await env.LAKE.put(`archive/${m.key}`, o.body, { httpMetadata: o.httpMetadata });
  }
  await env.LAKE.delete(m.key);
}
