import { exports } from "cloudflare:workers";
import { gzipSync } from "fflate";
import { describe, expect, it } from "vitest";

const worker = exports as unknown as { default: Fetcher };
const INGEST = { Authorization: "Bearer test-ingest-token" };
const ADMIN = { Authorization: "Bearer test-admin-token" };

async function call(path: string, init: RequestInit = {}): Promise<{ status: number; body: Record<string, any>; headers: Headers }> {
  const res = await worker.default.fetch(`http://floe.local${path}`, init);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {}, headers: res.headers };
}
const post = (table: string, body: BodyInit, headers: Record<string, string> = {}) =>
  call(`/v1/tables/${table}/events`, { method: "POST", body, headers: { ...INGEST, "Content-Type": "application/json", ...headers } });

/** After any refusal the service must still serve. */
async function stillServing(): Promise<void> {
  expect((await call("/healthz")).status).toBe(200);
}

describe("POST /v1/tables/{table}/events refusals", () => {
  const cases: [string, () => Promise<{ status: number; body: Record<string, any> }>, number, string][] = [
    ["no token", () => call("/v1/tables/t/events", { method: "POST", body: "{}", headers: { "Content-Type": "application/json" } }), 401, "unauthorized"],
    ["wrong token", () => post("t", "{}", { Authorization: "Bearer nope" }), 401, "unauthorized"],
    ["another deployment's token", () => post("t", "{}", { Authorization: "Bearer test-ingest-token-of-another" }), 401, "unauthorized"],
    ["invalid JSON", () => post("t", '{"a":'), 400, "invalid_input"],
    ["empty array", () => post("t", "[]"), 400, "invalid_input"],
    ["bad NDJSON line", () => post("t", '{"a":1}\n{"a":\n', { "Content-Type": "application/x-ndjson" }), 400, "invalid_input"],
    ["unsupported type", () => post("t", "a=1", { "Content-Type": "application/x-www-form-urlencoded" }), 415, "unsupported_media_type"],
    ["unsupported encoding", () => post("t", "{}", { "Content-Encoding": "br" }), 415, "unsupported_media_type"],
    ["corrupt gzip", () => post("t", new Uint8Array([0x1f, 0x8b, 1, 2, 3]), { "Content-Encoding": "gzip" }), 400, "invalid_input"],
    ["body over the limit", () => post("t", JSON.stringify({ x: "a".repeat(1_100_000) })), 413, "too_large"],
    ["gzip bomb over the limit", () => post("t", gzipSync(new TextEncoder().encode(JSON.stringify({ x: "a".repeat(2_000_000) }))), { "Content-Encoding": "gzip" }), 413, "too_large"],
    ["table name with a slash", () => post("a%2Fb", "{}"), 400, "invalid_input"],
    ["table name with dots", () => post("a.b.c", "{}"), 400, "invalid_input"],
    ["table name upper case", () => post("Events", "{}"), 400, "invalid_input"],
    ["bad idempotency key", () => post("t", "{}", { "Idempotency-Key": "a b" }), 400, "invalid_input"],
    ["rows that are not objects", () => post("t", "[1, 2]"), 400, "invalid_input"],
  ];
  for (const [name, run, status, code] of cases) {
    it(`${name} → ${status} ${code}`, async () => {
      const r = await run();
      expect(r.status).toBe(status);
      expect(r.body.error.code).toBe(code);
      expect(typeof r.body.error.message).toBe("string");
      await stillServing();
    });
  }

  it("names the limit in a 413", async () => {
    const r = await post("t", JSON.stringify({ x: "a".repeat(1_100_000) }));
    expect(r.body.error.details).toEqual({ limit: 1048576 });
  });

  it("lists the rows that do not fit a strict table (row, field, reason) and accepts none", async () => {
    const put = await call("/v1/tables/strict_t", { method: "PUT", headers: { ...ADMIN, "Content-Type": "application/json" }, body: JSON.stringify({ mode: "strict", schema: { fields: [{ name: "id", type: "long", required: true }, { name: "at", type: "timestamptz" }] } }) });
    expect(put.status).toBe(200);
    const rows = [{ id: 1 }, { id: "x" }, { id: 2, at: 5 }, { id: 3, other: true }, { at: "2024-01-01T00:00:00Z" }];
    const r = await post("strict_t", JSON.stringify(rows));
    expect(r.status).toBe(400);
    expect(r.body.error.details.count).toBe(4);
    expect(r.body.error.details.errors.map((e: { row: number; field: string }) => [e.row, e.field])).toEqual([[1, "id"], [2, "at"], [3, "other"], [4, "id"]]);
    const status = await call("/v1/tables/strict_t", { headers: ADMIN });
    expect(status.body.totalRecords).toBe(0);
  });

  it("caps the list of problems at 20 and counts all", async () => {
    const r = await post("strict_t", JSON.stringify(Array.from({ length: 50 }, () => ({ id: "bad" }))));
    expect(r.status).toBe(400);
    expect(r.body.error.details.count).toBe(50);
    expect(r.body.error.details.errors).toHaveLength(20);
  });

  it("refuses a type that conflicts within a request on an auto-created table", async () => {
    const r = await post("conflict_t", JSON.stringify([{ a: 1 }, { a: "x" }]));
    expect(r.status).toBe(400);
    expect(r.body.error.details.errors[0]).toMatchObject({ field: "a" });
  });
});

describe("tables API", () => {
  it("refuses a bad definition with where it is wrong", async () => {
    const r = await call("/v1/tables/t2", { method: "PUT", headers: { ...ADMIN, "Content-Type": "application/json" }, body: JSON.stringify({ schema: { fields: [{ name: "a", type: "varchar" }] } }) });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/schema\.fields\.0\.type/);
  });

  it("refuses an unsupported type change, naming the field and both types", async () => {
    const h = { ...ADMIN, "Content-Type": "application/json" };
    expect((await call("/v1/tables/t3", { method: "PUT", headers: h, body: JSON.stringify({ schema: { fields: [{ name: "a", type: "string" }] } }) })).status).toBe(200);
    const r = await call("/v1/tables/t3", { method: "PUT", headers: h, body: JSON.stringify({ schema: { fields: [{ name: "a", type: "long" }] } }) });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: "schema_conflict", details: { field: "a", from: "string", to: "long" } });
  });

  it("needs the admin scope to define a table", async () => {
    const r = await call("/v1/tables/t4", { method: "PUT", headers: { ...INGEST, "Content-Type": "application/json" }, body: "{}" });
    expect(r.status).toBe(403);
    expect(r.body.error).toMatchObject({ code: "forbidden", details: { missingScope: "admin" } });
  });

  it("answers 404 for an unknown table and an unknown route", async () => {
    expect((await call("/v1/tables/nope", { headers: INGEST })).status).toBe(404);
    expect((await call("/v2/x")).body.error.code).toBe("not_found");
  });
});
