import { z } from "zod";
import { FloeError } from "./errors.js";
import type { IngestMessage } from "./queue/messages.js";

/**
 * The Worker's bindings and variables. The bindings and `[vars]` are what `wrangler types` reads
 * from wrangler.toml (`FloeBindings`, in worker-configuration.d.ts: `npm run types` regenerates it,
 * CI checks it is current); the rest are secrets and optional settings, which wrangler.toml does not
 * name, typed here. The queue is typed by its messages.
 */
export interface Env extends Omit<FloeBindings, "INGEST"> {
  INGEST: Queue<IngestMessage>;
  FLOE_INGEST_TOKEN?: string;
  FLOE_ADMIN_TOKEN?: string;
  /** The REST catalog's read-only token, for query engines (optional: without it, only the admin token reads the catalog). */
  FLOE_CATALOG_TOKEN?: string;
  /** Who the catalog hands R2 keys to: none (default), admin, all (src/catalog/settings.ts). */
  FLOE_CATALOG_VEND_CREDENTIALS?: string;
  FLOE_CATALOG_S3_ACCESS_KEY_ID?: string;
  FLOE_CATALOG_S3_SECRET_ACCESS_KEY?: string;
  /** An external REST catalog tables commit through (Basin Catalog or any spec catalog); see src/catalog/rest-client.ts. */
  FLOE_EXTERNAL_CATALOG_URI?: string;
  FLOE_EXTERNAL_CATALOG_WAREHOUSE?: string;
  FLOE_EXTERNAL_CATALOG_TOKEN?: string;
  /** `*` (default) or a comma-separated list of `namespace.table` that commit through it. */
  FLOE_EXTERNAL_CATALOG_TABLES?: string;
  /** Least time between two commits of one table to the external catalog (default 3000 ms: Basin takes 20 per table per minute). */
  FLOE_EXTERNAL_CATALOG_MIN_INTERVAL_MS?: string;
  /** The S3 endpoint engines are told to read the lake through (default: S3_ENDPOINT). */
  FLOE_CATALOG_S3_ENDPOINT?: string;
  S3_ENDPOINT?: string;
  S3_ACCESS_KEY_ID?: string;
  S3_SECRET_ACCESS_KEY?: string;
  /** `s3` (default): the lake is written through R2's S3 API. `binding`: through the R2 binding (the Vitest pool, which serves no S3 API). */
  LAKE_ACCESS?: string;
  /** Largest accepted request body, decompressed, in bytes (default 16 MiB). */
  MAX_BODY_BYTES?: string;
  /** Webhook sources: a JSON array (see src/sources/registry.ts). A secret: it holds signing secrets. */
  FLOE_SOURCES?: string;
  /** Upload routing rules: a JSON array of {prefix, table, format?, gzip?, csv?, after?} (src/uploads/routing.ts). */
  FLOE_UPLOAD_RULES?: string;
  /** The reconciler enqueues unknown uploads older than this (default 300 s; shorter locally). */
  RECONCILE_GRACE_SECONDS?: string;
  /** How long a claim lasts, in ms (default 60000): tests shorten it. */
  FLOE_LEASE_MS?: string;
  /** Test-only fault injection (see src/faults.ts); never set in production. */
  FLOE_FAULTS?: string;
  /** How long `?wait=true` waits for the commit by default, in ms (default 30000). */
  FLOE_WAIT_TIMEOUT_MS?: string;
  /** How auto-created tables type numbers they infer: `double` (default) or `long` (src/iceberg/ingest-policy.ts). A table's `floe.infer.numbers` overrides it. */
  FLOE_INFER_NUMBERS?: string;
  /** How long `DELETE /v1/tables/{t}?purge=true` keeps the files before deleting them, in seconds (default 86400). */
  FLOE_PURGE_GRACE_SECONDS?: string;
  /** NDJSON uploads larger than this many bytes are split into ranges of it (default 64 MiB): tests shrink it. */
  FLOE_SPLIT_BYTES?: string;
}

const nonEmpty = (name: string, hint: string) => z.string({ error: `${name} is missing (${hint})` }).min(1, `${name} is empty (${hint})`);
const secret = (name: string) => nonEmpty(name, `set it with \`wrangler secret put ${name}\`, or in .dev.vars locally`);

const LakeConfig = z.object({
  LAKE_BUCKET: nonEmpty("LAKE_BUCKET", "the R2 bucket of the lake, a var in wrangler.toml"),
  WAREHOUSE: z.string().regex(/^[A-Za-z0-9_\-/]*$/, "WAREHOUSE may hold letters, digits, _ - and /").default("warehouse"),
  LAKE_ACCESS: z.enum(["s3", "binding"]).default("s3"),
});
const S3Config = z.object({
  S3_ENDPOINT: nonEmpty("S3_ENDPOINT", "https://<account id>.r2.cloudflarestorage.com; wrangler var or secret").url("S3_ENDPOINT must be a URL"),
  S3_ACCESS_KEY_ID: secret("S3_ACCESS_KEY_ID"),
  S3_SECRET_ACCESS_KEY: secret("S3_SECRET_ACCESS_KEY"),
});

export type LakeConfig = z.infer<typeof LakeConfig> & { s3?: z.infer<typeof S3Config> };

function parse<T>(schema: z.ZodType<T>, env: unknown): T {
  const r = schema.safeParse(env);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => i.message).join("; ");
  throw new FloeError("misconfigured", `configuration: ${problems}`, { details: { missing: r.error.issues.map((i) => i.path.join(".")) } });
}

/** Where and how the lake is written; validated at first use, naming what is missing. */
export function lakeConfig(env: Env): LakeConfig {
  const lake = parse(LakeConfig, env);
  return lake.LAKE_ACCESS === "s3" ? { ...lake, s3: parse(S3Config, env) } : lake;
}

/** A token the Worker needs for a route: refused loudly when unset, so production never runs open. */
export function requiredToken(env: Env, name: "FLOE_INGEST_TOKEN" | "FLOE_ADMIN_TOKEN"): string {
  return parse(z.object({ [name]: secret(name) }), env)[name] as string;
}

/** Whether tables are created on their first write (default true). */
export function autoCreate(env: Env): boolean {
  return (env.AUTO_CREATE_TABLES ?? "true").toLowerCase() !== "false";
}

export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

export function maxBodyBytes(env: Env): number {
  const n = Number(env.MAX_BODY_BYTES ?? DEFAULT_MAX_BODY_BYTES);
  return Number.isFinite(n) && n > 0 ? n : DEFAULT_MAX_BODY_BYTES;
}

/** The byte range size large NDJSON uploads are split into (default 64 MiB, at least 4 KiB). */
export function splitBytes(env: Env): number {
  const n = Number(env.FLOE_SPLIT_BYTES ?? 64 * 1024 * 1024);
  return Number.isInteger(n) && n >= 4096 ? n : 64 * 1024 * 1024;
}

/** How long a claim may take to commit (default 60 s; `FLOE_LEASE_MS` shortens it in tests). */
export function leaseMs(env: Env): number {
  const n = Number(env.FLOE_LEASE_MS ?? 60_000);
  return Number.isFinite(n) && n >= 1000 ? n : 60_000;
}

/** How long a purged table's files stay before they are deleted (default one day; `FLOE_PURGE_GRACE_SECONDS`). */
export function purgeGraceMs(env: Env): number {
  const n = Number(env.FLOE_PURGE_GRACE_SECONDS ?? 86_400);
  return Number.isFinite(n) && n >= 0 ? n * 1000 : 86_400_000;
}
