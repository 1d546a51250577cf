import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/config.js";
import { app } from "../../src/http/app.js";
import { tableLocation } from "../../src/iceberg/table.js";
import { newRequestId } from "../../src/names.js";
import { packMessages, type EventsMessage } from "../../src/queue/messages.js";
import { quarantine } from "../../src/queue/quarantine.js";
import { R2Store } from "../../src/storage/r2-store.js";
import worker from "../../src/worker.js";
import { readTable } from "../support/read-table.js";
import { until } from "../support/until.js";

const E = env as unknown as Env;
const ADMIN = { authorization: "Bearer test-admin-token", "content-type": "application/json" };
let nextId = 0;

function messagesFor(table: string, rows: unknown[]): EventsMessage[] {
  const requestId = newRequestId(table);
  return packMessages(rows.map((r) => JSON.stringify(r)), { table, requestId, keyPrefix: `req:${requestId}`, receivedAt: Date.now(), requestRows: rows.length })!;
}

async function deliver(bodies: unknown[], queue = "floe-ingest") {
  const batch = createMessageBatch(queue, bodies.map((body) => ({ id: `rp${nextId++}`, timestamp: new Date(), attempts: 1, body })));
  const ctx = createExecutionContext();
  await worker.queue(batch as MessageBatch<unknown>, E);
  return getQueueResult(batch, ctx);
}

const call = async (path: string, init: RequestInit = {}) => {
  const r = await app.request(path, { ...init, headers: { ...ADMIN, ...(init.headers ?? {}) } }, E);
  return { status: r.status, body: (await r.json()) as any };
};
const read = (table: string) => readTable(new R2Store(E.LAKE), tableLocation("floe-lake", "warehouse", "default", table));
const stub = (table: string) => E.TABLES.get(E.TABLES.idFromName(table));

describe("the quarantine", () => {
  it("keeps events whose table was made strict after they were queued, and replays them once the table takes them", async () => {
    const table = "default.q_strict";
    await stub(table).configure(table, { schema: { type: "struct", fields: [{ id: 0, name: "id", required: false, type: "long" }] } });
    const msgs = messagesFor(table, [{ id: 1, extra: "a" }, { id: 2, extra: "b" }]); // fine in mode evolve, when they were accepted
    await stub(table).configure(table, { mode: "strict" });
    const r = await deliver(msgs);
    expect(r.explicitAcks).toHaveLength(1);

    const listed = await call(`/v1/tables/${table}/quarantine`);
    expect(listed.status).toBe(200);
    expect(listed.body.next).toBeNull();
    expect(listed.body.entries).toHaveLength(1);
    const entry = listed.body.entries[0];
    expect(entry).toMatchObject({ state: "quarantined", code: "invalid_input", rows: 2, attempts: 1, requestId: msgs[0].requestId, replays: 0 });
    expect(entry.reason).toMatch(/extra/);
    expect(entry.preview).toContain('"extra":"a"');
    expect(entry.size).toBe(new TextEncoder().encode(msgs[0].ndjson).byteLength);
    const receipt = await call(`/v1/requests/${msgs[0].requestId}`);
    expect(receipt.body).toMatchObject({ state: "quarantined", quarantine: { id: entry.id, code: "invalid_input" } });

    // Replaying before the table takes them: back in the quarantine, same entry, new attempt.
    const first = await call(`/v1/tables/${table}/quarantine/replay`, { method: "POST", body: JSON.stringify({ reason: "extra" }) });
    expect(first).toMatchObject({ status: 202, body: { replayed: [entry.id], skipped: [], more: false, next: null } });
    const back = await until("quarantined again", () => call(`/v1/tables/${table}/quarantine`), (l) => l.body.entries[0].state === "quarantined" && l.body.entries[0].replays === 1);
    expect(back.body.entries).toHaveLength(1);
    expect(back.body.entries[0].id).toBe(entry.id);
    expect(back.body.entries[0].key).not.toBe(entry.key); // a new record; the old one is deleted
    expect(await E.LAKE.head(entry.key)).toBeNull();

    await stub(table).configure(table, { schema: { type: "struct", fields: [{ id: 0, name: "extra", required: false, type: "string" }] } });
    const second = await call(`/v1/tables/${table}/quarantine/replay`, { method: "POST", body: JSON.stringify({ all: true }) });
    expect(second.body.replayed).toEqual([entry.id]);
    await until("landed", () => call(`/v1/tables/${table}/quarantine?state=landed`), (l) => l.body.entries.length === 1);
    const t = await read("q_strict");
    expect(t.rows.map((x) => [Number(x.id), x.extra]).sort()).toEqual([[1, "a"], [2, "b"]]);
    const done = await call(`/v1/requests/${msgs[0].requestId}`);
    expect(done.body).toMatchObject({ state: "committed", rows: 2, committedRows: 2, snapshotId: String(t.metadata!["current-snapshot-id"]) });

    // A landed entry is not sent again.
    const third = await call(`/v1/tables/${table}/quarantine/replay`, { method: "POST", body: JSON.stringify({ ids: [entry.id, "nope"] }) });
    expect(third.body).toMatchObject({ replayed: [], skipped: [{ id: entry.id, reason: "already landed" }, { id: "nope", reason: "no such entry" }], more: false });
    const info = await call(`/v1/tables/${table}`);
    expect(info.body.quarantine).toEqual({ quarantined: 0, replayed: 0, landed: 1 });
    expect(info.body.quarantined).toBe(2);
  });

  it("replays a message whose rows had landed without adding them twice (dead letter after a lost ack)", async () => {
    const table = "default.q_dup";
    const msgs = messagesFor(table, [{ id: 1 }, { id: 2 }, { id: 3 }]);
    await deliver(msgs);
    // The same message also went to the dead-letter queue (its ack was lost on every try).
    await deliver(msgs, "floe-dead-letter");
    const listed = await call(`/v1/tables/${table}/quarantine?reason=retries_exhausted`);
    expect(listed.body.entries).toHaveLength(1);
    expect(listed.body.entries[0].reason).toMatch(/dead-letter/);
    const replay = await call(`/v1/tables/${table}/quarantine/replay`, { method: "POST", body: JSON.stringify({ all: true }) });
    expect(replay.body.replayed).toHaveLength(1);
    await until("landed", () => call(`/v1/tables/${table}/quarantine?state=landed`), (l) => l.body.entries.length === 1);
    const t = await read("q_dup");
    expect(t.rows.map((x) => Number(x.id)).sort()).toEqual([1, 2, 3]);
    expect(t.metadata!.snapshots).toHaveLength(1);
  });

  it("replays a staged request from the copy kept beside its record", async () => {
    const table = "default.q_staged";
    const requestId = newRequestId(table);
    const stagingKey = `staging/${new Date().toISOString().slice(0, 10)}/${requestId}.ndjson`;
    await E.LAKE.put(stagingKey, '{"id":1}\n{"id":2}');
    const body = { v: 1, kind: "staged", table, requestId, keyPrefix: `req:${requestId}`, stagingKey, count: 2, receivedAt: Date.now(), requestRows: 2 };
    await quarantine(E, table, { id: "m-staged", attempts: 11, body }, "retries exhausted", "retries_exhausted");
    await E.LAKE.delete(stagingKey); // swept meanwhile
    const replay = await call(`/v1/tables/${table}/quarantine/replay`, { method: "POST", body: JSON.stringify({ all: true }) });
    expect(replay.body.replayed).toHaveLength(1);
    await until("landed", () => call(`/v1/tables/${table}/quarantine?state=landed`), (l) => l.body.entries.length === 1);
    expect((await read("q_staged")).rows.map((x) => Number(x.id)).sort()).toEqual([1, 2]);
    expect((await call(`/v1/requests/${requestId}`)).body.state).toBe("committed");
  });

  it("pages the list and refuses bad queries and bodies with where they are wrong", async () => {
    const table = "default.q_pages";
    for (let i = 0; i < 5; i++) await deliver(messagesFor(table, [{ id: i }]), "floe-dead-letter");
    const p1 = await call(`/v1/tables/${table}/quarantine?limit=2`);
    expect(p1.body.entries).toHaveLength(2);
    const p2 = await call(`/v1/tables/${table}/quarantine?limit=2&after=${p1.body.next}`);
    const p3 = await call(`/v1/tables/${table}/quarantine?limit=2&after=${p2.body.next}`);
    expect(p3.body.next).toBeNull();
    expect(new Set([...p1.body.entries, ...p2.body.entries, ...p3.body.entries].map((e: any) => e.id)).size).toBe(5);

    const bad = await call(`/v1/tables/${table}/quarantine?limit=abc`);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: "invalid_input", details: { in: "query", issues: [expect.objectContaining({ path: "limit" })] } });
    expect((await call(`/v1/tables/${table}/quarantine?limit=0`)).status).toBe(400);
    const body = await call(`/v1/tables/${table}/quarantine/replay`, { method: "POST", body: JSON.stringify({ ids: [], all: true }) });
    expect(body.status).toBe(400);
    expect(body.body.error.details.in).toBe("body");
    const notJson = await call(`/v1/tables/${table}/quarantine/replay`, { method: "POST", body: "{nope" });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe("invalid_input");
    const ingest = await app.request(`/v1/tables/${table}/quarantine/replay`, { method: "POST", headers: { authorization: "Bearer test-ingest-token", "content-type": "application/json" }, body: '{"all":true}' }, E);
    expect(ingest.status).toBe(403);
    expect((await app.request(`/v1/tables/${table}/quarantine`, {}, E)).status).toBe(401);
    // The entries hold row data: the producers' token does not read them.
    expect((await app.request(`/v1/tables/${table}/quarantine`, { headers: { authorization: "Bearer test-ingest-token" } }, E)).status).toBe(403);
    expect((await call("/healthz")).status).toBe(200); // still serving
  });
});

describe("request receipts", () => {
  it("name the snapshot that holds a request's rows, and say pending before", async () => {
    const table = "default.receipts";
    const msgs = messagesFor(table, Array.from({ length: 3000 }, (_, i) => ({ id: i, pad: "y".repeat(60) })));
    expect(msgs.length).toBeGreaterThan(1);
    const id = msgs[0].requestId;
    expect((await call(`/v1/requests/${id}`)).body).toMatchObject({ state: "pending", requestId: id, table, rows: null });
    await deliver(msgs.slice(0, 1));
    expect((await call(`/v1/requests/${id}`)).body).toMatchObject({ state: "pending", rows: 3000, committedRows: msgs[0].count, snapshotId: null });
    await deliver(msgs.slice(1));
    const done = (await call(`/v1/requests/${id}`)).body;
    const t = await read("receipts");
    expect(done).toMatchObject({ state: "committed", rows: 3000, committedRows: 3000 });
    const snap = t.metadata!.snapshots.find((s: any) => String(s["snapshot-id"]) === done.snapshotId);
    expect(snap).toBeDefined();
    expect(snap!["sequence-number"]).toBe(done.sequenceNumber);
    expect(t.metadata!.snapshots.at(-1)!["snapshot-id"].toString()).toBe(done.snapshotId); // the last of its snapshots
    // A redelivery changes nothing; a resend whose rows are all there is a duplicate receipt.
    await deliver(msgs.slice(0, 1));
    expect((await call(`/v1/requests/${id}`)).body.snapshotId).toBe(done.snapshotId);
  });

  it("refuse ids that are not request ids, and forget ones older than the window", async () => {
    expect((await call("/v1/requests/not-an-id")).body.error).toMatchObject({ code: "invalid_input" });
    const old = newRequestId("default.receipts", Date.now() - 30 * 86_400_000);
    const r = await call(`/v1/requests/${old}`);
    expect(r.status).toBe(404);
    expect(r.body.error.message).toMatch(/kept 7 days/);
  });
});

describe("replay and the dedupe window", () => {
  it("skips entries first quarantined longer ago than the window unless forced, and goes on past skipped ones with the cursor", async () => {
    const table = "default.q_window";
    // A window shorter than the margin Floe keeps (an hour): every entry counts as too old.
    await stub(table).configure(table, { properties: { "floe.dedupe-window-days": "0.01" } });
    for (let i = 0; i < 3; i++) await deliver(messagesFor(table, [{ id: i }]), "floe-dead-letter");
    const refused = await call(`/v1/tables/${table}/quarantine/replay`, { method: "POST", body: JSON.stringify({ all: true }) });
    expect(refused.body.replayed).toEqual([]);
    expect(refused.body.skipped).toHaveLength(3);
    expect(refused.body.skipped[0].reason).toMatch(/dedupe window .*force/);
    expect(refused.body.next).toBeNull();
    const listed = await call(`/v1/tables/${table}/quarantine`);
    const [a, b, c] = listed.body.entries;
    // The cursor: from after the first entry on.
    const firstPage = await call(`/v1/tables/${table}/quarantine?limit=1`);
    const later = await call(`/v1/tables/${table}/quarantine/replay`, { method: "POST", body: JSON.stringify({ all: true, force: true, after: firstPage.body.next }) });
    expect(later.body.replayed).toEqual([b.id, c.id]);
    const forced = await call(`/v1/tables/${table}/quarantine/replay`, { method: "POST", body: JSON.stringify({ ids: [a.id], force: true }) });
    expect(forced.body.replayed).toEqual([a.id]);
    await until("landed", () => call(`/v1/tables/${table}/quarantine?state=landed`), (l) => l.body.entries.length === 3);
    expect((await read("q_window")).rows.map((x) => Number(x.id)).sort()).toEqual([0, 1, 2]);
  });

  it("reads an empty JSON body as {} and says what Content-Type to send", async () => {
    const r = await app.request("/v1/tables/q_window/maintenance", { method: "POST", headers: { ...ADMIN, "content-length": "0" }, body: "" }, E);
    expect(r.status).toBe(200);
    const form = await app.request("/v1/tables/q_window/quarantine/replay", { method: "POST", headers: { authorization: "Bearer test-admin-token", "content-type": "application/x-www-form-urlencoded" }, body: "all=true" }, E);
    expect(form.status).toBe(415);
    expect(((await form.json()) as any).error).toMatchObject({ code: "unsupported_media_type", message: expect.stringMatching(/application\/json/) });
  });

  it("refuses a request id whose table is not written namespace.table", async () => {
    const id = newRequestId("default.receipts").replace("~default.receipts", "~receipts");
    const r = await call(`/v1/requests/${id}`);
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/default\.receipts/);
  });
});
