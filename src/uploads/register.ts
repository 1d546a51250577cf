import type { Env } from "../config.js";
import { parquetMetadataOf, type RandomAccessFile } from "../decode/parquet.js";
import type { TableInfo } from "../durable/table-info.js";
import { FloeError, isFloeError, rpc } from "../errors.js";
import type { DataFile } from "../iceberg/data-file.js";
import { planRegistration, RAW_STATISTICS } from "../parquet/register.js";
import type { UploadMessage } from "../queue/messages.js";
import { lakeStore } from "../storage/lake.js";
import type { Abortable } from "../pipeline/commit-batch.js";
import type { Written } from "../pipeline/table-writer.js";
import type { Route } from "./routing.js";
import { log } from "../log.js";

/** The error of an object that is no longer the version the message names. */
export function objectChanged(m: UploadMessage): FloeError {
  return new FloeError("invalid_input", `the object changed or was deleted before it was ingested (version ${m.eTag}); the newer version is ingested on its own`);
}

/** The object as a random-access file, read with ranged gets of exactly the version the message names. */
export function rangedObject(env: Env, m: UploadMessage): RandomAccessFile {
  return {
    byteLength: m.size,
    slice: async (start: number, end?: number) => {
      const o = await env.LAKE.get(m.key, { range: { offset: start, length: (end ?? m.size) - start }, onlyIf: { etagMatches: m.eTag } });
      if (!o || !("body" in o)) throw objectChanged(m);
      return o.arrayBuffer();
    },
  };
}

/**
 * Registers an uploaded Parquet file into its table without rewriting it, when its columns fit
 * (see `planRegistration`): only its footer is read, and the file is copied inside the bucket
 * (S3 CopyObject: no bytes pass through the Worker) to `data/` under the table, where it is then
 * committed like any written file. The table owns its copy, so deleting or archiving the upload
 * afterwards cannot break a snapshot. Answers undefined when the file does not fit: it is then
 * rewritten, and the reason is logged.
 */
export async function registerParquet(env: Env, m: UploadMessage, route: Route, info: TableInfo, aborts: Abortable[]): Promise<Written | undefined> {
  const metadata = await parquetMetadataOf(rangedObject(env, m), RAW_STATISTICS);
  const plan = planRegistration(metadata, m.size, { schema: info.schema, lastColumnId: info.lastColumnId, spec: info.partitionSpec, partitionBy: info.partitionBy, mode: info.mode });
  if (!plan.fits) {
    log("upload", { key: m.key, outcome: "rewritten, not registered", why: plan.why });
    return undefined;
  }
  const loc = info.location;
  const path = `data/${plan.partitionPath ? `${plan.partitionPath}/` : ""}${crypto.randomUUID()}.parquet`;
  const store = lakeStore(env);
  aborts.push({ abort: () => store.delete(`${loc.key}/${path}`) });
  try {
    await store.copy(m.key, `${loc.key}/${path}`, { ifMatch: m.eTag });
  } catch (e) {
    throw isFloeError(e, "not_found") ? objectChanged(m) : e;
  }
  let schemaId = info.schema?.["schema-id"] ?? 0;
  if (plan.schema !== info.schema) {
    const stub = env.TABLES.get(env.TABLES.idFromName(route.table));
    const base = info.exists && info.schema ? { schemaId: info.schema["schema-id"], lastColumnId: info.lastColumnId } : null;
    schemaId = (await rpc(stub.adoptSchema(route.table, plan.schema, base))).schema?.["schema-id"] ?? 0;
  }
  const file: DataFile = { content: 0, filePath: `${loc.uri}/${path}`, fileFormat: "PARQUET", partition: plan.partition, ...plan.metrics };
  return { files: [file], rows: Number(metadata.num_rows), schemaId, specId: plan.spec["spec-id"] };
}
