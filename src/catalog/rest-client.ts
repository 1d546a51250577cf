import type { Env } from "../config.js";
import { FloeError, isFloeError } from "../errors.js";
import type { TableCommit, Update } from "../iceberg/commit.js";
import { parseMetadata, serializeMetadata, stringifyExact, type TableMetadata } from "../iceberg/metadata.js";
import type { MetadataCatalog } from "../iceberg/metadata-catalog.js";
import type { LoadedTable } from "../iceberg/table.js";
import type { TableName } from "../names.js";
import { parseExactJson } from "./requests.js";

/** An external Iceberg REST catalog Floe commits through (Basin Catalog, or any that follows the spec). */
export interface ExternalCatalog {
  /** Catalog URI, e.g. `https://catalog.cloudflarestorage.com/{account_id}/{bucket}`. */
  uri: string;
  /** e.g. `{account_id}_{bucket}` for Basin. */
  warehouse?: string;
  /** Bearer token (for Basin, a Cloudflare API token with R2 Data Catalog rights). */
  token: string;
}

/**
 * The external catalog a table commits through, if the deployment names one
 * (`FLOE_EXTERNAL_CATALOG_URI`, `_WAREHOUSE`, `_TOKEN`) and the table is among
 * `FLOE_EXTERNAL_CATALOG_TABLES` (`*`, the default, or a comma-separated list of `namespace.table`).
 */
export function externalCatalogFor(env: Env, table: string): ExternalCatalog | undefined {
  const uri = env.FLOE_EXTERNAL_CATALOG_URI?.trim();
  if (!uri) return undefined;
  const tables = (env.FLOE_EXTERNAL_CATALOG_TABLES ?? "*").split(",").map((t) => t.trim()).filter(Boolean);
  if (!tables.includes("*") && !tables.includes(table)) return undefined;
  const token = env.FLOE_EXTERNAL_CATALOG_TOKEN;
  if (!token) throw new FloeError("misconfigured", "FLOE_EXTERNAL_CATALOG_URI is set but FLOE_EXTERNAL_CATALOG_TOKEN is not (wrangler secret put FLOE_EXTERNAL_CATALOG_TOKEN)");
  return { uri: uri.replace(/\/+$/, ""), warehouse: env.FLOE_EXTERNAL_CATALOG_WAREHOUSE || undefined, token };
}

interface Reply {
  status: number;
  text: string;
  headers: Headers;
}

const TIMEOUT_MS = 30_000;

/**
 * One table in an external REST catalog, as a `MetadataCatalog`: loads with `GET …/tables/{t}`,
 * commits with `POST …/tables/{t}` (the requirements and updates the transaction layer planned:
 * `assert-table-uuid` + `assert-ref-snapshot-id` with `add-snapshot` + `set-snapshot-ref` for an
 * append), creates with `POST …/tables`. What an answer means for the commit:
 * - 200: committed;
 * - 409, or Basin's 400 `ConcurrentUpdateError`: refused because the table moved (a retryable
 *   `commit_conflict`: the caller reloads and plans again);
 * - 429: refused, slow down (`rate_limited`, with the catalog's `Retry-After`);
 * - 5xx, a timeout, a dropped connection: the outcome is unknown. Nothing written for the commit
 *   may be deleted (apache/iceberg#12792); the table object settles it by reloading the table and
 *   looking for the batch ids in its snapshots.
 * 64-bit snapshot ids cross exactly both ways.
 */
export class RestTableCatalog implements MetadataCatalog {
  private prefix: Promise<string> | undefined;

  constructor(
    private readonly cfg: ExternalCatalog,
    private readonly name: TableName,
    private readonly http: typeof fetch = (input, init) => fetch(input, init),
  ) {}

  private async call(method: string, path: string, body?: string): Promise<Reply> {
    const res = await this.http(`${this.cfg.uri}${path}`, {
      method,
      headers: { Authorization: `Bearer ${this.cfg.token}`, "Content-Type": "application/json" },
      body,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    return { status: res.status, text: await res.text(), headers: res.headers };
  }

  /** `/v1/{prefix}` from the catalog's config (asked once per object). */
  private base(): Promise<string> {
    return (this.prefix ??= (async () => {
      const q = this.cfg.warehouse ? `?warehouse=${encodeURIComponent(this.cfg.warehouse)}` : "";
      const r = await this.reach(() => this.call("GET", `/v1/config${q}`), "config");
      if (r.status !== 200) throw unavailable(r, `${this.cfg.uri}: GET /v1/config`);
      const c = JSON.parse(r.text) as { overrides?: Record<string, string>; defaults?: Record<string, string> };
      const prefix = c.overrides?.prefix ?? c.defaults?.prefix;
      return prefix ? `/v1/${prefix}` : "/v1";
    })().catch((e) => {
      this.prefix = undefined;
      throw e;
    }));
  }

  private async tablePath(): Promise<string> {
    return `${await this.base()}/namespaces/${encodeURIComponent(this.name.namespace)}/tables/${encodeURIComponent(this.name.table)}`;
  }

  /** A request whose failure to arrive is a retryable storage error (for reads, where nothing can be half done). */
  private async reach(send: () => Promise<Reply>, what: string): Promise<Reply> {
    try {
      return await send();
    } catch (e) {
      throw new FloeError("storage_unavailable", `external catalog ${this.cfg.uri} (${what}): ${(e as Error).message}`, { cause: e, retryable: true });
    }
  }

  async load(): Promise<LoadedTable | null> {
    const r = await this.reach(async () => this.call("GET", await this.tablePath()), `load ${this.name.full}`);
    if (r.status === 404) return null;
    if (r.status !== 200) throw unavailable(r, `${this.cfg.uri}: load ${this.name.full}`);
    return loaded(r.text);
  }

  async commit(commit: TableCommit): Promise<LoadedTable> {
    if (commit.requirements.some((q) => q.type === "assert-create")) return this.create(commit.updates);
    const body = stringifyExact({ identifier: { namespace: [this.name.namespace], name: this.name.table }, ...commit });
    let r: Reply;
    try {
      r = await this.call("POST", await this.tablePath(), body);
    } catch (e) {
      if (isFloeError(e)) throw e;
      throw unknown(`${this.cfg.uri}: commit to ${this.name.full}: ${(e as Error).message}`, e);
    }
    if (r.status === 200) return loaded(r.text);
    throw refusedOrUnknown(r, `${this.cfg.uri}: commit to ${this.name.full}`);
  }

  /**
   * Creates the table (and its namespace, if the catalog lacks it) from a create's updates. The
   * catalog picks the location. A table another writer created meanwhile is loaded instead.
   */
  private async create(updates: readonly Update[]): Promise<LoadedTable> {
    const base = await this.base();
    const ns = await this.reach(() => this.call("POST", `${base}/namespaces`, JSON.stringify({ namespace: [this.name.namespace] })), "create namespace");
    if (ns.status !== 200 && ns.status !== 409) throw refusedOrUnknown(ns, `${this.cfg.uri}: create namespace ${this.name.namespace}`);
    const pick = <A extends Update["action"]>(a: A) => updates.find((u) => u.action === a) as Extract<Update, { action: A }> | undefined;
    const req = {
      name: this.name.table,
      schema: pick("add-schema")?.schema,
      "partition-spec": pick("add-spec")?.spec,
      "write-order": pick("add-sort-order")?.["sort-order"],
      properties: pick("set-properties")?.updates ?? {},
    };
    const r = await this.reach(() => this.call("POST", `${base}/namespaces/${encodeURIComponent(this.name.namespace)}/tables`, JSON.stringify(req)), `create ${this.name.full}`);
    if (r.status === 200) return loaded(r.text);
    if (r.status === 409) {
      const t = await this.load();
      if (t) return t;
    }
    throw refusedOrUnknown(r, `${this.cfg.uri}: create ${this.name.full}`);
  }
}

/** A LoadTableResult / CommitTableResponse, ids exact. */
function loaded(text: string): LoadedTable {
  const o = parseExactJson(text) as { "metadata-location"?: string; metadata?: TableMetadata };
  if (!o.metadata || typeof o["metadata-location"] !== "string") throw new FloeError("storage_unavailable", "external catalog answered a table without metadata or metadata-location", { retryable: true });
  const metadata = parseMetadata(serializeMetadata(o.metadata));
  if (metadata["format-version"] !== 2) throw new FloeError("misconfigured", `the external catalog's table is format version ${metadata["format-version"]}; Floe writes format 2 tables`);
  return { metadata, version: 0, metadataKey: "", metadataLocation: o["metadata-location"], metadataBytes: text.length };
}

function errorOf(r: Reply): { type: string; message: string } {
  try {
    const e = (JSON.parse(r.text) as { error?: { type?: string; message?: string } }).error;
    return { type: e?.type ?? "", message: e?.message ?? r.text.slice(0, 200) };
  } catch {
    // Basin answers 401/403 as plain text.
    return { type: "", message: r.text.slice(0, 200) };
  }
}

function unknown(message: string, cause?: unknown): FloeError {
  return new FloeError("storage_unavailable", `${message}; the commit's outcome is unknown: it is settled from the table's snapshots`, { cause, retryable: true, details: { outcome: "unknown" } });
}

function unavailable(r: Reply, what: string): FloeError {
  const e = errorOf(r);
  return new FloeError("storage_unavailable", `${what}: ${r.status} ${e.type} ${e.message}`.trim(), { retryable: true, details: { status: r.status } });
}

/** The meaning of a commit's answer other than 200 (see `RestTableCatalog`). */
function refusedOrUnknown(r: Reply, what: string): FloeError {
  const e = errorOf(r);
  const said = `${what}: ${r.status} ${e.type ? `${e.type}: ` : ""}${e.message}`;
  if (r.status === 409 || (r.status === 400 && /ConcurrentUpdate/i.test(`${e.type} ${e.message}`))) return new FloeError("commit_conflict", `${said} (the table moved: reloaded and planned again)`, { retryable: true });
  if (r.status === 429) {
    const after = Number(r.headers.get("retry-after"));
    return new FloeError("rate_limited", said, { retryable: true, details: { retryAfter: Number.isFinite(after) && after > 0 ? after : 5 } });
  }
  if (r.status >= 500) return unknown(said);
  // 401/403: the token (or its rights) is wrong; retried, so that fixing it loses nothing.
  if (r.status === 401 || r.status === 403) return new FloeError("storage_unavailable", `${said} (check FLOE_EXTERNAL_CATALOG_TOKEN)`, { retryable: true });
  return new FloeError("internal", said, { retryable: false });
}
