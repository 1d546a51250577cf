import { createRoute, z } from "@hono/zod-openapi";
import { lakeConfig, maxBodyBytes } from "../config.js";
import { FloeError, rpc } from "../errors.js";
import { parseTableName } from "../names.js";
import type { UploadMessage } from "../queue/messages.js";
import { objectId } from "../uploads/ingest.js";
import { reconcile } from "../uploads/reconcile.js";
import { INCOMING } from "../uploads/routing.js";
import { allow } from "./auth.js";
import { api, jsonResponse, needs, refusals, serve, serveAt, TableParam } from "./openapi.js";

export const uploads = api();

/** Upload names: path segments of safe characters, no `.`/`..` segments, no leading slash. */
const NAME = /^(?!.*(^|\/)\.{1,2}(\/|$))[A-Za-z0-9._\-=+@,/ ]{1,512}$/;
/** Uploads through the endpoint may be larger than events: R2 takes the body as a stream. */
const MAX_UPLOAD_BYTES = 5 * 1024 * 1024 * 1024;

const stub = (env: Parameters<typeof lakeConfig>[0], table: string) => env.TABLES.get(env.TABLES.idFromName(table));

const upload = createRoute({
  method: "put",
  path: "/v1/tables/{table}/uploads/{name}",
  tags: ["Uploads"],
  summary: "Upload a file",
  description:
    "Streams the body into `incoming/{table}/{name}` for clients without S3 credentials; from there it is ingested like any upload (and queued at once, since a notification may be late, lost, or, locally, absent). " +
    "The name may hold `/`. Content-Length is required.",
  security: needs("ingest"),
  middleware: [allow("ingest")] as const,
  request: {
    params: TableParam.extend({
      name: z
        .string()
        .regex(NAME, "letters, digits, . _ - = + @ , space and /, no . or .. segments, at most 512")
        .openapi({ param: { name: "name", in: "path" }, example: "2026/11/orders.csv" }),
    }),
    headers: z.object({ "content-length": z.coerce.number({ error: "Content-Length is required (R2 stores a body of known length)" }).int().nonnegative() }),
    body: { required: true, content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } } },
  },
  responses: {
    202: jsonResponse(z.object({ key: z.string(), eTag: z.string(), size: z.number(), object: z.string() }), "Stored and queued"),
    ...refusals(400, 401, 413),
  },
});

// A name may hold `/`: hono matches it with `{.+}`, which OpenAPI paths cannot say.
serveAt(uploads, upload, "/v1/tables/:table/uploads/:name{.+}", async (c) => {
  const { table, name: file } = c.req.valid("param");
  const name = parseTableName(table);
  const length = c.req.valid("header")["content-length"];
  if (length > Math.max(MAX_UPLOAD_BYTES, maxBodyBytes(c.env))) throw new FloeError("too_large", `the upload is over the limit of ${MAX_UPLOAD_BYTES} bytes; use the S3 API (multipart) for larger files`, { details: { limit: MAX_UPLOAD_BYTES } });
  const key = `${INCOMING}${name.namespace === "default" ? name.table : name.full}/${file}`;
  const put = await c.env.LAKE.put(key, c.req.raw.body, { httpMetadata: { contentType: c.req.header("content-type") ?? "application/octet-stream" } });
  const m: UploadMessage = { v: 1, kind: "upload", bucket: lakeConfig(c.env).LAKE_BUCKET, key, eTag: put.etag, size: put.size };
  await c.env.INGEST.send(m);
  return c.json({ key, eTag: put.etag, size: put.size, object: objectId(m) }, 202);
});

const Upload = z
  .object({
    object: z.string().openapi({ description: "`{bucket}/{key}#{eTag}`: one version of an object" }),
    key: z.string(),
    etag: z.string().nullable(),
    size: z.number().nullable(),
    state: z.enum(["pending", "ingested", "failed", "deleted"]),
    rows: z.number(),
    ranges: z.number(),
    rangesDone: z.number(),
    snapshotId: z.string().nullable(),
    reason: z.string().nullable(),
    updatedAt: z.string(),
  })
  .openapi("Upload");

const ledger = createRoute({
  method: "get",
  path: "/v1/tables/{table}/uploads",
  tags: ["Uploads"],
  summary: "The uploads ledger",
  description: "One entry per object version, by state; failed ones with their reason. Paged by `after` (the previous page's `next`).",
  security: needs("read"),
  middleware: [allow("read")] as const,
  request: {
    params: TableParam,
    query: z.object({
      state: z.enum(["pending", "ingested", "failed", "deleted"]).optional(),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
      after: z.string().max(2000).optional(),
    }),
  },
  responses: { 200: jsonResponse(z.object({ uploads: z.array(Upload), next: z.string().nullable() }), "A page of the ledger"), ...refusals(400, 401) },
});

serve(uploads, ledger, async (c) => {
  const name = parseTableName(c.req.valid("param").table);
  const q = c.req.valid("query");
  const list = await rpc(stub(c.env, name.full).uploads(name.full, { state: q.state, limit: q.limit, after: q.after }));
  return c.json({ uploads: list, next: list.length === q.limit ? list[list.length - 1].object : null });
});

const replay = createRoute({
  method: "post",
  path: "/v1/tables/{table}/uploads/replay",
  tags: ["Uploads"],
  summary: "Replay failed uploads",
  description: "Failed uploads are ingested again (after you fixed the file or the table).",
  security: needs("admin"),
  middleware: [allow("admin")] as const,
  request: { params: TableParam },
  responses: { 202: jsonResponse(z.object({ replayed: z.number(), objects: z.array(z.string()) }), "Queued again"), ...refusals(400, 401, 429, 503) },
});

serve(uploads, replay, async (c) => {
  const name = parseTableName(c.req.valid("param").table);
  const failed = await rpc(stub(c.env, name.full).replayUploads(name.full));
  const bucket = lakeConfig(c.env).LAKE_BUCKET;
  const msgs: UploadMessage[] = failed.filter((u) => u.etag).map((u) => ({ v: 1, kind: "upload", bucket, key: u.key, eTag: u.etag!, size: u.size ?? 0 }));
  for (let i = 0; i < msgs.length; i += 100) await c.env.INGEST.sendBatch(msgs.slice(i, i + 100).map((body) => ({ body })));
  return c.json({ replayed: msgs.length, objects: msgs.map(objectId) }, 202);
});

const run = createRoute({
  method: "post",
  path: "/v1/admin/reconcile",
  tags: ["Uploads"],
  summary: "Run the upload reconciler now",
  description: "Lists the incoming prefixes and queues every object the ledger does not know (it runs every 5 minutes by cron).",
  security: needs("admin"),
  middleware: [allow("admin", { global: true })] as const,
  responses: { 200: jsonResponse(z.object({}).passthrough(), "What the reconciler found and queued"), ...refusals(401) },
});

serve(uploads, run, async (c) => c.json(await reconcile(c.env)));
