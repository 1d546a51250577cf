import { Hono, type Context, type MiddlewareHandler } from "hono";
import { lakeConfig, maxBodyBytes, type Env } from "../config.js";
import { authorize, hasScope, isSuperAdmin, tableAllowed, type Principal } from "../access/scopes.js";
import { CATALOG_OBJECT, noNamespace } from "../durable/catalog-do.js";
import { FloeError, rpc } from "../errors.js";
import { fires, parseFaults } from "../faults.js";
import { applyUpdates } from "../iceberg/commit.js";
import type { SortOrder } from "../iceberg/metadata.js";
import type { LoadedTable } from "../iceberg/table.js";
import { createTable } from "../iceberg/transaction/create-table.js";
import { bearerOf, principalOf, rateLimit } from "../http/auth.js";
import { parseWith } from "../http/json-body.js";
import { forgetTable } from "../http/table-cache.js";
import { parseTableName, type TableName } from "../names.js";
import { CommitTransaction, CreateNamespace, CreateTable, RegisterTable, UpdateNamespaceProperties, createParts, parseCommit, parseExactJson } from "./requests.js";
import { etagOf, icebergError, loadResultText, noneMatch, refsOnly } from "./responses.js";
import { PREFIX, catalogConfig, storageConfig, vendedKeys, type Role } from "./settings.js";

type Vars = { role: Role; principal: Principal };
type Ctx = Context<{ Bindings: Env; Variables: Vars }>;

/**
 * The Iceberg REST catalog (apache/iceberg `open-api/rest-catalog-open-api.yaml`), served under
 * `/iceberg`: engines attach with catalog URI `https://<worker>/iceberg`. Namespaces and table
 * names come from the catalog's directory object; each table is loaded from and committed by its
 * own TableDO, through the same pure commit functions as Floe's ingest.
 */
export const catalog = new Hono<{ Bindings: Env; Variables: Vars }>();

/**
 * `POST /v1/oauth/tokens` is deprecated in the spec (and a security hazard): Floe issues no tokens.
 * Engines given a client id and secret fall back to it, so it answers, in the OAuth2 error shape,
 * what to set instead.
 */
catalog.post("/v1/oauth/tokens", (c) =>
  c.json({ error: "unsupported_grant_type", error_description: "Floe issues no OAuth2 tokens: configure the engine with a bearer token (token=<FLOE_CATALOG_TOKEN or FLOE_ADMIN_TOKEN>), not a client id and secret" }, 400),
);

/**
 * Bearer auth: a token with the catalog scope reads, one with admin writes, each for the tables it
 * names (FLOE_CATALOG_TOKEN and FLOE_ADMIN_TOKEN are the bootstrap ones, for every table).
 */
const authenticate: MiddlewareHandler<{ Bindings: Env; Variables: Vars }> = async (c, next) => {
  const p = await principalOf(c.env, bearerOf(c.req.header("authorization"), "send Authorization: Bearer <token> (the engine's `token` setting)"));
  authorize(p, ["catalog", "admin"]);
  await rateLimit(c.env, p);
  c.set("principal", p);
  c.set("role", hasScope(p, "admin") ? "admin" : "reader");
  await next();
};
catalog.use("/v1/*", authenticate);

/**
 * Writes need the admin scope (the catalog scope is read-only): for the table written, or, for a
 * namespace, for every table.
 */
function mayWrite(c: Ctx, what: "table" | "namespace" = "table"): void {
  const p = c.get("principal");
  if (c.get("role") !== "admin") throw new FloeError("forbidden", `${c.req.method} ${new URL(c.req.url).pathname}: this token may read the catalog; writes need the admin scope`, { details: { type: "ForbiddenException", missingScope: "admin" } });
  // A table's own name is checked where it is read from the request (tableOf).
  if (what === "namespace" && !isSuperAdmin(p)) {
    throw new FloeError("forbidden", `${c.req.method} ${new URL(c.req.url).pathname}: namespaces are changed by an admin of every table (tables *)`, { details: { type: "ForbiddenException" } });
  }
}

const dir = (env: Env) => env.CATALOG.get(env.CATALOG.idFromName(CATALOG_OBJECT));
const tableObject = (env: Env, name: TableName) => env.TABLES.get(env.TABLES.idFromName(name.full));

/** Only this deployment's prefix exists. */
catalog.use("/v1/:prefix/*", async (c, next) => {
  const prefix = c.req.param("prefix");
  if (prefix !== PREFIX && prefix !== "oauth" && prefix !== "config") throw new FloeError("not_found", `no catalog prefix ${JSON.stringify(prefix)}: this catalog's prefix is ${PREFIX} (from GET /v1/config)`, { details: { type: "NotFoundException" } });
  await next();
});

/** A namespace from the path: one level (`%1F` separates levels; Floe namespaces have one). */
function namespaceOf(raw: string): string {
  const parts = raw.split("\x1f");
  if (parts.length !== 1) throw noNamespace(parts.join("."));
  checkNamespace(parts[0]);
  return parts[0];
}

function checkNamespace(ns: string): void {
  if (!/^[a-z_][a-z0-9_]{0,127}$/.test(ns)) throw new FloeError("invalid_input", `invalid namespace ${JSON.stringify(ns.slice(0, 140))}: use [a-z_][a-z0-9_]{0,127}`, { details: { type: "BadRequestException" } });
}

/** A table from the request, which the token must name (a 403 that says nothing of the table's existence). */
function tableOf(c: Ctx, ns: string, table: string): TableName {
  let name: TableName;
  try {
    name = parseTableName(`${ns}.${table}`);
  } catch {
    throw new FloeError("invalid_input", `invalid table name ${JSON.stringify(table.slice(0, 140))}: use [a-z_][a-z0-9_]{0,127}`, { details: { type: "BadRequestException" } });
  }
  const p = c.get("principal");
  if (!tableAllowed(p.tables, name.full)) throw new FloeError("forbidden", `this token's tables (${p.tables.join(", ")}) do not include ${name.full}`, { details: { type: "ForbiddenException" } });
  return name;
}

async function requireNamespace(env: Env, ns: string): Promise<void> {
  if (!(await rpc(dir(env).namespace(ns)))) throw noNamespace(ns);
}

async function body(c: Ctx): Promise<unknown> {
  const limit = maxBodyBytes(c.env);
  if (Number(c.req.header("content-length") ?? 0) > limit) throw new FloeError("too_large", `request body over ${limit} bytes`);
  const text = await c.req.text();
  if (text.length > limit) throw new FloeError("too_large", `request body over ${limit} bytes`);
  return parseExactJson(text);
}

/** Paging: without `pageToken` everything (spec); with it (even empty), pages of `pageSize` (default 100, at most 1000). */
function paging(c: Ctx): { after: string | null; limit: number } {
  const token = c.req.query("pageToken");
  if (token === undefined) return { after: null, limit: 1_000_000 };
  const raw = c.req.query("pageSize");
  const size = raw === undefined ? 100 : Number(raw);
  if (!Number.isInteger(size) || size < 1) throw new FloeError("invalid_input", `pageSize ${JSON.stringify(raw)}: a positive integer`, { details: { type: "BadRequestException" } });
  let after: string | null = null;
  if (token) {
    try {
      after = atob(token.replace(/-/g, "+").replace(/_/g, "/"));
    } catch {
      throw new FloeError("invalid_input", "pageToken is not one this catalog issued", { details: { type: "BadRequestException" } });
    }
  }
  return { after, limit: Math.min(size, 1000) };
}

const pageToken = (next: string | null) => (next === null ? null : btoa(next).replace(/\+/g, "-").replace(/\//g, "_"));

/** What an engine needs beside the metadata: storage settings, and R2 keys if this token may have them. */
function tableConfig(c: Ctx): { config: Record<string, string>; credentials?: { prefix: string; config: Record<string, string> }[] } {
  const keys = vendedKeys(c.env, c.get("role"));
  const config = { ...storageConfig(c.env), ...(keys ?? {}) };
  if (!keys) return { config };
  return { config, credentials: [{ prefix: `s3://${lakeConfig(c.env).LAKE_BUCKET}/`, config }] };
}

/** A JSON body already serialized (with exact 64-bit ids), answered 200. */
function json(c: Ctx, text: string, headers: Record<string, string> = {}): Response {
  return c.body(text, 200, { "Content-Type": "application/json", ...headers });
}

async function loadResponse(c: Ctx, t: LoadedTable | { metadataLocation: null; metadata: LoadedTable["metadata"] }): Promise<Response> {
  const refs = c.req.query("snapshots") === "refs";
  const metadata = refs ? refsOnly(t.metadata) : t.metadata;
  const text = loadResultText({ metadataLocation: t.metadataLocation, metadata, ...tableConfig(c) });
  if (!t.metadataLocation) return json(c, text);
  return json(c, text, { ETag: await etagOf(t.metadataLocation, refs ? "refs" : "all") });
}

catalog.get("/v1/config", (c) => c.json(catalogConfig(c.env, c.req.query("warehouse"))));

// Namespaces.

catalog.get("/v1/:prefix/namespaces", async (c) => {
  const parent = c.req.query("parent");
  const { after, limit } = paging(c);
  if (parent) {
    // Namespaces have one level: under an existing one there is none.
    await requireNamespace(c.env, namespaceOf(parent));
    return c.json({ namespaces: [], "next-page-token": null });
  }
  const page = await rpc(dir(c.env).listNamespaces(after, limit));
  return c.json({ namespaces: page.items.map((n) => [n]), "next-page-token": pageToken(page.next) });
});

catalog.post("/v1/:prefix/namespaces", async (c) => {
  mayWrite(c, "namespace");
  const req = parseWith(CreateNamespace, await body(c), "CreateNamespaceRequest");
  if (req.namespace.length !== 1) throw new FloeError("invalid_input", `namespace ${JSON.stringify(req.namespace)}: Floe namespaces have one level`, { details: { type: "BadRequestException" } });
  checkNamespace(req.namespace[0]);
  const properties = await rpc(dir(c.env).createNamespace(req.namespace[0], req.properties ?? {}));
  return c.json({ namespace: req.namespace, properties });
});

// hono answers HEAD with the GET route (and drops the body): the GET routes below answer HEAD
// with the spec's 204 or 404.

catalog.get("/v1/:prefix/namespaces/:namespace", async (c) => {
  const ns = namespaceOf(c.req.param("namespace"));
  const properties = await rpc(dir(c.env).namespace(ns));
  if (c.req.method === "HEAD") return c.body(null, properties ? 204 : 404);
  if (!properties) throw noNamespace(ns);
  return c.json({ namespace: [ns], properties });
});

catalog.delete("/v1/:prefix/namespaces/:namespace", async (c) => {
  mayWrite(c, "namespace");
  await rpc(dir(c.env).dropNamespace(namespaceOf(c.req.param("namespace"))));
  return c.body(null, 204);
});

catalog.post("/v1/:prefix/namespaces/:namespace/properties", async (c) => {
  mayWrite(c, "namespace");
  const ns = namespaceOf(c.req.param("namespace"));
  const req = parseWith(UpdateNamespaceProperties, await body(c), "UpdateNamespacePropertiesRequest");
  return c.json(await rpc(dir(c.env).updateNamespace(ns, req.removals ?? [], req.updates ?? {})));
});

// Tables.

catalog.get("/v1/:prefix/namespaces/:namespace/tables", async (c) => {
  const ns = namespaceOf(c.req.param("namespace"));
  const { after, limit } = paging(c);
  const page = await rpc(dir(c.env).listTables(ns, after, limit));
  // Only the tables the token names (a page may then hold fewer than asked; the token goes on).
  const mine = page.items.filter((name) => tableAllowed(c.get("principal").tables, `${ns}.${name}`));
  return c.json({ identifiers: mine.map((name) => ({ namespace: [ns], name })), "next-page-token": pageToken(page.next) });
});

catalog.post("/v1/:prefix/namespaces/:namespace/tables", async (c) => {
  mayWrite(c);
  const ns = namespaceOf(c.req.param("namespace"));
  const req = parseWith(CreateTable, await body(c), "CreateTableRequest");
  const name = tableOf(c, ns, req.name);
  await requireNamespace(c.env, ns);
  const stub = tableObject(c.env, name);
  const info = await rpc(stub.info(name.full));
  if (info.exists) throw new FloeError("already_exists", `table ${name.full} already exists`, { details: { type: "AlreadyExistsException", table: name.full } });
  if (req.location !== undefined && req.location.replace(/\/+$/, "") !== info.location.uri) {
    throw new FloeError("invalid_input", `location ${req.location}: Floe places ${name.full} at ${info.location.uri}; leave location out`, { details: { type: "BadRequestException" } });
  }
  const { schema, spec } = createParts(req);
  const commit = createTable({ location: info.location.uri, schema, spec, properties: req.properties, sortOrder: req["write-order"] as SortOrder | undefined });
  if (req["stage-create"]) {
    // Staged: nothing is written; the engine commits later with `assert-create` and these updates.
    return loadResponse(c, { metadataLocation: null, metadata: applyUpdates(null, commit.updates, { now: Date.now() }) });
  }
  const t = await rpc(stub.catalogCommit(name.full, commit));
  forgetTable(name.full);
  return loadResponse(c, t);
});

catalog.get("/v1/:prefix/namespaces/:namespace/tables/:table", async (c) => {
  const name = tableOf(c, namespaceOf(c.req.param("namespace")), c.req.param("table"));
  if (c.req.method === "HEAD") return c.body(null, (await rpc(tableObject(c.env, name).info(name.full))).exists ? 204 : 404);
  const t = await rpc(tableObject(c.env, name).catalogLoad(name.full));
  const etag = await etagOf(t.metadataLocation, c.req.query("snapshots") === "refs" ? "refs" : "all");
  if (noneMatch(c.req.header("if-none-match"), etag)) return c.body(null, 304, { ETag: etag });
  return loadResponse(c, t);
});

catalog.post("/v1/:prefix/namespaces/:namespace/tables/:table", async (c) => {
  mayWrite(c);
  const name = tableOf(c, namespaceOf(c.req.param("namespace")), c.req.param("table"));
  const { identifier, commit } = parseCommit(await body(c), "CommitTableRequest");
  if (identifier && (identifier.name !== name.table || identifier.namespace.join("\x1f") !== name.namespace)) {
    throw new FloeError("invalid_input", `identifier ${identifier.namespace.join(".")}.${identifier.name} does not match the path's table ${name.full}`, { details: { type: "BadRequestException" } });
  }
  const t = await commitWithFaults(c, () => rpc(tableObject(c.env, name).catalogCommit(name.full, commit)));
  forgetTable(name.full);
  if (t instanceof Response) return t;
  return json(c, loadResultText({ metadataLocation: t.metadataLocation, metadata: t.metadata }));
});

/**
 * Test-only faults (`FLOE_FAULTS`, never set in production) around a commit, so that a Floe
 * committing through this catalog meets every answer a real one gives (see faults.ts).
 */
async function commitWithFaults<T>(c: Ctx, apply: () => Promise<T>): Promise<T | Response> {
  const faults = parseFaults(c.env.FLOE_FAULTS);
  if (!faults.size) return apply();
  if (fires(faults, "catalog-409")) throw new FloeError("commit_conflict", "injected fault: catalog-409");
  if (fires(faults, "catalog-400-concurrent")) return c.json({ error: { message: "injected fault: concurrent update", type: "ConcurrentUpdateError", code: 400 } }, 400);
  if (fires(faults, "catalog-429")) throw new FloeError("rate_limited", "injected fault: catalog-429", { details: { type: "SlowDownException", retryAfter: 1 } });
  if (fires(faults, "catalog-503")) throw new FloeError("storage_unavailable", "injected fault: catalog-503");
  const t = await apply();
  if (fires(faults, "catalog-lost-reply")) return c.json({ error: { message: "injected fault: the commit was applied, its answer lost", type: "CommitStateUnknownException", code: 504 } }, 504);
  return t;
}

catalog.delete("/v1/:prefix/namespaces/:namespace/tables/:table", async (c) => {
  mayWrite(c);
  const name = tableOf(c, namespaceOf(c.req.param("namespace")), c.req.param("table"));
  const purge = (c.req.query("purgeRequested") ?? "false").toLowerCase() === "true";
  await rpc(tableObject(c.env, name).catalogDrop(name.full, purge));
  forgetTable(name.full);
  return c.body(null, 204);
});

catalog.post("/v1/:prefix/namespaces/:namespace/register", async (c) => {
  mayWrite(c);
  const ns = namespaceOf(c.req.param("namespace"));
  const req = parseWith(RegisterTable, await body(c), "RegisterTableRequest");
  if (req.overwrite) throw new FloeError("invalid_input", "register with overwrite: drop the table first (Floe does not replace a table's history by registering)", { details: { type: "BadRequestException" } });
  const name = tableOf(c, ns, req.name);
  await requireNamespace(c.env, ns);
  const t = await rpc(tableObject(c.env, name).catalogRegister(name.full, req["metadata-location"]));
  forgetTable(name.full);
  return loadResponse(c, t);
});

/** Scan and commit reports engines send: accepted and not kept (Floe keeps its own table status). */
catalog.post("/v1/:prefix/namespaces/:namespace/tables/:table/metrics", async (c) => {
  tableOf(c, namespaceOf(c.req.param("namespace")), c.req.param("table"));
  const report = await body(c);
  if (!report || typeof report !== "object" || Array.isArray(report)) throw new FloeError("invalid_input", "ReportMetricsRequest: a JSON object", { details: { type: "BadRequestException" } });
  return c.body(null, 204);
});

/**
 * `transactions/commit`: a transaction that changes one table commits atomically (it is that
 * table's commit). One that changes several is refused whole: each table commits through its own
 * Durable Object, and Floe does not pretend to an atomicity across them that it cannot give.
 */
catalog.post("/v1/:prefix/transactions/commit", async (c) => {
  mayWrite(c);
  const req = parseWith(CommitTransaction, await body(c), "CommitTransactionRequest");
  if (req["table-changes"].length > 1) {
    throw new FloeError("invalid_input", `a transaction here changes one table, not ${req["table-changes"].length}: each table commits on its own, so commit them one by one`, { details: { type: "BadRequestException" } });
  }
  const { identifier, commit } = parseCommit(req["table-changes"][0], "table-changes[0]");
  if (!identifier) throw new FloeError("invalid_input", "table-changes[0].identifier is required in a transaction", { details: { type: "BadRequestException" } });
  if (identifier.namespace.length !== 1) throw noNamespace(identifier.namespace.join("."));
  checkNamespace(identifier.namespace[0]);
  const name = tableOf(c, identifier.namespace[0], identifier.name);
  if (commit.requirements.some((r) => r.type === "assert-create")) await requireNamespace(c.env, name.namespace);
  await rpc(tableObject(c.env, name).catalogCommit(name.full, commit));
  forgetTable(name.full);
  return c.body(null, 204);
});

catalog.post("/v1/:prefix/tables/rename", (c) => {
  mayWrite(c);
  throw new FloeError("unsupported", "rename is not supported: a table's Durable Object (its dedupe ledger, uploads and jobs) is keyed by its name. Drop the table without purge and register its metadata file under the new name", { details: { type: "UnsupportedOperationException" } });
});

catalog.all("*", (c) => {
  throw new FloeError("not_found", `no catalog route for ${c.req.method} ${new URL(c.req.url).pathname}`, { details: { type: "NotFoundException" } });
});

catalog.onError((err, c) => {
  const { status, body } = icebergError(err);
  if (status >= 500) console.error(`floe: catalog: ${body.error.type}: ${body.error.message}`);
  const retryAfter = err instanceof FloeError ? err.details?.retryAfter : undefined;
  const headers: Record<string, string> = status === 429 || status === 503 ? { "Retry-After": String(typeof retryAfter === "number" ? retryAfter : 5) } : {};
  if (c.req.method === "HEAD") return c.body(null, status as 404, headers);
  return c.json(body, status as 400, headers);
});
