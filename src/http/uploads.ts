import { Hono } from "hono";
import { lakeConfig, maxBodyBytes, type Env } from "../config.js";
import { FloeError, rpc } from "../errors.js";
import { parseTableName } from "../names.js";
import type { UploadMessage } from "../queue/messages.js";
import { objectId } from "../uploads/ingest.js";
import { reconcile } from "../uploads/reconcile.js";
import { INCOMING } from "../uploads/routing.js";
import { bearer } from "./auth.js";

export const uploads = new Hono<{ Bindings: Env }>();

/** Upload names: path segments of safe characters, no `.`/`..` segments, no leading slash. */
const NAME = /^(?!.*(^|\/)\.{1,2}(\/|$))[A-Za-z0-9._\-=+@,/ ]{1,512}$/;
/** Uploads through the endpoint may be larger than events: R2 takes the body as a stream. */
const MAX_UPLOAD_BYTES = 5 * 1024 * 1024 * 1024;

const stub = (env: Env, table: string) => env.TABLES.get(env.TABLES.idFromName(table));

/**
 * `PUT /v1/tables/{table}/uploads/{name}` (ingest token): streams the body into
 * `incoming/{table}/{name}` for clients without S3 credentials; from there it is ingested like any
 * upload (this also queues it at once, since a notification may be late, lost, or, locally, absent).
 */
uploads.put("/v1/tables/:table/uploads/:name{.+}", bearer("FLOE_INGEST_TOKEN"), async (c) => {
  const name = parseTableName(c.req.param("table"));
  const file = c.req.param("name");
  if (!NAME.test(file)) throw new FloeError("invalid_input", `invalid upload name ${JSON.stringify(file.slice(0, 100))}: letters, digits, . _ - = + @ , space and /, no . or .. segments`, { details: { name: file.slice(0, 100) } });
  const length = Number(c.req.header("content-length") ?? NaN);
  if (!Number.isFinite(length)) throw new FloeError("invalid_input", "Content-Length is required (R2 stores a body of known length)");
  if (length > Math.max(MAX_UPLOAD_BYTES, maxBodyBytes(c.env))) throw new FloeError("too_large", `the upload is over the limit of ${MAX_UPLOAD_BYTES} bytes; use the S3 API (multipart) for larger files`, { details: { limit: MAX_UPLOAD_BYTES } });
  const key = `${INCOMING}${name.namespace === "default" ? name.table : name.full}/${file}`;
  const put = await c.env.LAKE.put(key, c.req.raw.body, { httpMetadata: { contentType: c.req.header("content-type") ?? "application/octet-stream" } });
  const m: UploadMessage = { v: 1, kind: "upload", bucket: lakeConfig(c.env).LAKE_BUCKET, key, eTag: put.etag, size: put.size };
  await c.env.INGEST.send(m);
  return c.json({ key, eTag: put.etag, size: put.size, object: objectId(m) }, 202);
});

/** `GET /v1/tables/{table}/uploads`: the ledger (`?state=pending|ingested|failed|deleted`, `limit`, `after`). */
uploads.get("/v1/tables/:table/uploads", bearer("FLOE_INGEST_TOKEN", "FLOE_ADMIN_TOKEN"), async (c) => {
  const name = parseTableName(c.req.param("table"));
  const state = c.req.query("state");
  if (state && !["pending", "ingested", "failed", "deleted"].includes(state)) throw new FloeError("invalid_input", "state must be pending, ingested, failed or deleted");
  const list = await rpc(stub(c.env, name.full).uploads(name.full, { state, limit: Number(c.req.query("limit") ?? 100), after: c.req.query("after") }));
  return c.json({ uploads: list, next: list.length ? list[list.length - 1].object : null });
});

/** `POST /v1/tables/{table}/uploads/replay` (admin): failed uploads are ingested again (after you fixed the file or the table). */
uploads.post("/v1/tables/:table/uploads/replay", bearer("FLOE_ADMIN_TOKEN"), async (c) => {
  const name = parseTableName(c.req.param("table"));
  const failed = await rpc(stub(c.env, name.full).replayUploads(name.full));
  const bucket = lakeConfig(c.env).LAKE_BUCKET;
  const msgs: UploadMessage[] = failed.filter((u) => u.etag).map((u) => ({ v: 1, kind: "upload", bucket, key: u.key, eTag: u.etag!, size: u.size ?? 0 }));
  for (let i = 0; i < msgs.length; i += 100) await c.env.INGEST.sendBatch(msgs.slice(i, i + 100).map((body) => ({ body })));
  return c.json({ replayed: msgs.length, objects: msgs.map(objectId) }, 202);
});

/** `POST /v1/admin/reconcile` (admin): runs the reconciler now. */
uploads.post("/v1/admin/reconcile", bearer("FLOE_ADMIN_TOKEN"), async (c) => c.json(await reconcile(c.env)));
