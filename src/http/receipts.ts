import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { Env } from "../config.js";
import type { Receipt } from "../durable/receipts.js";
import { rpc } from "../errors.js";
import { parseRequestId } from "../names.js";
import { allow } from "./auth.js";
import { api, serve, needs, jsonResponse, refusals } from "./openapi.js";

/** How long `wait=true` waits at most by default (`FLOE_WAIT_TIMEOUT_MS` changes it). */
export const DEFAULT_WAIT_MS = 30_000;
/** The longest wait a request may ask for (`timeout`, in seconds). */
const MAX_WAIT_S = 300;

export const WaitQuery = z.object({
  wait: z
    .enum(["true", "false", "1", "0"])
    .optional()
    .openapi({ description: "`true`: answer once the events are committed (200 with the snapshot), or 202 with a status URL when `timeout` runs out" }),
  timeout: z.coerce
    .number()
    .positive()
    .max(MAX_WAIT_S)
    .optional()
    .openapi({ description: `Seconds to wait with \`wait=true\` (default 30, or FLOE_WAIT_TIMEOUT_MS; at most ${MAX_WAIT_S})`, example: 10 }),
});

export const Accepted = z
  .object({
    accepted: z.number().int().openapi({ description: "Rows accepted" }),
    requestId: z.string().openapi({ description: "The request's id: names it in logs, its status URL and its receipt", example: "019389c2-4f1e-7b3a-9c2d-5e6f7a8b9c0d~default.events" }),
    status: z.string().openapi({ description: "Where to ask what became of the request", example: "/v1/requests/019389c2-4f1e-7b3a-9c2d-5e6f7a8b9c0d~default.events" }),
    state: z.enum(["pending", "quarantined"]).optional().openapi({ description: "With `wait=true`: not committed yet, or quarantined (see the status URL for why)" }),
  })
  .passthrough()
  .openapi("Accepted");

export const Committed = z
  .object({
    accepted: z.number().int(),
    requestId: z.string(),
    snapshotId: z.string().nullable().openapi({ description: "The snapshot that made the last of the rows visible (a decimal string: ids are 64-bit); null when they were all there already (a resend)" }),
    sequenceNumber: z.number().int().nullable(),
    committedAt: z.string().openapi({ description: "ISO time" }),
    duplicate: z.boolean().optional().openapi({ description: "Every row was already committed (an idempotent resend): nothing was added" }),
  })
  .passthrough()
  .openapi("Committed");

const ReceiptBody = z
  .object({
    requestId: z.string(),
    table: z.string(),
    state: z.enum(["pending", "committed", "quarantined"]),
    rows: z.number().int().nullable().openapi({ description: "Rows of the request (null until a part of it was seen by the consumer)" }),
    committedRows: z.number().int(),
    snapshotId: z.string().nullable(),
    sequenceNumber: z.number().int().nullable(),
    committedAt: z.string().nullable(),
    duplicate: z.boolean().optional(),
    quarantine: z.object({ id: z.string(), reason: z.string(), code: z.string() }).optional().openapi({ description: "Why its rows are quarantined; replay with POST /v1/tables/{table}/quarantine/replay" }),
  })
  .openapi("Receipt");

type Ctx = Context<{ Bindings: Env }>;

const stubOf = (env: Env, table: string) => env.TABLES.get(env.TABLES.idFromName(table));

/** What a request became: the table object's receipt, or `pending` while nothing of it landed. */
async function receipt(env: Env, requestId: string): Promise<Receipt & { table: string }> {
  const { table, at } = parseRequestId(requestId);
  const r = await rpc(stubOf(env, table.full).request(table.full, requestId, at));
  return { table: table.full, ...(r ?? { requestId, state: "pending", rows: null, committedRows: 0, snapshotId: null, sequenceNumber: null, committedAt: null }) };
}

function waitMs(env: Env, timeout: number | undefined): number {
  if (timeout !== undefined) return timeout * 1000;
  const n = Number(env.FLOE_WAIT_TIMEOUT_MS ?? DEFAULT_WAIT_MS);
  return Number.isFinite(n) && n > 0 ? Math.min(n, MAX_WAIT_S * 1000) : DEFAULT_WAIT_MS;
}

/**
 * Answers an accepted request: 202 at once; with `wait=true`, once its receipt says committed (200
 * with the snapshot), or when the wait ends (202 with the status URL and the state then). The
 * receipt is asked for every 100 ms at first, every 500 ms later and every 2 s after 10 s: the
 * consumer takes a second or more per batch, and each ask is one small read of the table's object
 * (about 30 in a 30 s wait).
 */
export async function answerWhenCommitted(c: Ctx, q: z.infer<typeof WaitQuery>, requestId: string, body: { accepted: number; requestId: string } & Record<string, unknown>): Promise<Response> {
  const status = `/v1/requests/${requestId}`;
  c.header("Floe-Request-Id", requestId);
  if (q.wait !== "true" && q.wait !== "1") return c.json({ ...body, status }, 202);
  const started = Date.now();
  const deadline = started + waitMs(c.env, q.timeout);
  for (let pause = 100; ; pause = Math.min(pause * 1.5, Date.now() - started > 10_000 ? 2000 : 500)) {
    let r: Awaited<ReturnType<typeof receipt>>;
    try {
      r = await receipt(c.env, requestId);
    } catch {
      // The rows are queued whatever the table's object answers now: never a 5xx (a client would
      // resend them), but the status URL to ask again.
      return c.json({ ...body, status, state: "pending" }, 202);
    }
    if (r.state === "committed") {
      return c.json({ ...body, snapshotId: r.snapshotId, sequenceNumber: r.sequenceNumber, committedAt: r.committedAt!, ...(r.duplicate ? { duplicate: true } : {}) }, 200);
    }
    if (r.state === "quarantined" || Date.now() + pause > deadline) return c.json({ ...body, status, state: r.state, ...(r.quarantine ? { quarantine: r.quarantine } : {}) }, 202);
    await new Promise((done) => setTimeout(done, pause));
  }
}

export const requests = api();

const getReceipt = createRoute({
  method: "get",
  path: "/v1/requests/{requestId}",
  tags: ["Ingest"],
  summary: "What became of a request",
  description: "pending (queued, not yet committed), committed (with the snapshot that made its rows visible) or quarantined (with why). Receipts are kept as long as the table's dedupe window (`floe.dedupe-window-days`, default 7 days).",
  security: needs("ingest", "read"),
  middleware: [allow(["ingest", "read"], { table: (c) => parseRequestId(c.req.param("requestId") ?? "").table.full })] as const,
  request: { params: z.object({ requestId: z.string().max(400).openapi({ param: { name: "requestId", in: "path" } }) }) },
  responses: { 200: jsonResponse(ReceiptBody, "The request's state"), ...refusals(400, 401, 404) },
});

serve(requests, getReceipt, async (c) => {
  const id = c.req.valid("param").requestId;
  return c.json(await receipt(c.env, id), 200);
});
