import { createRoute, z } from "@hono/zod-openapi";
import { FloeError, rpc } from "../errors.js";
import { checkPattern, RATE_TIERS, SCOPES } from "../access/scopes.js";
import { log } from "../log.js";
import { allow, principal, registry } from "./auth.js";
import { api, jsonLimit, jsonRequest, jsonResponse, needs, refusals, serve } from "./openapi.js";

export const tokens = api();

const Origin = z.string().refine((o) => o === "*" || /^https?:\/\/[^/\s?#]+$/.test(o), "an origin is scheme://host[:port], without a path (or * for any)");

const NewTokenBody = z
  .object({
    name: z.string().min(1).max(64).openapi({ example: "shop-backend" }),
    kind: z.enum(["secret", "public"]).default("secret").openapi({ description: "`public`: a write-only key for browsers (one table, its origins, scope ingest), usable in a beacon's URL" }),
    scopes: z.array(z.enum(SCOPES)).min(1).openapi({ example: ["ingest"] }),
    tables: z.array(z.string()).min(1).max(100).openapi({ description: "Table patterns: `shop.*`, `clicks`, `*`", example: ["shop.*"] }),
    origins: z.array(Origin).max(100).default([]).openapi({ description: "Browser origins that may use the token cross-origin", example: ["https://shop.example"] }),
    rateLimit: z.enum(RATE_TIERS).default("standard").openapi({ description: "`standard`: 6000 requests a minute; `low`: 60 (wrangler.toml `[[ratelimits]]`)" }),
    expiresInDays: z.number().positive().max(3650).optional().openapi({ description: "The token stops working after this many days (default: never)" }),
  })
  .strict()
  .openapi("NewToken");

const TokenEntry = z
  .object({
    id: z.string(),
    name: z.string(),
    kind: z.enum(["secret", "public"]),
    scopes: z.array(z.enum(SCOPES)),
    tables: z.array(z.string()),
    origins: z.array(z.string()),
    rateLimit: z.enum(RATE_TIERS),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable().openapi({ description: "Updated at most once a minute" }),
    expiresAt: z.string().nullable(),
  })
  .openapi("Token");

const create = createRoute({
  method: "post",
  path: "/v1/admin/tokens",
  tags: ["Access"],
  summary: "Create a token",
  description: "Answers the token's secret once: only its hash is kept. A `public` key is bound to one table and its origins, with scope ingest only.",
  security: needs("admin"),
  middleware: [allow("admin", { global: true }), jsonLimit] as const,
  request: jsonRequest(NewTokenBody, "The token's name, scopes, tables, origins and rate limit tier"),
  responses: { 201: jsonResponse(TokenEntry.extend({ token: z.string().openapi({ description: "The secret: shown this once" }) }), "Created"), ...refusals(400, 401, 403, 413, 415) },
});

serve(tokens, create, async (c) => {
  const req = c.req.valid("json");
  const tables = req.tables.map(checkPattern);
  if (req.kind === "public") {
    // A public key sits in web pages: it can only add rows, to one table, from its origins.
    if (req.scopes.length !== 1 || req.scopes[0] !== "ingest") throw new FloeError("invalid_input", "a public key has the ingest scope only", { details: { field: "scopes" } });
    if (tables.length !== 1 || tables[0].includes("*")) throw new FloeError("invalid_input", "a public key is bound to one table, named without *", { details: { field: "tables" } });
    if (!req.origins.length || req.origins.includes("*")) throw new FloeError("invalid_input", "a public key needs the origins of the pages that use it (not *)", { details: { field: "origins" } });
  }
  const { expiresInDays, ...spec } = req;
  const expiresAt = expiresInDays === undefined ? null : new Date(Date.now() + expiresInDays * 86_400_000).toISOString();
  const t = await rpc(registry(c.env).create({ ...spec, tables, expiresAt }));
  log("access", { action: "create", id: t.id, name: t.name, kind: t.kind, scopes: t.scopes, tables: t.tables, by: principal(c).name });
  return c.json(t, 201);
});

const list = createRoute({
  method: "get",
  path: "/v1/admin/tokens",
  tags: ["Access"],
  summary: "The tokens",
  description: "Names, scopes, tables, origins, created and last used; never secrets. Revoked tokens are gone. The environment's bootstrap tokens are not listed.",
  security: needs("admin"),
  middleware: [allow("admin", { global: true })] as const,
  responses: { 200: jsonResponse(z.object({ tokens: z.array(TokenEntry) }), "The tokens"), ...refusals(401, 403) },
});

serve(tokens, list, async (c) => c.json({ tokens: await rpc(registry(c.env).list()) }));

const revoke = createRoute({
  method: "delete",
  path: "/v1/admin/tokens/{id}",
  tags: ["Access"],
  summary: "Revoke a token",
  description: "The next request that carries it is refused (401).",
  security: needs("admin"),
  middleware: [allow("admin", { global: true })] as const,
  request: { params: z.object({ id: z.string().regex(/^[0-9a-f]{16}$/, "a token id is 16 hex digits").openapi({ param: { name: "id", in: "path" } }) }) },
  responses: { 200: jsonResponse(z.object({ revoked: TokenEntry }), "Revoked"), ...refusals(400, 401, 403, 404) },
});

serve(tokens, revoke, async (c) => {
  const revoked = await rpc(registry(c.env).revoke(c.req.valid("param").id));
  log("access", { action: "revoke", id: revoked.id, name: revoked.name, by: principal(c).name });
  return c.json({ revoked });
});
