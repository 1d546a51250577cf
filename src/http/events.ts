import { Hono } from "hono";
import { autoCreate, maxBodyBytes, type Env } from "../config.js";
import { FloeError } from "../errors.js";
import { parseTableName } from "../names.js";
import { enqueueRows } from "../queue/enqueue.js";
import { bearer } from "./auth.js";
import { parseEvents, readBody } from "./body.js";
import { tableInfo } from "./table-cache.js";
import { validateRows } from "./validate.js";

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

export const events = new Hono<{ Bindings: Env }>();

/**
 * `POST /v1/tables/{table}/events`: a JSON object, an array of objects, or NDJSON; gzip accepted.
 * Answers 202 only once the events are in the queue (or their body is staged in R2 and a pointer
 * is queued): 202 means durable.
 */
events.post("/v1/tables/:table/events", bearer("FLOE_INGEST_TOKEN"), async (c) => {
  const name = parseTableName(c.req.param("table"));
  const idem = c.req.header("idempotency-key");
  if (idem !== undefined && !IDEMPOTENCY_KEY.test(idem)) {
    throw new FloeError("invalid_input", "Idempotency-Key must be 1–255 visible ASCII characters", { details: { header: "Idempotency-Key" } });
  }
  const rows = parseEvents(await readBody(c.req.raw, maxBodyBytes(c.env)), c.req.header("content-type"));
  const info = await tableInfo(c.env, name.full);
  if (!info.exists && !autoCreate(c.env) && !info.configured) {
    throw new FloeError("not_found", `table ${name.full} does not exist (auto-create is off: create it with PUT /v1/tables/${name.full})`, { details: { table: name.full } });
  }
  validateRows(info, rows);

  const requestId = crypto.randomUUID();
  await enqueueRows(c.env, name.full, rows, idem ? `idem:${idem}` : `req:${requestId}`, requestId);
  return c.json({ accepted: rows.length, requestId }, 202);
});
