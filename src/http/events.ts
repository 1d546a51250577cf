import { Hono } from "hono";
import { autoCreate, maxBodyBytes, type Env } from "../config.js";
import { FloeError } from "../errors.js";
import { parseTableName } from "../names.js";
import { packMessages, type IngestMessage } from "../queue/messages.js";
import { bindingStore } from "../storage/lake.js";
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
  const envelope = { table: name.full, requestId, keyPrefix: idem ? `idem:${idem}` : `req:${requestId}`, receivedAt: Date.now() };
  const lines = rows.map((r) => JSON.stringify(r));
  const messages = packMessages(lines, envelope);
  if (messages) {
    await send(c.env, messages);
  } else {
    // Too large for one sendBatch: stage the rows in R2 (one atomic write) and queue a pointer.
    const stagingKey = `staging/${new Date().toISOString().slice(0, 10)}/${requestId}.ndjson`;
    const store = bindingStore(c.env);
    await store.put(stagingKey, lines.join("\n"), { contentType: "application/x-ndjson" });
    try {
      await send(c.env, [{ v: 1, kind: "staged", ...envelope, stagingKey, count: rows.length }]);
    } catch (e) {
      await store.delete(stagingKey).catch(() => undefined);
      throw e;
    }
  }
  return c.json({ accepted: rows.length, requestId }, 202);
});

async function send(env: Env, messages: IngestMessage[]): Promise<void> {
  try {
    await env.INGEST.sendBatch(messages.map((body) => ({ body })));
  } catch (e) {
    throw queueRefusal(e);
  }
}

/**
 * What a failed send means for the client: Queues refuses with a rate or backlog error when it
 * pushes back (429: slow down), anything else is the queue being unavailable (503). Both carry a
 * Retry-After; neither is the client's mistake, and nothing of the request was accepted.
 */
export function queueRefusal(e: unknown): FloeError {
  const text = (e as Error)?.message ?? String(e);
  if (/rate|too many|exceed|limit|backlog|429/i.test(text)) return new FloeError("rate_limited", `the queue is pushing back (${text}); retry after a few seconds`, { cause: e, details: { retryAfter: 5 } });
  return new FloeError("storage_unavailable", `the queue is unavailable (${text}); retry`, { cause: e, details: { retryAfter: 5 } });
}
