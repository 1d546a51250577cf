import { lakeConfig, type Env } from "../config.js";
import { FloeError } from "../errors.js";

/** The catalog's one prefix (`/iceberg/v1/{prefix}/…`): Floe serves one warehouse per deployment. */
export const PREFIX = "floe";

/** Who is asking: `reader` (the catalog token: reads only) or `admin` (reads and writes). */
export type Role = "reader" | "admin";

/**
 * Exactly the routes this catalog implements, advertised in `GET /v1/config` so that clients never
 * guess (DuckDB, for one, commits through `transactions/commit` unless told otherwise).
 */
export const ENDPOINTS = [
  "GET /v1/{prefix}/namespaces",
  "POST /v1/{prefix}/namespaces",
  "GET /v1/{prefix}/namespaces/{namespace}",
  "HEAD /v1/{prefix}/namespaces/{namespace}",
  "DELETE /v1/{prefix}/namespaces/{namespace}",
  "POST /v1/{prefix}/namespaces/{namespace}/properties",
  "GET /v1/{prefix}/namespaces/{namespace}/tables",
  "POST /v1/{prefix}/namespaces/{namespace}/tables",
  "GET /v1/{prefix}/namespaces/{namespace}/tables/{table}",
  "HEAD /v1/{prefix}/namespaces/{namespace}/tables/{table}",
  "POST /v1/{prefix}/namespaces/{namespace}/tables/{table}",
  "DELETE /v1/{prefix}/namespaces/{namespace}/tables/{table}",
  "POST /v1/{prefix}/namespaces/{namespace}/register",
  "POST /v1/{prefix}/namespaces/{namespace}/tables/{table}/metrics",
  "POST /v1/{prefix}/transactions/commit",
] as const;

/**
 * How engines reach the lake's files. `s3.endpoint` is the R2 S3 API (`FLOE_CATALOG_S3_ENDPOINT`,
 * else the `S3_ENDPOINT` Floe writes through); R2's region is `auto`; R2 wants path-style access.
 */
export function storageConfig(env: Env): Record<string, string> {
  const endpoint = env.FLOE_CATALOG_S3_ENDPOINT ?? env.S3_ENDPOINT;
  return { ...(endpoint ? { "s3.endpoint": endpoint } : {}), "s3.region": "auto", "client.region": "auto", "s3.path-style-access": "true" };
}

/**
 * R2 keys the catalog may hand to engines (`FLOE_CATALOG_VEND_CREDENTIALS`): `none` (the default:
 * each engine is configured with its own R2 token), `admin` (only to the admin token), or `all`
 * (also to the read-only catalog token). The keys handed over are `FLOE_CATALOG_S3_ACCESS_KEY_ID` /
 * `FLOE_CATALOG_S3_SECRET_ACCESS_KEY`: create a read-only R2 API token for them, never reuse the
 * keys Floe writes with. Answers the keys when `role` may receive them, else undefined.
 */
export function vendedKeys(env: Env, role: Role): Record<string, string> | undefined {
  const policy = (env.FLOE_CATALOG_VEND_CREDENTIALS ?? "none").toLowerCase();
  if (!["none", "admin", "all"].includes(policy)) throw new FloeError("misconfigured", `FLOE_CATALOG_VEND_CREDENTIALS is ${JSON.stringify(policy)}: use none, admin or all`);
  if (policy === "none" || (policy === "admin" && role !== "admin")) return undefined;
  const id = env.FLOE_CATALOG_S3_ACCESS_KEY_ID;
  const secret = env.FLOE_CATALOG_S3_SECRET_ACCESS_KEY;
  if (!id || !secret) throw new FloeError("misconfigured", "FLOE_CATALOG_VEND_CREDENTIALS is set but FLOE_CATALOG_S3_ACCESS_KEY_ID / FLOE_CATALOG_S3_SECRET_ACCESS_KEY are not (wrangler secret put)");
  return { "s3.access-key-id": id, "s3.secret-access-key": secret };
}

/** `GET /v1/config`: the prefix and endpoints as overrides, the lake's storage settings as defaults. */
export function catalogConfig(env: Env, warehouse: string | undefined): unknown {
  const lake = lakeConfig(env);
  const uri = `s3://${lake.LAKE_BUCKET}/${lake.WAREHOUSE}`.replace(/\/+$/, "");
  const known = [undefined, "", lake.WAREHOUSE, lake.LAKE_BUCKET, uri, `${uri}/`, PREFIX];
  if (!known.includes(warehouse)) {
    throw new FloeError("invalid_input", `unknown warehouse ${JSON.stringify(warehouse)}: this catalog serves ${uri} (pass ${JSON.stringify(lake.WAREHOUSE)}, or no warehouse)`, { details: { type: "BadRequestException" } });
  }
  return { defaults: { ...storageConfig(env), warehouse: uri }, overrides: { prefix: PREFIX }, endpoints: [...ENDPOINTS] };
}
