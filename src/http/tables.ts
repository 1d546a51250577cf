import { createRoute, z } from "@hono/zod-openapi";
import { tableAllowed } from "../access/scopes.js";
import { CATALOG_OBJECT } from "../durable/catalog-do.js";
import { FloeError, rpc } from "../errors.js";
import { parseTransform } from "../iceberg/transforms.js";
import type { IcebergType, NestedField, StructType } from "../iceberg/types.js";
import { log } from "../log.js";
import { parseTableName } from "../names.js";
import { allow, principal } from "./auth.js";
import { api, jsonLimit, needs, jsonRequest, jsonResponse, refusals, serve, TableParam } from "./openapi.js";
import { forgetTable, tableInfo } from "./table-cache.js";

export const tables = api();

const PRIMITIVE = /^(boolean|int|long|float|double|date|time|timestamp|timestamptz|string|uuid|binary|decimal\(\s*\d+\s*,\s*\d+\s*\)|fixed\[\s*\d+\s*\])$/;

/** Types as in Iceberg's JSON, without ids (Floe assigns them). */
const TypeSchema: z.ZodType<unknown> = z.lazy(() =>
  z.union([
    z.string().regex(PRIMITIVE, "not an Iceberg type (boolean, int, long, float, double, decimal(P,S), date, time, timestamp, timestamptz, string, uuid, binary, fixed[L], or a struct/list/map object)"),
    z.object({ type: z.literal("struct"), fields: z.array(FieldSchema) }).strict(),
    z.object({ type: z.literal("list"), element: TypeSchema, "element-required": z.boolean().default(false) }).strict(),
    z.object({ type: z.literal("map"), key: TypeSchema, value: TypeSchema, "value-required": z.boolean().default(false) }).strict(),
  ]),
).openapi("IcebergType", { description: "An Iceberg type as in its JSON: a primitive name, or a struct, list or map object (without field ids)" });
const FieldSchema: z.ZodType<unknown> = z
  .lazy(() => z.object({ name: z.string().min(1).max(256), type: TypeSchema, required: z.boolean().default(false), doc: z.string().optional() }).strict())
  .openapi("Field");

const TableRequest = z
  .object({
    schema: z.object({ fields: z.array(FieldSchema).min(1) }).strict().optional(),
    partitionBy: z
      .array(
        z
          .object({
            source: z.string(),
            transform: z.string().refine((t) => { try { parseTransform(t); return true; } catch { return false; } }, "unknown transform").openapi({ example: "day" }),
            name: z.string().optional(),
          })
          .strict(),
      )
      .optional(),
    idField: z.string().min(1).optional().openapi({ description: "A field whose value is the event key (dedupe across requests)" }),
    mode: z.enum(["evolve", "strict"]).optional().openapi({ description: "evolve: new fields become columns; strict: rows with unknown fields are refused" }),
    properties: z.record(z.string(), z.string()).optional(),
  })
  .strict()
  .openapi("TableDefinition");

/** The table's status as its Durable Object answers it (src/durable/table-info.ts: `TableInfo`). */
export const TableInfoBody = z
  .object({
    table: z.string(),
    exists: z.boolean(),
    configured: z.boolean(),
    mode: z.enum(["evolve", "strict"]),
    idField: z.string().nullable(),
    schema: z.unknown().openapi({ description: "The current Iceberg schema, or null" }),
    partitionSpec: z.unknown(),
    properties: z.record(z.string(), z.string()),
    metadataLocation: z.string().nullable(),
    currentSnapshotId: z.string().nullable(),
    totalRecords: z.number(),
    dataFiles: z.number(),
    totalBytes: z.number(),
    snapshots: z.number(),
    lastCommitAt: z.string().nullable(),
    duplicatesDropped: z.number(),
    quarantined: z.number(),
    quarantine: z.object({ quarantined: z.number(), replayed: z.number(), landed: z.number() }),
    uploads: z.record(z.string(), z.number()),
    maintenance: z.unknown(),
  })
  .passthrough()
  .openapi("TableInfo");

/** Declared fields → the core's struct, ids left at 0 for the table to assign. */
function toType(t: unknown): IcebergType {
  if (typeof t === "string") return t.replace(/\s+/g, "") as IcebergType;
  const o = t as { type: string; fields?: unknown[]; element?: unknown; key?: unknown; value?: unknown; "element-required"?: boolean; "value-required"?: boolean };
  if (o.type === "struct") return toStruct(o.fields ?? []);
  if (o.type === "list") return { type: "list", "element-id": 0, "element-required": o["element-required"] ?? false, element: toType(o.element) };
  return { type: "map", "key-id": 0, key: toType(o.key), "value-id": 0, "value-required": o["value-required"] ?? false, value: toType(o.value) };
}
function toStruct(fields: unknown[]): StructType {
  return { type: "struct", fields: fields.map((f) => { const x = f as { name: string; type: unknown; required: boolean; doc?: string }; const n: NestedField = { id: 0, name: x.name, required: x.required, type: toType(x.type) }; if (x.doc) n.doc = x.doc; return n; }) };
}

const put = createRoute({
  method: "put",
  path: "/v1/tables/{table}",
  tags: ["Tables"],
  summary: "Create or change a table",
  description: "Creates the table, or changes its schema (columns are added by the evolution rules), mode, idField and properties.",
  security: needs("admin"),
  middleware: [allow("admin"), jsonLimit] as const,
  request: { params: TableParam, ...jsonRequest(TableRequest, "The table's definition") },
  responses: { 200: jsonResponse(TableInfoBody, "The table's status after the change"), ...refusals(400, 401, 413, 415) },
});

serve(tables, put, async (c) => {
  const name = parseTableName(c.req.valid("param").table);
  const req = c.req.valid("json");
  const info = await rpc(c.env.TABLES.get(c.env.TABLES.idFromName(name.full)).configure(name.full, {
    schema: req.schema ? toStruct(req.schema.fields) : undefined,
    partitionBy: req.partitionBy,
    idField: req.idField,
    mode: req.mode,
    properties: req.properties,
  }));
  forgetTable(name.full);
  return c.json(info, 200);
});

const del = createRoute({
  method: "delete",
  path: "/v1/tables/{table}",
  tags: ["Tables"],
  summary: "Drop a table",
  description:
    "The table leaves listings and status at once, and its state (config, dedupe ledger, receipts, quarantine, uploads ledger) is cleared; events sent to it before the drop are discarded, so a table created again under the name starts empty. Without `purge` its files stay (`metadataLocation` can be registered back through the REST catalog); with `purge=true` they are deleted after a grace period (`FLOE_PURGE_GRACE_SECONDS`, default one day).",
  security: needs("admin"),
  middleware: [allow("admin")] as const,
  request: { params: TableParam, query: z.object({ purge: z.enum(["true", "false"]).default("false").openapi({ description: "Delete the table's files after the grace period" }) }) },
  responses: {
    200: jsonResponse(
      z.object({
        table: z.string(),
        dropped: z.literal(true),
        metadataLocation: z.string().nullable().openapi({ description: "The dropped table's last metadata file" }),
        purge: z.object({ location: z.string(), at: z.string() }).nullable().openapi({ description: "Where and when the files will be deleted" }),
      }).openapi("Dropped"),
      "Dropped",
    ),
    ...refusals(400, 401, 404),
  },
});

serve(tables, del, async (c) => {
  const name = parseTableName(c.req.valid("param").table);
  const r = await rpc(c.env.TABLES.get(c.env.TABLES.idFromName(name.full)).drop(name.full, c.req.valid("query").purge === "true"));
  forgetTable(name.full);
  log("drop", { table: name.full, purgeAt: r.purge?.at ?? null });
  return c.json(r, 200);
});

const get = createRoute({
  method: "get",
  path: "/v1/tables/{table}",
  tags: ["Tables"],
  summary: "A table's status",
  description: "Schema, partition spec, rows, files, snapshots, last commit, duplicates dropped, quarantine and uploads by state, maintenance.",
  security: needs("read"),
  middleware: [allow("read")] as const,
  request: { params: TableParam },
  responses: { 200: jsonResponse(TableInfoBody, "The table's status"), ...refusals(400, 401, 404) },
});

serve(tables, get, async (c) => {
  const name = parseTableName(c.req.valid("param").table);
  forgetTable(name.full);
  const info = await tableInfo(c.env, name.full);
  if (!info.exists && !info.configured) throw new FloeError("not_found", `table ${name.full} does not exist`, { details: { table: name.full } });
  return c.json(info);
});

const list = createRoute({
  method: "get",
  path: "/v1/tables",
  tags: ["Tables"],
  summary: "The tables of the lake",
  description: "From the catalog's directory, which also knows tables registered through the REST catalog: those the token names.",
  security: needs("read"),
  middleware: [allow("read")] as const,
  responses: { 200: jsonResponse(z.object({ tables: z.array(z.object({ table: z.string(), href: z.string() })) }), "The tables, by name"), ...refusals(401) },
});

serve(tables, list, async (c) => {
  const dir = c.env.CATALOG.get(c.env.CATALOG.idFromName(CATALOG_OBJECT));
  const names: string[] = [];
  for (const ns of (await rpc(dir.listNamespaces(null, 1_000_000))).items) {
    for (const t of (await rpc(dir.listTables(ns, null, 1_000_000))).items) names.push(`${ns}.${t}`);
  }
  // Only the tables the token names: a token never learns of the others.
  const mine = names.filter((t) => tableAllowed(principal(c).tables, t));
  return c.json({ tables: mine.sort().map((table) => ({ table, href: `/v1/tables/${table}` })) });
});

const Snapshot = z
  .object({
    snapshotId: z.string().openapi({ description: "Decimal: snapshot ids are 64-bit" }),
    parentId: z.string().nullable(),
    sequenceNumber: z.number().int(),
    timestampMs: z.number().int(),
    committedAt: z.string(),
    operation: z.string().openapi({ example: "append" }),
    summary: z.record(z.string(), z.string()).openapi({ description: "The snapshot's summary: added-records, total-records, total-data-files, floe.batch-ids, floe.sources (events, uploads)…" }),
  })
  .openapi("Snapshot");

const snapshots = createRoute({
  method: "get",
  path: "/v1/tables/{table}/snapshots",
  tags: ["Tables"],
  summary: "The table's snapshots",
  description: "Every snapshot the metadata keeps (retention bounds them), newest first, with its summary: the history of rows and files, and which batches each commit carried.",
  security: needs("read"),
  middleware: [allow("read")] as const,
  request: { params: TableParam },
  responses: { 200: jsonResponse(z.object({ snapshots: z.array(Snapshot) }), "The snapshots"), ...refusals(400, 401, 404) },
});

serve(tables, snapshots, async (c) => {
  const name = parseTableName(c.req.valid("param").table);
  const stub = c.env.TABLES.get(c.env.TABLES.idFromName(name.full));
  const list = await rpc(stub.snapshots(name.full));
  if (!list.length && !(await tableInfo(c.env, name.full)).exists) throw new FloeError("not_found", `table ${name.full} does not exist`, { details: { table: name.full } });
  return c.json({ snapshots: list });
});
