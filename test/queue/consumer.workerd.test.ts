import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/config.js";
import { tableLocation } from "../../src/iceberg/table.js";
import { packMessages, type IngestMessage } from "../../src/queue/messages.js";
import { R2Store } from "../../src/storage/r2-store.js";
import worker from "../../src/worker.js";
import { readTable } from "../support/read-table.js";

const E = env as unknown as Env;
let nextId = 0;

function messagesFor(table: string, rows: unknown[], keyPrefix = `req:${crypto.randomUUID()}`): IngestMessage[] {
  return packMessages(rows.map((r) => JSON.stringify(r)), { table, requestId: crypto.randomUUID(), keyPrefix, receivedAt: Date.now() })!;
}

async function deliver(bodies: IngestMessage[] | unknown[], queue = "floe-ingest") {
  const batch = createMessageBatch(queue, bodies.map((body) => ({ id: `m${nextId++}`, timestamp: new Date(), attempts: 1, body })));
  const ctx = createExecutionContext();
  await worker.queue(batch as MessageBatch<unknown>, E);
  return getQueueResult(batch, ctx);
}

const read = (table: string) => readTable(new R2Store(E.LAKE), tableLocation("floe-lake", "warehouse", "default", table));
const status = (table: string) => E.TABLES.get(E.TABLES.idFromName(`default.${table}`)).info(`default.${table}`);

describe("the consumer", () => {
  it("writes each event once when messages are delivered twice, in one batch and again later", async () => {
    const rows = Array.from({ length: 300 }, (_, i) => ({ id: i, text: `event ${i}` }));
    const msgs = messagesFor("default.dup", rows);
    const first = await deliver([...msgs, ...msgs]);
    expect(first.explicitAcks).toHaveLength(msgs.length * 2);
    expect(first.retryMessages).toEqual([]);
    const again = await deliver(msgs);
    expect(again.explicitAcks).toHaveLength(msgs.length);
    const t = await read("dup");
    expect(t.missing).toEqual([]);
    expect(t.rows.map((r) => Number(r.id)).sort((a, b) => a - b)).toEqual(rows.map((r) => r.id));
    expect(t.metadata!.snapshots).toHaveLength(1);
    const s = await status("dup");
    expect(s.totalRecords).toBe(300);
    expect(s.duplicatesDropped).toBe(600);
  });

  it("deduplicates by idField across requests", async () => {
    const put = await E.TABLES.get(E.TABLES.idFromName("default.byid")).configure("default.byid", { idField: "event_id" });
    expect(put.idField).toBe("event_id");
    await deliver(messagesFor("default.byid", [{ event_id: "a", v: 1 }, { event_id: "b", v: 2 }]));
    await deliver(messagesFor("default.byid", [{ event_id: "b", v: 2 }, { event_id: "c", v: 3 }]));
    const t = await read("byid");
    expect(t.rows.map((r) => r.event_id).sort()).toEqual(["a", "b", "c"]);
  });

  it("groups concurrent commits to one table into fewer snapshots, losing no row", async () => {
    const n = 12;
    const results = await Promise.all(Array.from({ length: n }, (_, i) => deliver(messagesFor("default.group", [{ id: i }]))));
    for (const r of results) expect(r.explicitAcks).toHaveLength(1);
    const t = await read("group");
    expect(t.rows.map((r) => Number(r.id)).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(t.metadata!.snapshots.length).toBeLessThan(n);
    expect(Number(t.metadata!.snapshots.at(-1)!.summary["total-records"])).toBe(n);
  });

  it("quarantines a message that is not a Floe message, with its reason, and acks it", async () => {
    const r = await deliver([{ hello: "world" }]);
    expect(r.explicitAcks).toHaveLength(1);
    const listed = await E.LAKE.list({ prefix: "quarantine/_invalid/" });
    expect(listed.objects.length).toBeGreaterThan(0);
    const record = (await (await E.LAKE.get(listed.objects[0].key))!.json()) as { reason: string; message: unknown };
    expect(record.reason).toMatch(/version 1/);
    expect(record.message).toEqual({ hello: "world" });
  });

  it("quarantines a message whose rows no longer fit a strict table and writes the others", async () => {
    await E.TABLES.get(E.TABLES.idFromName("default.strict_q")).configure("default.strict_q", { mode: "strict", schema: { type: "struct", fields: [{ id: 0, name: "id", required: true, type: "long" }] } });
    const good = messagesFor("default.strict_q", [{ id: 1 }, { id: 2 }]);
    const bad = messagesFor("default.strict_q", [{ id: 3, extra: "x" }]);
    const r1 = await deliver([...good, ...bad]);
    // The bad message is acked into the quarantine; the good one is retried (its batch was abandoned).
    expect(r1.explicitAcks).toContain(`m${nextId - 1}`);
    const r2 = await deliver(good);
    expect(r2.explicitAcks).toHaveLength(1);
    expect((await read("strict_q")).rows.map((r) => Number(r.id)).sort()).toEqual([1, 2]);
    expect((await status("strict_q")).quarantined).toBe(1);
  });

  it("quarantines dead letters with the reason", async () => {
    const msgs = messagesFor("default.dead", [{ id: 1 }]);
    const r = await deliver(msgs, "floe-dead-letter");
    expect(r.explicitAcks).toHaveLength(1);
    const listed = await E.LAKE.list({ prefix: "quarantine/default.dead/" });
    expect(listed.objects).toHaveLength(1);
    expect((await status("dead")).quarantined).toBe(1);
  });

  it("reads a staged request body from R2 and deletes it after the commit", async () => {
    const lines = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ id: i, pad: "x".repeat(200) }));
    await E.LAKE.put("staging/test/big.ndjson", lines.join("\n"));
    const r = await deliver([{ v: 1, kind: "staged", table: "default.staged", requestId: "r1", keyPrefix: "req:r1", stagingKey: "staging/test/big.ndjson", count: 2000, receivedAt: Date.now() }]);
    expect(r.explicitAcks).toHaveLength(1);
    expect((await read("staged")).rows).toHaveLength(2000);
    expect(await E.LAKE.head("staging/test/big.ndjson")).toBeNull();
  });

  it("reads a staged body from R2 once per batch: the keys, the new fields and the write share one scan", async () => {
    await E.TABLES.get(E.TABLES.idFromName("default.staged_once")).configure("default.staged_once", { idField: "id", schema: { type: "struct", fields: [{ id: 0, name: "id", required: true, type: "long" }] } });
    const lines = Array.from({ length: 3000 }, (_, i) => JSON.stringify(i % 2 ? { id: i, pad: "x".repeat(100) } : { id: i, tag: `t${i % 7}` }));
    lines.push(lines[10]); // a row sent twice in one request: one key, one row
    await E.LAKE.put("staging/test/once.ndjson", lines.join("\n"));
    let gets = 0;
    const lake = new Proxy(E.LAKE, {
      get(target, prop) {
        const v = Reflect.get(target, prop);
        if (prop !== "get" || typeof v !== "function") return typeof v === "function" ? v.bind(target) : v;
        return (key: string, ...rest: unknown[]) => {
          if (key.startsWith("staging/")) gets++;
          return (v as (...a: unknown[]) => unknown).call(target, key, ...rest);
        };
      },
    });
    const body = { v: 1, kind: "staged", table: "default.staged_once", requestId: "r-once", keyPrefix: "req:r-once", stagingKey: "staging/test/once.ndjson", count: lines.length, receivedAt: Date.now() };
    const batch = createMessageBatch("floe-ingest", [{ id: `m${nextId++}`, timestamp: new Date(), attempts: 1, body }]);
    const ctx = createExecutionContext();
    await worker.queue(batch as MessageBatch<unknown>, { ...E, LAKE: lake as R2Bucket });
    const r = await getQueueResult(batch, ctx);
    expect(r.explicitAcks).toHaveLength(1);
    expect(gets).toBe(1);
    const t = await read("staged_once");
    expect(t.rows).toHaveLength(3000);
    expect(t.rows.map((row) => Number(row.id)).sort((a, b) => a - b)).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    const byId = new Map(t.rows.map((row) => [Number(row.id), row]));
    expect([byId.get(1)!.pad, byId.get(1)!.tag, byId.get(14)!.tag, byId.get(14)!.pad]).toEqual(["x".repeat(100), null, "t0", null]);
  });
});
