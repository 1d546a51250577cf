import { createRoute, z } from "@hono/zod-openapi";
import { rpc } from "../errors.js";
import { parseTableName } from "../names.js";
import { replayQuarantine } from "../queue/replay.js";
import { allow } from "./auth.js";
import { api, needs, jsonLimit, jsonRequest, jsonResponse, refusals, serve, TableParam } from "./openapi.js";
import { forgetTable } from "./table-cache.js";

export const quarantine = api();

const STATES = ["quarantined", "replayed", "landed"] as const;

const Entry = z
  .object({
    id: z.string(),
    key: z.string().openapi({ description: "The record in the lake bucket, holding the original message" }),
    state: z.enum(STATES).openapi({ description: "quarantined (waiting), replayed (sent again), landed (the replay's rows are in the table)" }),
    reason: z.string(),
    code: z.string().openapi({ example: "invalid_input" }),
    attempts: z.number().int().openapi({ description: "Deliveries before it was quarantined" }),
    rows: z.number().int(),
    size: z.number().int().openapi({ description: "Bytes of its rows" }),
    requestId: z.string().nullable(),
    firstQuarantinedAt: z.string(),
    preview: z.string().openapi({ description: "The start of its rows (NDJSON)" }),
    quarantinedAt: z.string(),
    replays: z.number().int(),
    replayedAt: z.string().nullable(),
    landedAt: z.string().nullable(),
  })
  .openapi("QuarantineEntry");

const list = createRoute({
  method: "get",
  path: "/v1/tables/{table}/quarantine",
  tags: ["Quarantine"],
  summary: "The table's quarantine",
  description: "Messages that could not be written (rows that no longer fit, retries exhausted, the dead-letter queue), in the order they were first quarantined. Paged by `after` (the previous page's `next`).",
  security: needs("admin"),
  middleware: [allow("admin")] as const,
  request: {
    params: TableParam,
    query: z.object({
      state: z.enum(STATES).optional(),
      reason: z.string().min(1).max(200).optional().openapi({ description: "Entries whose code is this, or whose reason contains it" }),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
      after: z.coerce.number().int().nonnegative().optional(),
    }),
  },
  responses: { 200: jsonResponse(z.object({ entries: z.array(Entry), next: z.number().int().nullable() }), "A page of entries"), ...refusals(400, 401) },
});

serve(quarantine, list, async (c) => {
  const name = parseTableName(c.req.valid("param").table);
  const q = c.req.valid("query");
  return c.json(await rpc(c.env.TABLES.get(c.env.TABLES.idFromName(name.full)).quarantine(name.full, q)));
});

const force = z.boolean().optional().openapi({ description: "Also entries first quarantined longer ago than the dedupe window (their rows' keys may be forgotten: rows of them that had landed would be added again)" });
const after = z.number().int().nonnegative().optional().openapi({ description: "The `next` of the previous call, to go on past entries it skipped" });
const ReplayRequest = z
  .union([
    z.object({ all: z.literal(true), after, force }).strict(),
    z.object({ ids: z.array(z.string().min(1).max(200)).min(1).max(200), force }).strict(),
    z.object({ reason: z.string().min(1).max(200), after, force }).strict(),
  ])
  .openapi("ReplayRequest", { description: '`{"all": true}`, `{"ids": [...]}`, or `{"reason": "..."}` (a code, or text the reason contains); optionally `after` and `force`' });

const replay = createRoute({
  method: "post",
  path: "/v1/tables/{table}/quarantine/replay",
  tags: ["Quarantine"],
  summary: "Replay quarantined messages",
  description:
    "Sends the chosen entries' messages back to the queue. Their rows keep their event keys, so what landed before is not added twice (within the dedupe window). " +
    "An entry becomes `replayed`, then `landed`, or `quarantined` again with its new reason. At most 200 entries per call (`more` says if others match: call again).",
  security: needs("admin"),
  middleware: [allow("admin"), jsonLimit] as const,
  request: { params: TableParam, ...jsonRequest(ReplayRequest, "Which entries") },
  responses: {
    202: jsonResponse(z.object({ replayed: z.array(z.string()), skipped: z.array(z.object({ id: z.string(), reason: z.string() })), more: z.boolean(), next: z.number().int().nullable() }), "Sent again"),
    ...refusals(400, 401, 413, 415, 429, 503),
  },
});

serve(quarantine, replay, async (c) => {
  const name = parseTableName(c.req.valid("param").table);
  const report = await replayQuarantine(c.env, name.full, c.req.valid("json"));
  forgetTable(name.full);
  return c.json(report, 202);
});
