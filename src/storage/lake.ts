import { lakeConfig, type Env } from "../config.js";
import { FloeError } from "../errors.js";
import { faultyStore, parseFaults } from "../faults.js";
import { tableLocation, type TableLocation } from "../iceberg/table.js";
import type { TableName } from "../names.js";
import type { ObjectStore } from "./object-store.js";
import { R2Store } from "./r2-store.js";
import { S3Store } from "./s3-store.js";

/**
 * The store the lake is written through: R2's S3 API (aws4fetch) in production and under
 * `wrangler dev`, where the same requests exercise the same code; the R2 binding only where no S3
 * API is served (the Vitest pool, `LAKE_ACCESS=binding`).
 */
export function lakeStore(env: Env): ObjectStore {
  const cfg = lakeConfig(env);
  const store: ObjectStore = cfg.s3
    ? new S3Store({ endpoint: cfg.s3.S3_ENDPOINT, bucket: cfg.LAKE_BUCKET, accessKeyId: cfg.s3.S3_ACCESS_KEY_ID, secretAccessKey: cfg.s3.S3_SECRET_ACCESS_KEY })
    : new R2Store(env.LAKE);
  return faultyStore(store, parseFaults(env.FLOE_FAULTS));
}

/** Staging and quarantine objects go through the binding: no signing, and streaming reads. */
export function bindingStore(env: Env): ObjectStore {
  return new R2Store(env.LAKE);
}

/** Where a table lives in the lake. */
export function locationOf(env: Env, name: TableName): TableLocation {
  const cfg = lakeConfig(env);
  return tableLocation(cfg.LAKE_BUCKET, cfg.WAREHOUSE, name.namespace, name.table);
}

/** The store key of an `s3://{bucket}/…` (or `s3a://`) URI in the lake's bucket; anything else is refused. */
export function keyInBucket(bucket: string, uri: string, what: string): string {
  const prefix = `s3://${bucket}/`;
  const alt = `s3a://${bucket}/`;
  const key = uri.startsWith(prefix) ? uri.slice(prefix.length) : uri.startsWith(alt) ? uri.slice(alt.length) : undefined;
  if (!key || key.split("/").some((p) => p === ".." || p === ".")) {
    throw new FloeError("invalid_input", `${what} ${uri} is not in the lake's bucket (s3://${bucket}/…)`, { details: { type: "BadRequestException", location: uri } });
  }
  return key;
}

/** A table location (a URI in the lake's bucket, without a trailing slash) and its key prefix. */
export function locationInBucket(bucket: string, uri: string): TableLocation {
  const clean = uri.replace(/\/+$/, "");
  return { uri: clean, key: keyInBucket(bucket, clean, "the table's location") };
}
