import type { Context, MiddlewareHandler } from "hono";
import { requiredToken, type Env } from "../config.js";
import { FloeError, rpc } from "../errors.js";
import { authorize, isSuperAdmin, originAllowed, type Principal, type Scope } from "../access/scopes.js";
import { parseToken, sameSecret } from "../access/tokens.js";
import { REGISTRY_OBJECT } from "../durable/token-registry.js";
import { parseTableName } from "../names.js";

export const registry = (env: Env) => env.ACCESS.get(env.ACCESS.idFromName(REGISTRY_OBJECT));

/**
 * The environment's tokens, the bootstrap: `FLOE_ADMIN_TOKEN` (admin of every table: it mints the
 * others), `FLOE_INGEST_TOKEN` (ingest and read, every table) and `FLOE_CATALOG_TOKEN` (the
 * catalog, read-only). Only the admin token is required.
 */
function bootstrap(env: Env): { secret: string; principal: Principal }[] {
  const p = (id: string, name: string, scopes: Scope[]): Principal => ({ id: `bootstrap:${id}`, name, kind: "bootstrap", scopes, tables: ["*"], origins: [], rateLimit: "standard" });
  const out = [{ secret: requiredToken(env, "FLOE_ADMIN_TOKEN"), principal: p("admin", "FLOE_ADMIN_TOKEN", ["admin"]) }];
  if (env.FLOE_INGEST_TOKEN) out.push({ secret: env.FLOE_INGEST_TOKEN, principal: p("ingest", "FLOE_INGEST_TOKEN", ["ingest", "read"]) });
  if (env.FLOE_CATALOG_TOKEN) out.push({ secret: env.FLOE_CATALOG_TOKEN, principal: p("catalog", "FLOE_CATALOG_TOKEN", ["catalog"]) });
  return out;
}

/**
 * Who a bearer token stands for: a minted token (`floe_sk_…`, `floe_pk_…`) is looked up in the
 * registry on every request (no cache: a revocation holds from the next request on); any other is
 * compared with every bootstrap token, in constant time.
 */
export async function principalOf(env: Env, token: string): Promise<Principal> {
  const parts = parseToken(token);
  if (parts) {
    const p = await rpc(registry(env).verify(parts));
    if (!p) throw new FloeError("unauthorized", "unknown or revoked token");
    return p;
  }
  let found: Principal | undefined;
  for (const b of bootstrap(env)) if (await sameSecret(token, b.secret)) found ??= b.principal;
  if (!found) throw new FloeError("unauthorized", "wrong token");
  return found;
}

export function bearerOf(header: string | undefined, hint = "send Authorization: Bearer <token>"): string {
  const m = /^Bearer\s+(.+)$/i.exec((header ?? "").trim());
  if (!m) throw new FloeError("unauthorized", `missing bearer token: ${hint}`);
  return m[1];
}

/** The principal `allow` admitted for this request. */
const admitted = new WeakMap<Request, Principal>();

export function principal(c: Context): Principal {
  const p = admittedPrincipal(c.req.raw);
  if (!p) throw new FloeError("internal", "no principal: the route has no allow() middleware");
  return p;
}

export function admittedPrincipal(req: Request): Principal | undefined {
  return admitted.get(req);
}

/** A browser's cross-origin request (an Origin other than this service's own), or null. */
export function crossOrigin(c: Context): string | null {
  const origin = c.req.header("origin");
  return origin && origin !== new URL(c.req.url).origin ? origin : null;
}

/**
 * Admits a request whose token holds one of `scopes` (admin holds all) for the route's `{table}`
 * when it has one (or the table `opts.table` finds in the request), from an origin the token
 * allows (a browser's), within the token's rate limit.
 * `global`: the route is about the whole deployment (tokens, webhooks, the reconciler): it needs an
 * admin of every table.
 */
export function allow(scopes: Scope | Scope[], opts: { global?: boolean; table?: (c: Context) => string } = {}): MiddlewareHandler<{ Bindings: Env }> {
  const wanted = Array.isArray(scopes) ? scopes : [scopes];
  return async (c, next) => {
    const p = await principalOf(c.env, bearerOf(c.req.header("authorization")));
    admit(c, p, wanted, opts.table ? opts.table(c) : c.req.param("table"));
    if (opts.global && !isSuperAdmin(p)) throw new FloeError("forbidden", "this needs an admin token for every table (scope admin, tables *)", { details: { missingScope: "admin", tables: p.tables } });
    await rateLimit(c.env, p);
    await next();
  };
}

/** Checks the principal's origin, scope and table, and remembers it for the request. */
export function admit(c: Context, p: Principal, scopes: readonly Scope[], rawTable?: string): void {
  const origin = crossOrigin(c);
  if (origin && !originAllowed(p.origins, origin)) {
    throw new FloeError("forbidden", `origin ${origin} is not allowed for this token${p.origins.length ? ` (it allows ${p.origins.join(", ")})` : " (it allows no browser origin)"}`, { details: { origin } });
  }
  authorize(p, scopes, rawTable === undefined ? undefined : tableFromPath(rawTable));
  admitted.set(c.req.raw, p);
}

/** The path's table, refused as the route's own schema would refuse it (auth runs before validation). */
function tableFromPath(raw: string): string {
  try {
    return parseTableName(raw).full;
  } catch (e) {
    const message = (e as Error).message;
    throw new FloeError("invalid_input", `invalid path: table: ${message}`, { details: { in: "path", issues: [{ path: "table", message }] } });
  }
}

/** Rate limit windows of the bindings (wrangler.toml `[[ratelimits]]`), for Retry-After. */
const PERIOD_S = 60;

/**
 * Counts the request against its token's limit (the Workers rate-limiting binding of the token's
 * tier, keyed by the token's id): over it, a 429 with `Retry-After`. The binding counts per
 * Cloudflare location, approximately (Cloudflare's docs): a guard against floods, not a quota.
 */
export async function rateLimit(env: Env, p: Principal): Promise<void> {
  const limiter = p.rateLimit === "low" ? env.RATE_LIMIT_LOW : env.RATE_LIMIT;
  const { success } = await limiter.limit({ key: p.id });
  if (!success) throw new FloeError("rate_limited", `token ${p.name} is over its rate limit (tier ${p.rateLimit}); try again in ${PERIOD_S} s`, { details: { tier: p.rateLimit, retryAfter: PERIOD_S } });
}
