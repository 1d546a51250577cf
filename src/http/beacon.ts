import { createRoute, z } from "@hono/zod-openapi";
import { maxBodyBytes } from "../config.js";
import { FloeError } from "../errors.js";
import { parseToken } from "../access/tokens.js";
import { parseTableName } from "../names.js";
import { admit, principalOf, rateLimit } from "./auth.js";
import { parseEvents, readBody } from "./body.js";
import { acceptRows } from "./events.js";
import { api, jsonResponse, refusals, serve, TableParam } from "./openapi.js";
import { Accepted } from "./receipts.js";

export const beacon = api();

const route = createRoute({
  method: "post",
  path: "/v1/beacon/{table}",
  tags: ["Ingest"],
  summary: "Send events from a browser (navigator.sendBeacon)",
  description:
    "For pages: `navigator.sendBeacon(url, JSON.stringify(event))` sends `text/plain` and no headers of its own, so the key travels in the URL: a public key (`floe_pk_…`, created with kind `public`), bound to this table and to the origins of the pages that use it, never a secret token. The body is a JSON object, an array of objects, or NDJSON, as `text/plain`, `application/json` or `application/x-ndjson`. The request must come from one of the key's origins (its `Origin` header); it is checked like any other events request, counted against the key's rate limit, and answered with CORS headers for its origin.",
  security: [{ publicKey: [] }],
  request: {
    params: TableParam,
    query: z.object({ key: z.string().openapi({ description: "A public key (floe_pk_…)" }) }),
    body: { required: true, content: { "text/plain": { schema: { type: "string", description: "JSON or NDJSON" } } } },
  },
  responses: { 202: jsonResponse(Accepted, "The events are durably queued"), ...refusals(400, 401, 403, 413, 415, 429, 503) },
});

serve(beacon, route, async (c) => {
  const name = parseTableName(c.req.valid("param").table);
  const parts = parseToken(c.req.valid("query").key);
  // A URL ends up in logs and histories: only a key that is public by design may travel in one.
  if (!parts || parts.kind !== "public") throw new FloeError("unauthorized", "key must be a public key (floe_pk_…): secret tokens never go in a URL");
  const p = await principalOf(c.env, c.req.valid("query").key);
  if (!c.req.header("origin")) throw new FloeError("forbidden", "a beacon must come from a page: the Origin header is missing");
  admit(c, p, ["ingest"], name.full);
  await rateLimit(c.env, p);
  const type = (c.req.header("content-type") ?? "text/plain").split(";")[0].trim().toLowerCase();
  if (!["text/plain", "application/json", "application/x-ndjson"].includes(type)) throw new FloeError("unsupported_media_type", `Content-Type ${type} is not accepted here: send text/plain, application/json or application/x-ndjson`);
  const text = await readBody(c.req.raw, maxBodyBytes(c.env));
  // text/plain carries either: an array or a single object on one line parse alike as JSON.
  const rows = parseEvents(text, type === "application/x-ndjson" || (type === "text/plain" && !/^\s*\[/.test(text) && text.trim().includes("\n")) ? "application/x-ndjson" : "application/json");
  const requestId = await acceptRows(c.env, name, rows, undefined);
  return c.json({ accepted: rows.length, requestId, status: `/v1/requests/${requestId}` }, 202);
});
