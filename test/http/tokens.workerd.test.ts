import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

/**
 * Scoped tokens, public keys, CORS and rate limits, through the Worker's own fetch: minted by the
 * admin endpoints, checked on every route, revoked at once.
 */
const worker = exports as unknown as { default: Fetcher };
const ADMIN = "test-admin-token";
const BASE = "http://floe.local";

async function call(path: string, init: RequestInit & { token?: string | null } = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const headers = new Headers(init.headers);
  if (init.token !== null) headers.set("authorization", `Bearer ${init.token ?? ADMIN}`);
  if (init.body !== undefined && !headers.has("content-type")) headers.set("content-type", "application/json");
  const res = await worker.default.fetch(`${BASE}${path}`, { ...init, headers });
  const text = await res.text();
  let body: any = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // keep the text
  }
  return { status: res.status, body, headers: res.headers };
}

async function mint(spec: Record<string, unknown>): Promise<{ id: string; token: string }> {
  const r = await call("/v1/admin/tokens", { method: "POST", body: JSON.stringify(spec) });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}

const send = (table: string, token: string, init: RequestInit = {}) => call(`/v1/tables/${table}/events`, { method: "POST", body: JSON.stringify({ a: 1 }), token, ...init });

async function stillServing(): Promise<void> {
  expect((await call("/healthz", { token: null })).status).toBe(200);
}

describe("scoped tokens", () => {
  it("are shown once, listed without their secret, and their last use recorded", async () => {
    const t = await mint({ name: "shop-writer", scopes: ["ingest"], tables: ["shop.*"] });
    expect(t.token).toMatch(/^floe_sk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(t).toMatchObject({ name: "shop-writer", kind: "secret", scopes: ["ingest"], tables: ["shop.*"], origins: [], rateLimit: "standard", lastUsedAt: null });
    const list = await call("/v1/admin/tokens");
    const entry = list.body.tokens.find((x: any) => x.id === t.id);
    expect(entry).toMatchObject({ name: "shop-writer", scopes: ["ingest"], tables: ["shop.*"], createdAt: expect.any(String) });
    expect(JSON.stringify(list.body)).not.toContain(t.token.slice(-43));
    // Used: its last use is recorded.
    expect((await send("shop.orders", t.token)).status).toBe(202);
    const after = (await call("/v1/admin/tokens")).body.tokens.find((x: any) => x.id === t.id);
    expect(Date.parse(after.lastUsedAt)).toBeGreaterThan(Date.now() - 60_000);
  });

  it("a shop.* ingest token sends to shop.orders, not to clicks, and reads nothing; a read token reads, does not send", async () => {
    const writer = await mint({ name: "w", scopes: ["ingest"], tables: ["shop.*"] });
    expect((await send("shop.orders", writer.token)).status).toBe(202);
    const other = await send("clicks", writer.token);
    expect(other.status).toBe(403);
    expect(other.body.error).toMatchObject({ code: "forbidden", details: { table: "default.clicks" } });
    expect(other.body.error.message).toBe("this token's tables (shop.*) do not include default.clicks");
    const status = await call("/v1/tables/shop.orders", { token: writer.token });
    expect(status.status).toBe(403);
    expect(status.body.error).toMatchObject({ code: "forbidden", message: "this token lacks the read scope (it has ingest)", details: { missingScope: "read" } });

    const reader = await mint({ name: "r", scopes: ["read"], tables: ["shop.*", "audit"] });
    const refused = await send("shop.orders", reader.token);
    expect(refused.status).toBe(403);
    expect(refused.body.error.details).toMatchObject({ missingScope: "ingest" });
    // Refused the same whether the table exists or not: nothing is revealed.
    const missing = await call("/v1/tables/secret_stuff", { token: reader.token });
    const existing = await call("/v1/tables/clicks", { token: reader.token });
    expect([missing.status, existing.status]).toEqual([403, 403]);
    expect(missing.body.error.message.replace("secret_stuff", "X")).toBe(existing.body.error.message.replace("clicks", "X"));
    // The listing holds only its tables.
    await send("clicks", ADMIN);
    const listed = await call("/v1/tables", { token: reader.token });
    expect(listed.status).toBe(200);
    for (const t of listed.body.tables) expect(t.table.startsWith("shop.") || t.table === "default.audit", t.table).toBe(true);
    // Admin routes and token management stay out of reach.
    expect((await call("/v1/tables/shop.orders", { method: "PUT", body: "{}", token: reader.token })).status).toBe(403);
    expect((await call("/v1/admin/tokens", { token: reader.token })).status).toBe(403);
    await stillServing();
  });

  it("a table admin administers its tables but mints no tokens; the bootstrap ingest token reads and sends everywhere", async () => {
    const admin = await mint({ name: "shop-admin", scopes: ["admin"], tables: ["shop.*"] });
    expect((await call("/v1/tables/shop.items", { method: "PUT", body: JSON.stringify({ mode: "evolve" }), token: admin.token })).status).toBe(200);
    expect((await call("/v1/tables/other", { method: "PUT", body: "{}", token: admin.token })).status).toBe(403);
    const mintByTableAdmin = await call("/v1/admin/tokens", { method: "POST", body: JSON.stringify({ name: "x", scopes: ["admin"], tables: ["*"] }), token: admin.token });
    expect(mintByTableAdmin.status).toBe(403);
    expect(mintByTableAdmin.body.error.message).toMatch(/admin token for every table/);
    expect((await send("anything", "test-ingest-token")).status).toBe(202);
    expect((await call("/v1/tables/shop.items", { token: "test-ingest-token" })).status).toBe(200);
  });

  it("a revoked token is refused on the next request", async () => {
    const t = await mint({ name: "short-lived", scopes: ["ingest"], tables: ["*"] });
    expect((await send("revocable", t.token)).status).toBe(202);
    const r = await call(`/v1/admin/tokens/${t.id}`, { method: "DELETE" });
    expect(r.status).toBe(200);
    expect(r.body.revoked).toMatchObject({ id: t.id, name: "short-lived" });
    const after = await send("revocable", t.token);
    expect(after.status).toBe(401);
    expect(after.body.error).toMatchObject({ code: "unauthorized", message: "unknown or revoked token" });
    expect((await call("/v1/admin/tokens")).body.tokens.map((x: any) => x.id)).not.toContain(t.id);
    expect((await call(`/v1/admin/tokens/${t.id}`, { method: "DELETE" })).status).toBe(404);
  });

  it("an expiring token works until its time, then is refused", async () => {
    const t = await mint({ name: "brief", scopes: ["ingest"], tables: ["*"], expiresInDays: 0.00002 }); // about 1.7 s
    expect(Date.parse((t as any).expiresAt) - Date.now()).toBeLessThan(2000);
    expect((await send("brief", t.token)).status).toBe(202);
    const deadline = Date.now() + 10_000;
    let status = 202;
    while (status !== 401 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      status = (await send("brief", t.token)).status;
    }
    expect(status).toBe(401);
  });

  it("refuses malformed, hostile and unauthenticated token requests with a 4xx naming what, and keeps serving", async () => {
    const cases: [string, () => Promise<{ status: number; body: any }>, number, string, RegExp?][] = [
      ["no token", () => call("/v1/admin/tokens", { token: null }), 401, "unauthorized"],
      ["a token of the right shape with a wrong secret", async () => send("x", `floe_sk_${(await mint({ name: "g", scopes: ["ingest"], tables: ["*"] })).id}_${"A".repeat(43)}`), 401, "unauthorized", /unknown or revoked/],
      ["an unknown id", () => send("x", `floe_sk_0123456789abcdef_${"A".repeat(43)}`), 401, "unauthorized"],
      ["an unknown scope", () => call("/v1/admin/tokens", { method: "POST", body: JSON.stringify({ name: "x", scopes: ["root"], tables: ["*"] }) }), 400, "invalid_input", /scopes/],
      ["a pattern that names no table", () => call("/v1/admin/tokens", { method: "POST", body: JSON.stringify({ name: "x", scopes: ["read"], tables: ["../etc"] }) }), 400, "invalid_input", /table pattern/],
      ["no tables", () => call("/v1/admin/tokens", { method: "POST", body: JSON.stringify({ name: "x", scopes: ["read"], tables: [] }) }), 400, "invalid_input", /tables/],
      ["an origin with a path", () => call("/v1/admin/tokens", { method: "POST", body: JSON.stringify({ name: "x", scopes: ["read"], tables: ["*"], origins: ["https://a.example/x"] }) }), 400, "invalid_input", /origin/],
      ["a public key that reads", () => call("/v1/admin/tokens", { method: "POST", body: JSON.stringify({ name: "x", kind: "public", scopes: ["read"], tables: ["clicks"], origins: ["https://a.example"] }) }), 400, "invalid_input", /ingest scope only/],
      ["a public key for many tables", () => call("/v1/admin/tokens", { method: "POST", body: JSON.stringify({ name: "x", kind: "public", scopes: ["ingest"], tables: ["shop.*"], origins: ["https://a.example"] }) }), 400, "invalid_input", /one table/],
      ["a public key without origins", () => call("/v1/admin/tokens", { method: "POST", body: JSON.stringify({ name: "x", kind: "public", scopes: ["ingest"], tables: ["clicks"] }) }), 400, "invalid_input", /origins/],
      ["unknown fields", () => call("/v1/admin/tokens", { method: "POST", body: JSON.stringify({ name: "x", scopes: ["read"], tables: ["*"], god: true }) }), 400, "invalid_input"],
      ["not JSON", () => call("/v1/admin/tokens", { method: "POST", body: "{" }), 400, "invalid_input"],
      ["a bad id to revoke", () => call("/v1/admin/tokens/..%2F..", { method: "DELETE" }), 400, "invalid_input"],
      ["a bad table name under a scoped token", async () => call("/v1/tables/A%20B", { token: (await mint({ name: "n", scopes: ["read"], tables: ["*"] })).token }), 400, "invalid_input"],
    ];
    for (const [what, run, status, code, message] of cases) {
      const r = await run();
      expect(r.status, `${what}: ${JSON.stringify(r.body)}`).toBe(status);
      expect(r.body.error.code, what).toBe(code);
      if (message) expect(r.body.error.message, what).toMatch(message);
      await stillServing();
    }
  });

  it("the catalog shows a catalog-scoped token only its tables, and lets it write nothing", async () => {
    await send("shop.catalogued", ADMIN);
    await send("hidden_one", ADMIN);
    await call("/v1/tables/shop.catalogued", { method: "PUT", body: JSON.stringify({ schema: { fields: [{ name: "a", type: "double" }] } }) });
    await call("/v1/tables/hidden_one", { method: "PUT", body: JSON.stringify({ schema: { fields: [{ name: "a", type: "double" }] } }) });
    const t = await mint({ name: "engine", scopes: ["catalog"], tables: ["shop.*"] });
    const shop = await call("/iceberg/v1/floe/namespaces/shop/tables", { token: t.token });
    expect(shop.status, JSON.stringify(shop.body)).toBe(200);
    expect(shop.body.identifiers).toContainEqual({ namespace: ["shop"], name: "catalogued" });
    const def = await call("/iceberg/v1/floe/namespaces/default/tables", { token: t.token });
    expect(def.body.identifiers).toEqual([]);
    expect((await call("/iceberg/v1/floe/namespaces/shop/tables/catalogued", { token: t.token })).status).toBe(200);
    const hidden = await call("/iceberg/v1/floe/namespaces/default/tables/hidden_one", { token: t.token });
    expect(hidden.status).toBe(403);
    expect(hidden.body.error.type).toBe("ForbiddenException");
    const drop = await call("/iceberg/v1/floe/namespaces/shop/tables/catalogued", { method: "DELETE", token: t.token });
    expect(drop.status).toBe(403);
  });
});

describe("rate limits", () => {
  it("a token over its tier's limit gets 429 with Retry-After; another token is not affected", async () => {
    const slow = await mint({ name: "slow", scopes: ["read"], tables: ["*"], rateLimit: "low" });
    const statuses: number[] = [];
    for (let i = 0; i < 70; i++) statuses.push((await call("/v1/tables", { token: slow.token })).status);
    expect(statuses.slice(0, 60).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(60).every((s) => s === 429)).toBe(true);
    const r = await call("/v1/tables", { token: slow.token });
    expect(r.status).toBe(429);
    expect(r.headers.get("retry-after")).toBe("60");
    expect(r.body.error).toMatchObject({ code: "rate_limited", details: { tier: "low", retryAfter: 60 } });
    expect((await call("/v1/tables")).status).toBe(200);
  });
});

describe("browsers: CORS and beacons", () => {
  const page = "https://shop.example";

  it("answers a preflight for an origin a token lists, refuses one no token lists", async () => {
    await mint({ name: "web", scopes: ["ingest"], tables: ["web_events"], origins: [page] });
    const ok = await call("/v1/tables/web_events/events", { method: "OPTIONS", token: null, headers: { origin: page, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" } });
    expect(ok.status).toBe(204);
    expect(ok.headers.get("access-control-allow-origin")).toBe(page);
    expect(ok.headers.get("access-control-allow-headers")).toContain("authorization");
    const no = await call("/v1/tables/web_events/events", { method: "OPTIONS", token: null, headers: { origin: "https://evil.example", "access-control-request-method": "POST" } });
    expect(no.status).toBe(403);
    expect(no.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("a token's request from its origin carries CORS headers; from another origin it is refused", async () => {
    const t = await mint({ name: "web2", scopes: ["ingest"], tables: ["web_events"], origins: [page] });
    const ok = await send("web_events", t.token, { headers: { origin: page } });
    expect(ok.status).toBe(202);
    expect(ok.headers.get("access-control-allow-origin")).toBe(page);
    const evil = await send("web_events", t.token, { headers: { origin: "https://evil.example" } });
    expect(evil.status).toBe(403);
    expect(evil.body.error.message).toBe("origin https://evil.example is not allowed for this token (it allows https://shop.example)");
    // A token without origins is for servers: a browser's cross-origin use is refused.
    expect((await send("web_events", ADMIN, { headers: { origin: page } })).status).toBe(403);
  });

  it("a beacon (text/plain JSON) with a public key from its origin is accepted; other origins, secret tokens and missing origins are refused", async () => {
    const key = await mint({ name: "site", kind: "public", scopes: ["ingest"], tables: ["beacons"], origins: [page] });
    expect(key.token).toMatch(/^floe_pk_/);
    const beacon = (k: string, headers: Record<string, string>, body = JSON.stringify({ page: "/", ms: 12 })) =>
      call(`/v1/beacon/beacons?key=${encodeURIComponent(k)}`, { method: "POST", token: null, body, headers: { "content-type": "text/plain;charset=UTF-8", ...headers } });
    const ok = await beacon(key.token, { origin: page });
    expect(ok.status, JSON.stringify(ok.body)).toBe(202);
    expect(ok.body).toMatchObject({ accepted: 1, requestId: expect.stringMatching(/~default\.beacons$/) });
    expect(ok.headers.get("access-control-allow-origin")).toBe(page);
    expect((await beacon(key.token, { origin: page }, '{"a":1}\n{"a":2}\n')).body.accepted).toBe(2);
    const cases: [string, Promise<{ status: number; body: any }>, number][] = [
      ["another origin", beacon(key.token, { origin: "https://evil.example" }), 403],
      ["no origin", beacon(key.token, {}), 403],
      ["a secret token in the URL", beacon(ADMIN, { origin: page }), 401],
      ["a minted secret token in the URL", mint({ name: "s", scopes: ["ingest"], tables: ["*"], origins: [page] }).then((t) => beacon(t.token, { origin: page })), 401],
      ["another table", call(`/v1/beacon/other?key=${key.token}`, { method: "POST", token: null, body: "{}", headers: { "content-type": "text/plain", origin: page } }), 403],
      ["not JSON", beacon(key.token, { origin: page }, "{nope"), 400],
      ["a form", beacon(key.token, { origin: page, "content-type": "application/x-www-form-urlencoded" }, "a=1"), 415],
      ["no key", call("/v1/beacon/beacons", { method: "POST", token: null, body: "{}", headers: { "content-type": "text/plain", origin: page } }), 400],
    ];
    for (const [what, run, status] of cases) {
      const r = await run;
      expect(r.status, `${what}: ${JSON.stringify(r.body)}`).toBe(status);
      expect(r.body.error.message.length, what).toBeGreaterThan(0);
    }
    await stillServing();
  });
});
