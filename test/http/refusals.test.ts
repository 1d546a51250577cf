import { describe, expect, it } from "vitest";
import { lakeConfig, requiredToken, type Env } from "../../src/config.js";
import { FloeError } from "../../src/errors.js";
import { queueRefusal } from "../../src/queue/enqueue.js";
import { parseTableName } from "../../src/names.js";

describe("queue push-back", () => {
  it("is a 429 with Retry-After when the queue refuses for rate or backlog, else a 503", () => {
    const r = queueRefusal(new Error("Queue sendBatch failed: Too Many Requests"));
    expect([r.code, r.status, r.details?.retryAfter]).toEqual(["rate_limited", 429, 5]);
    expect(queueRefusal(new Error("backlog exceeded")).status).toBe(429);
    expect(queueRefusal(new Error("network connection lost")).status).toBe(503);
  });
});

describe("configuration", () => {
  it("refuses missing secrets loudly, naming them", () => {
    expect(() => requiredToken({} as Env, "FLOE_INGEST_TOKEN")).toThrow(/FLOE_INGEST_TOKEN is missing \(set it with `wrangler secret put FLOE_INGEST_TOKEN`/);
    const e = (() => { try { lakeConfig({ LAKE_BUCKET: "b" } as Env); } catch (x) { return x as FloeError; } })()!;
    expect(e.code).toBe("misconfigured");
    expect(e.message).toMatch(/S3_ENDPOINT is missing/);
    expect(e.message).toMatch(/S3_ACCESS_KEY_ID is missing/);
    expect(e.message).toMatch(/S3_SECRET_ACCESS_KEY is missing/);
  });

  it("accepts a complete configuration", () => {
    const c = lakeConfig({ LAKE_BUCKET: "b", S3_ENDPOINT: "https://acct.r2.cloudflarestorage.com", S3_ACCESS_KEY_ID: "k", S3_SECRET_ACCESS_KEY: "s" } as Env);
    expect(c).toMatchObject({ LAKE_BUCKET: "b", WAREHOUSE: "warehouse", LAKE_ACCESS: "s3", s3: { S3_ENDPOINT: "https://acct.r2.cloudflarestorage.com" } });
  });
});

describe("table names", () => {
  it("accept table and namespace.table, nothing that could reach another key", () => {
    expect(parseTableName("events")).toEqual({ namespace: "default", table: "events", full: "default.events" });
    expect(parseTableName("shop.orders").full).toBe("shop.orders");
    for (const bad of ["", "A", "a/b", "..", "a..b", "a.b.c", "1abc", "a-b", "a%2Fb", "x".repeat(129), "ev\u0000"]) expect(() => parseTableName(bad), bad).toThrow(FloeError);
  });
});
