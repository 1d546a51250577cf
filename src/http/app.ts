import { Hono } from "hono";
import { catalog } from "../catalog/routes.js";
import type { Env } from "../config.js";
import { FloeError } from "../errors.js";
import { events } from "./events.js";
import { maintenance } from "./maintenance.js";
import { tables } from "./tables.js";
import { uploads } from "./uploads.js";
import { webhooks } from "./webhooks.js";

/**
 * The HTTP API. Every refusal is `{"error": {"code", "message", "details"?}}` with a 4xx status;
 * a 5xx is only ever the service's own fault (misconfiguration, storage or queue unavailable).
 */
export const app = new Hono<{ Bindings: Env }>();

app.get("/healthz", (c) => c.json({ ok: true, service: "floe" }));
app.route("/", events);
app.route("/", tables);
app.route("/", maintenance);
app.route("/", webhooks);
app.route("/", uploads);
app.route("/iceberg", catalog);

app.notFound((c) => c.json({ error: { code: "not_found", message: `no route for ${c.req.method} ${new URL(c.req.url).pathname}` } }, 404));

app.onError((err, c) => {
  if (err instanceof FloeError) {
    const headers: Record<string, string> = {};
    const retryAfter = err.details?.retryAfter;
    if (err.status === 429 || err.status === 503) headers["Retry-After"] = String(typeof retryAfter === "number" ? retryAfter : 5);
    if (err.status >= 500) console.error(`floe: ${err.code}: ${err.message}`);
    return c.json({ error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } }, err.status as 400, headers);
  }
  console.error("floe: unexpected error", err);
  return c.json({ error: { code: "internal", message: "internal error" } }, 500);
});
