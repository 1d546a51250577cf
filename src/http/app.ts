import { createRoute, z } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import { catalog } from "../catalog/routes.js";
import { describeCatalog } from "../catalog/doc.js";
import { FloeError } from "../errors.js";
import { errorText, log } from "../log.js";
import { beacon } from "./beacon.js";
import { cors } from "./cors.js";
import { events } from "./events.js";
import { maintenance } from "./maintenance.js";
import { api, codeFor, jsonResponse, serve } from "./openapi.js";
import { quarantine } from "./quarantine.js";
import { requests } from "./receipts.js";
import { tables } from "./tables.js";
import { tokens } from "./tokens.js";
import { uploads } from "./uploads.js";
import { webhooks } from "./webhooks.js";

/**
 * The HTTP API. Every refusal is `{"error": {"code", "message", "details"?}}` with a 4xx status;
 * a 5xx is only ever the service's own fault (misconfiguration, storage or queue unavailable).
 */
export const app = api();

/** One log line per request: method, path (never the query), status, time, and the request id an answer carries. */
app.use(async (c, next) => {
  const started = Date.now();
  await next();
  const path = new URL(c.req.url).pathname;
  if (path === "/healthz") return;
  log("request", { method: c.req.method, path, status: c.res.status, ms: Date.now() - started, requestId: c.res.headers.get("floe-request-id") ?? undefined });
});

// Browser producers: preflights, and CORS headers on what a token's origin may read.
app.use(cors);

const health = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["Tables"],
  summary: "Liveness",
  description: "Answers without touching storage, for load balancers and uptime checks.",
  responses: { 200: jsonResponse(z.object({ ok: z.literal(true), service: z.literal("floe") }), "Serving") },
});
serve(app, health, async (c) => c.json({ ok: true, service: "floe" }));
app.route("/", events);
app.route("/", beacon);
app.route("/", requests);
app.route("/", tables);
app.route("/", maintenance);
app.route("/", quarantine);
app.route("/", webhooks);
app.route("/", uploads);
app.route("/", tokens);
app.route("/iceberg", catalog);

app.openAPIRegistry.registerComponent("securitySchemes", "token", {
  type: "http",
  scheme: "bearer",
  description:
    "A token holding the scope a route lists (ingest, read, catalog, admin; admin holds all) for the route's table: one minted with POST /v1/admin/tokens (floe_sk_…), or a bootstrap token from the environment: FLOE_ADMIN_TOKEN (admin, every table), FLOE_INGEST_TOKEN (ingest and read), FLOE_CATALOG_TOKEN (catalog).",
});
app.openAPIRegistry.registerComponent("securitySchemes", "publicKey", { type: "apiKey", in: "query", name: "key", description: "A public key (floe_pk_…) in the beacon's URL: write-only, one table, its origins" });
describeCatalog(app.openAPIRegistry, "/iceberg");

/** The API's description, generated from the schemas the routes validate with. */
app.doc31("/openapi.json", {
  openapi: "3.1.0",
  info: {
    title: "Floe",
    version: "0.1.0",
    description: "Event-driven ingestion into Apache Iceberg tables on Cloudflare. Refusals are `{\"error\": {\"code\", \"message\", \"details\"}}` with a 4xx status.",
  },
  tags: [
    { name: "Ingest", description: "Events in, and what became of them" },
    { name: "Tables" },
    { name: "Quarantine", description: "What could not be written, and its replay" },
    { name: "Uploads" },
    { name: "Webhooks" },
    { name: "Access", description: "Scoped tokens and public keys" },
    { name: "Iceberg REST catalog", description: "Engines attach at /iceberg" },
  ],
});

app.notFound((c) => c.json({ error: { code: "not_found", message: `no route for ${c.req.method} ${new URL(c.req.url).pathname}` } }, 404));

app.onError((err, c) => {
  if (err instanceof FloeError) {
    const headers: Record<string, string> = {};
    const retryAfter = err.details?.retryAfter;
    if (err.status === 429 || err.status === 503) headers["Retry-After"] = String(typeof retryAfter === "number" ? retryAfter : 5);
    if (err.status >= 500) log("error", { code: err.code, message: err.message, method: c.req.method, path: new URL(c.req.url).pathname }, "error");
    return c.json({ error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } }, err.status as 400, headers);
  }
  // Hono's own refusals (a body that is not JSON, a media type a route does not take).
  if (err instanceof HTTPException && err.status < 500) {
    const message =
      err.status === 400 && /json/i.test(err.message) ? `invalid JSON: ${err.message}` : err.status === 415 ? `Content-Type ${c.req.header("content-type") ?? "(none)"} is not accepted here: send Content-Type: application/json` : err.message;
    return c.json({ error: { code: codeFor(err.status), message } }, err.status);
  }
  log("error", { code: "internal", message: errorText(err), method: c.req.method, path: new URL(c.req.url).pathname }, "error");
  return c.json({ error: { code: "internal", message: "internal error" } }, 500);
});
