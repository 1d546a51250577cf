import { createRoute, z } from "@hono/zod-openapi";
import type { SchemaObject } from "openapi3-ts/oas31";
import { autoCreate, maxBodyBytes, type Env } from "../config.js";
import { FloeError } from "../errors.js";
import { newRequestId, parseTableName, type TableName } from "../names.js";
import { enqueueRows } from "../queue/enqueue.js";
import { allow } from "./auth.js";
import { parseEvents, readBody } from "./body.js";
import { api, serve, needs, jsonResponse, refusals, TableParam } from "./openapi.js";
import { Accepted, answerWhenCommitted, Committed, WaitQuery } from "./receipts.js";
import { tableInfo } from "./table-cache.js";
import { validateRows } from "./validate.js";

export const events = api();

/** The events body is read by `readBody` (size limit, gzip) and parsed by `parseEvents`, so it is described here, not validated by a schema. */
const EventsBody: SchemaObject = {
  oneOf: [
    { type: "object", description: "One event", additionalProperties: true },
    { type: "array", description: "Events", minItems: 1, items: { type: "object", additionalProperties: true } },
  ],
};

const route = createRoute({
  method: "post",
  path: "/v1/tables/{table}/events",
  tags: ["Ingest"],
  summary: "Send events",
  description:
    "A JSON object, an array of objects, or NDJSON; `Content-Encoding: gzip` accepted. Every row is checked against the table first: one that does not fit refuses the whole request (nothing accepted), naming row and field. " +
    "202 means the events are durably queued. With `wait=true` the answer comes once they are committed (200, with the snapshot), or after `timeout` seconds as a 202 with a status URL.",
  security: needs("ingest"),
  middleware: [allow("ingest")] as const,
  request: {
    params: TableParam,
    query: WaitQuery,
    headers: z.object({
      "idempotency-key": z
        .string()
        .regex(/^[\x21-\x7e]{1,255}$/, "Idempotency-Key must be 1–255 visible ASCII characters")
        .optional()
        .openapi({ description: "Resending a request with the same key adds its rows once (within the dedupe window)" }),
    }),
    body: {
      required: true,
      content: {
        "application/json": { schema: EventsBody },
        "application/x-ndjson": { schema: { type: "string", description: "One JSON object per line" } },
      },
    },
  },
  responses: {
    200: jsonResponse(Committed, "With `wait=true`: the events are committed"),
    202: jsonResponse(Accepted, "The events are durably queued (or, with `wait=true`, not yet committed when the wait ended)"),
    ...refusals(400, 401, 404, 413, 415, 429, 503),
  },
});

serve(events, route, async (c) => {
  const name = parseTableName(c.req.valid("param").table);
  const idem = c.req.valid("header")["idempotency-key"];
  const rows = parseEvents(await readBody(c.req.raw, maxBodyBytes(c.env)), c.req.header("content-type"));
  const requestId = await acceptRows(c.env, name, rows, idem);
  return answerWhenCommitted(c, c.req.valid("query"), requestId, { accepted: rows.length, requestId });
});

/**
 * Checks a request's rows against the table (and its limits) and queues them: the one path of
 * events, from producers and from browsers (beacon.ts). Answers the request id once they are durable.
 */
export async function acceptRows(env: Env, name: TableName, rows: unknown[], idem: string | undefined): Promise<string> {
  const info = await tableInfo(env, name.full);
  if (!info.exists && !autoCreate(env) && !info.configured) {
    throw new FloeError("not_found", `table ${name.full} does not exist (auto-create is off: create it with PUT /v1/tables/${name.full})`, { details: { table: name.full } });
  }
  validateRows(info, rows);
  const requestId = newRequestId(name.full);
  await enqueueRows(env, name.full, rows, idem ? `idem:${idem}` : `req:${requestId}`, requestId);
  return requestId;
}
