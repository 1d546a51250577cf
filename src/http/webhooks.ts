import { createRoute, z } from "@hono/zod-openapi";
import { maxBodyBytes, type Env } from "../config.js";
import { FloeError, isFloeError, rpc } from "../errors.js";
import { newRequestId, parseTableName } from "../names.js";
import { enqueueRows } from "../queue/enqueue.js";
import type { SourceConfig } from "../sources/config.js";
import { webhookSources } from "../sources/registry.js";
import { deliveryRow, webhookSchema } from "../sources/row.js";
import { verifyDelivery } from "../sources/verify.js";
import { allow } from "./auth.js";
import { readBodyBytes } from "./body.js";
import { api, needs, jsonResponse, refusals, serve } from "./openapi.js";
import { Accepted, answerWhenCommitted, Committed, WaitQuery } from "./receipts.js";
import { forgetTable, tableInfo } from "./table-cache.js";

export const webhooks = api();

const counter = (env: Env, source: string) => env.SOURCES.get(env.SOURCES.idFromName(source));

/**
 * `POST /v1/webhooks/{source}`: a provider's delivery. The signature is checked on the raw bytes
 * before anything is parsed; a verified delivery is queued as one row keyed by its delivery id
 * (so any number of redeliveries is one row) and answered 202 at once: providers give up after
 * about 10 s. Slack's url_verification is answered with its challenge, GitHub's ping with 200.
 */
const SourceParam = z.object({ source: z.string().max(200).openapi({ param: { name: "source", in: "path" }, description: "A source named in FLOE_SOURCES", example: "github" }) });

const deliver = createRoute({
  method: "post",
  path: "/v1/webhooks/{source}",
  tags: ["Webhooks"],
  summary: "A provider's delivery",
  description:
    "Verified by the source's signature scheme (GitHub, Stripe, Slack, Standard Webhooks, or a generic HMAC) on the raw bytes before anything is parsed; no bearer token. " +
    "Queued as one row keyed by the delivery id, so redeliveries are one row. Slack's url_verification is answered with its challenge, GitHub's ping with 200. `wait=true` works as on events.",
  request: { params: SourceParam, query: WaitQuery, body: { required: true, content: { "application/json": { schema: { type: "object", additionalProperties: true } } } } },
  responses: {
    200: jsonResponse(z.union([Committed, z.object({ challenge: z.string() }), z.object({ ok: z.literal(true), ping: z.literal(true), source: z.string() })]), "Committed (`wait=true`), a Slack challenge, or a GitHub ping"),
    202: jsonResponse(Accepted.extend({ deliveryId: z.string(), redelivery: z.boolean() }), "Queued"),
    ...refusals(401, 404, 413, 415, 429, 503),
  },
});

serve(webhooks, deliver, async (c) => {
  const name = c.req.valid("param").source;
  const source = webhookSources(c.env).get(name);
  if (!source) throw new FloeError("not_found", `no webhook source named ${JSON.stringify(name.slice(0, 64))}`, { details: { source: name.slice(0, 64) } });
  let raw: Uint8Array;
  try {
    raw = await readBodyBytes(c.req.raw, maxBodyBytes(c.env));
  } catch (e) {
    if (isFloeError(e)) await rpc(counter(c.env, name).refused(name, e.code)).catch(() => undefined);
    throw e;
  }
  const v = await verifyDelivery(source, c.req.raw.headers, raw, Date.now());
  if (!v.ok) {
    if (v.reason === "bad_secret_config") throw new FloeError("misconfigured", `configuration: source ${name}: ${v.message}`);
    await rpc(counter(c.env, name).refused(name, v.reason)).catch(() => undefined);
    throw new FloeError("unauthorized", v.message, { details: { source: name, reason: v.reason } });
  }
  if (v.challenge !== undefined) return c.json({ challenge: v.challenge });
  if (v.ping) return c.json({ ok: true, ping: true, source: name });

  await ensureTable(c.env, source);
  const table = parseTableName(source.table).full;
  const requestId = newRequestId(table);
  // The source's count (which also says whether the id was seen before) runs beside the enqueue, so
  // the 202 waits for the slower of the two, not their sum. It is bookkeeping (the table's ledger
  // dedupes for real): a delivery the queue refused is taken back out of it.
  const stub = counter(c.env, name);
  const counted = rpc(stub.delivered(name, v.deliveryId, Date.now())).catch(() => null);
  try {
    await enqueueRows(c.env, table, [deliveryRow(source, v, raw)], `wh:${name}:${v.deliveryId}`, requestId);
  } catch (e) {
    const count = await counted;
    if (count && !count.duplicate) await rpc(stub.notDelivered(name, v.deliveryId)).catch(() => undefined);
    throw e;
  }
  const duplicate = (await counted)?.duplicate ?? false;
  return answerWhenCommitted(c, c.req.valid("query"), requestId, { accepted: 1, deliveryId: v.deliveryId, redelivery: duplicate, requestId });
});

/** The source's table exists with the webhook columns (created, or given new extracted columns). */
async function ensureTable(env: Env, source: SourceConfig): Promise<void> {
  const table = parseTableName(source.table).full;
  const want = webhookSchema(source);
  const info = await tableInfo(env, table);
  const have = new Set(info.schema?.fields.map((f) => f.name) ?? []);
  if (info.exists && want.fields.every((f) => have.has(f.name))) return;
  await rpc(env.TABLES.get(env.TABLES.idFromName(table)).configure(table, { schema: want }));
  forgetTable(table);
}

/** `GET /v1/webhooks` (admin): the sources, their provider and table, and their counts. Never their secrets. */
const Source = z
  .object({
    source: z.string(),
    provider: z.string(),
    table: z.string(),
    url: z.string(),
    secrets: z.number().int().openapi({ description: "How many secrets verify (rotation); never the secrets" }),
    received: z.number().int(),
    duplicates: z.number().int().openapi({ description: "Redeliveries of a delivery id seen before" }),
    refused: z.record(z.string(), z.number().int()).openapi({ description: "Refused deliveries by reason (bad_signature, expired, too_large, …)" }),
    lastDeliveryAt: z.string().nullable(),
    lastDeliveryId: z.string().nullable(),
  })
  .passthrough()
  .openapi("WebhookSource");

const list = createRoute({
  method: "get",
  path: "/v1/webhooks",
  tags: ["Webhooks"],
  summary: "The webhook sources and their counts",
  description: "Per source: deliveries received, redeliveries, refusals by reason, the last delivery. Never the secrets.",
  security: needs("admin"),
  middleware: [allow("admin", { global: true })] as const,
  responses: { 200: jsonResponse(z.object({ sources: z.array(Source) }), "The sources"), ...refusals(401) },
});

serve(webhooks, list, async (c) => {
  const out = [];
  for (const s of webhookSources(c.env).values()) {
    const status = await rpc(counter(c.env, s.name).status(s.name));
    out.push({ ...status, provider: s.provider, table: parseTableName(s.table).full, url: `/v1/webhooks/${s.name}`, secrets: s.secrets.length });
  }
  return c.json({ sources: out });
});
