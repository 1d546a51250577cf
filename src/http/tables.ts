import { Hono } from "hono";
import { z } from "zod";
import type { Env } from "../config.js";
import { CATALOG_OBJECT } from "../durable/catalog-do.js";
import { FloeError, rpc } from "../errors.js";
import { parseTransform } from "../iceberg/transforms.js";
import type { IcebergType, NestedField, StructType } from "../iceberg/types.js";
import { parseTableName } from "../names.js";
import { bearer } from "./auth.js";
import { jsonBody, parseWith } from "./json-body.js";
import { forgetTable, tableInfo } from "./table-cache.js";

export const tables = new Hono<{ Bindings: Env }>();

const PRIMITIVE = /^(boolean|int|long|float|double|date|time|timestamp|timestamptz|string|uuid|binary|decimal\(\s*\d+\s*,\s*\d+\s*\)|fixed\[\s*\d+\s*\])$/;

/** Types as in Iceberg's JSON, without ids (Floe assigns them). */
const TypeSchema: z.ZodType<unknown> = z.lazy(() =>
  z.union([
    z.string().regex(PRIMITIVE, "not an Iceberg type (boolean, int, long, float, double, decimal(P,S), date, time, timestamp, timestamptz, string, uuid, binary, fixed[L], or a struct/list/map object)"),
    z.object({ type: z.literal("struct"), fields: z.array(FieldSchema) }).strict(),
    z.object({ type: z.literal("list"), element: TypeSchema, "element-required": z.boolean().default(false) }).strict(),
    z.object({ type: z.literal("map"), key: TypeSchema, value: TypeSchema, "value-required": z.boolean().default(false) }).strict(),
  ]),
);
const FieldSchema: z.ZodType<unknown> = z.lazy(() => z.object({ name: z.string().min(1).max(256), type: TypeSchema, required: z.boolean().default(false), doc: z.string().optional() }).strict());

const TableRequest = z
  .object({
    schema: z.object({ fields: z.array(FieldSchema).min(1) }).strict().optional(),
    partitionBy: z.array(z.object({ source: z.string(), transform: z.string().refine((t) => { try { parseTransform(t); return true; } catch { return false; } }, "unknown transform"), name: z.string().optional() }).strict()).optional(),
    idField: z.string().min(1).optional(),
    mode: z.enum(["evolve", "strict"]).optional(),
    properties: z.record(z.string(), z.string()).optional(),
  })
  .strict();

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

/** `PUT /v1/tables/{table}` (admin): create the table, or change its schema (by the evolution rules), mode, idField, properties. */
tables.put("/v1/tables/:table", bearer("FLOE_ADMIN_TOKEN"), async (c) => {
  const name = parseTableName(c.req.param("table"));
  const req = parseWith(TableRequest, await jsonBody(c.req), "table definition");
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

/** `GET /v1/tables/{table}`: the table's status. */
tables.get("/v1/tables/:table", bearer("FLOE_INGEST_TOKEN", "FLOE_ADMIN_TOKEN"), async (c) => {
  const name = parseTableName(c.req.param("table"));
  forgetTable(name.full);
  const info = await tableInfo(c.env, name.full);
  if (!info.exists && !info.configured) throw new FloeError("not_found", `table ${name.full} does not exist`, { details: { table: name.full } });
  return c.json(info);
});

/** `GET /v1/tables`: the tables of the lake, from the catalog's directory (which also knows registered tables). */
tables.get("/v1/tables", bearer("FLOE_INGEST_TOKEN", "FLOE_ADMIN_TOKEN"), async (c) => {
  const dir = c.env.CATALOG.get(c.env.CATALOG.idFromName(CATALOG_OBJECT));
  const names: string[] = [];
  for (const ns of (await rpc(dir.listNamespaces(null, 1_000_000))).items) {
    for (const t of (await rpc(dir.listTables(ns, null, 1_000_000))).items) names.push(`${ns}.${t}`);
  }
  return c.json({ tables: names.sort().map((table) => ({ table, href: `/v1/tables/${table}` })) });
});
