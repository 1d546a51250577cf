import { createExecutionContext, createMessageBatch, getQueueResult, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/config.js";
import type { TableDO } from "../../src/durable/table-do.js";
import { tableLocation } from "../../src/iceberg/table.js";
import { compactMessage, packMessages, type IngestMessage } from "../../src/queue/messages.js";
import { R2Store } from "../../src/storage/r2-store.js";
import worker from "../../src/worker.js";
import { readTable } from "../support/read-table.js";

// Maintenance as the Worker runs it: the TableDO plans and commits, compaction steps run one per
// queue message through the real consumer, the endpoint refuses what it should.

const E = env as unknown as Env;
const ADMIN = { authorization: "Bearer test-admin-token", "content-type": "application/json" };
let nextId = 0;

async function deliver(bodies: unknown[]) {
  const batch = createMessageBatch("floe-ingest", bodies.map((body) => ({ id: `mm${nextId++}`, timestamp: new Date(), attempts: 1, body })));
  const ctx = createExecutionContext();
  await worker.queue(batch as MessageBatch<unknown>, E);
  return getQueueResult(batch, ctx);
}

const rowsMessages = (table: string, rows: unknown[]): IngestMessage[] => packMessages(rows.map((r) => JSON.stringify(r)), { table, requestId: crypto.randomUUID(), keyPrefix: `req:${crypto.randomUUID()}`, receivedAt: Date.now() })!;
const stub = (t: string) => E.TABLES.get(E.TABLES.idFromName(t));
const fetchWorker = (path: string, init?: RequestInit) => (exports as unknown as { default: Fetcher }).default.fetch(`http://floe.test${path}`, init);
const maintain = (table: string, body: unknown) => fetchWorker(`/v1/tables/${table}/maintenance`, { method: "POST", headers: ADMIN, body: typeof body === "string" ? body : JSON.stringify(body) });

/** A table of `batches` commits of 3 rows each, through the consumer. */
async function ingest(table: string, batches: number, properties: Record<string, string>) {
  await stub(table).configure(table, { schema: { type: "struct", fields: [{ id: 0, name: "id", required: false, type: "long" }, { id: 0, name: "v", required: false, type: "string" }] }, properties });
  for (let b = 0; b < batches; b++) {
    const r = await deliver(rowsMessages(table, [0, 1, 2].map((i) => ({ id: b * 3 + i, v: `row ${b * 3 + i}` }))));
    expect(r.retryMessages).toEqual([]);
  }
}

const ids = async (table: string) => {
  const t = await readTable(new R2Store(E.LAKE), tableLocation("floe-lake", "warehouse", "default", table.split(".")[1]));
  return { ids: t.rows.map((r) => Number(r.id)).sort((a, b) => a - b), missing: t.missing, metadata: t.metadata! };
};

describe("maintenance in the Worker", () => {
  it("compacts through the queue (steps delivered twice change nothing), expires, and reports in the table status", async () => {
    const table = "default.maint";
    await ingest(table, 8, { "floe.compaction.step-input-bytes": "1500", "floe.history.max-snapshots": "2", "floe.maintenance.enabled": "false" });
    const before = await ids(table);
    expect(before.ids).toEqual(Array.from({ length: 24 }, (_, i) => i));

    const res = await maintain(table, { actions: ["compact"] });
    expect(res.status).toBe(200);
    const report = (await res.json()) as { compact: { jobs: number; inputFiles: number }; files: { dataFiles: number; smallFiles: number } };
    expect(report.compact).toMatchObject({ jobs: 1, inputFiles: 8 });
    expect(report.files).toMatchObject({ dataFiles: 8, smallFiles: 8 });
    const info = await stub(table).info(table);
    const [job] = info.maintenance.compaction.recent;
    expect(job).toMatchObject({ state: "running", inputs: 8 });

    // Drive the job's steps through the consumer, each message twice; poll with a deadline.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const s = (await stub(table).info(table)).maintenance.compaction;
      if (s.running === 0) break;
      if (Date.now() > deadline) throw new Error(`compaction did not finish: ${JSON.stringify(s)}`);
      const r = await deliver([compactMessage(table, job.id), compactMessage(table, job.id)]);
      expect(r.retryMessages).toEqual([]);
    }
    const after = await stub(table).info(table);
    expect(after.maintenance.compaction).toMatchObject({ running: 0, done: 1, cancelled: 0 });
    expect(after.dataFiles).toBe(1);
    expect(after.totalRecords).toBe(24);
    const compacted = await ids(table);
    expect(compacted.ids).toEqual(before.ids);
    expect(compacted.missing).toEqual([]);

    const exp = await maintain(table, { actions: ["expire-snapshots"], olderThanMs: 0 });
    const er = (await exp.json()) as { expireSnapshots: { snapshotsExpired: number; dataFilesDeleted: number } };
    expect(er.expireSnapshots.dataFilesDeleted).toBe(8);
    const final = await stub(table).info(table);
    expect(final).toMatchObject({ snapshots: 1, dataFiles: 1, totalRecords: 24, smallFiles: 1 }); // olderThanMs 0: only min-snapshots-to-keep (1) stays
    expect(final.metadataFileBytes).toBeGreaterThan(500);
    expect(final.averageFileBytes).toBeGreaterThan(0);
    expect(final.maintenance.lastRun?.actions).toEqual(["expire-snapshots"]);
    expect((await ids(table)).ids).toEqual(before.ids);
  });

  it("runs automatically from the table's alarm once floe.maintenance.after-commits commits landed", async () => {
    const table = "default.auto";
    await ingest(table, 5, { "floe.maintenance.after-commits": "4", "floe.history.max-snapshots": "2", "floe.compaction.min-input-files": "100" });
    const s = stub(table);
    const due = await s.info(table);
    expect(due.maintenance.commitsSinceLastRun).toBe(5);
    expect(Date.parse(due.maintenance.nextRunAt!)).toBeLessThanOrEqual(Date.now());
    expect(await runDurableObjectAlarm(s)).toBe(true);
    const ran = await s.info(table);
    expect(ran.snapshots).toBe(2);
    expect(ran.maintenance.commitsSinceLastRun).toBe(0);
    expect(ran.maintenance.lastRun?.actions).toEqual(["compact", "expire-snapshots", "remove-orphans"]);
    expect((await ids(table)).ids).toHaveLength(15);
    // Off for a table whose catalog maintains it: nothing becomes due.
    await s.configure(table, { properties: { "floe.maintenance.enabled": "false" } });
    await ingest(table, 5, {});
    expect((await s.info(table)).maintenance.nextRunAt).toBeNull();
    await runInDurableObject(s, async (_o: TableDO, state: DurableObjectState) => expect(state.storage.sql.exec("SELECT count(*) AS n FROM compactions").one().n).toBe(0));
  });

  it("refuses bad requests with a 4xx naming what is wrong, and keeps serving", async () => {
    const table = "default.maint_refusals";
    await ingest(table, 1, {});
    const cases: [RequestInit, number, string, RegExp][] = [
      [{ method: "POST", headers: ADMIN, body: JSON.stringify({ actions: ["vacuum"] }) }, 400, "invalid_input", /actions\.0: Invalid option/],
      [{ method: "POST", headers: ADMIN, body: JSON.stringify({ actions: [] }) }, 400, "invalid_input", /actions/],
      [{ method: "POST", headers: ADMIN, body: JSON.stringify({ olderThanMs: -5 }) }, 400, "invalid_input", /olderThanMs/],
      [{ method: "POST", headers: ADMIN, body: JSON.stringify({ dryRun: "yes" }) }, 400, "invalid_input", /dryRun/],
      [{ method: "POST", headers: ADMIN, body: JSON.stringify({ surprise: 1 }) }, 400, "invalid_input", /surprise/],
      [{ method: "POST", headers: ADMIN, body: "{not json" }, 400, "invalid_input", /invalid JSON/],
      [{ method: "POST", headers: { ...ADMIN, authorization: "Bearer test-ingest-token" }, body: "{}" }, 403, "forbidden", /lacks the admin scope/],
      [{ method: "POST", body: "{}" }, 401, "unauthorized", /missing bearer token/],
    ];
    for (const [init, status, code, message] of cases) {
      const res = await fetchWorker(`/v1/tables/${table}/maintenance`, init);
      expect(res.status).toBe(status);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe(code);
      expect(body.error.message).toMatch(message);
    }
    const missing = await maintain("default.never_created", {});
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { message: string } }).error.message).toMatch(/default.never_created does not exist/);
    // A dry run answers what would happen and changes nothing; the table still serves.
    const dry = await maintain(table, { dryRun: true });
    expect(dry.status).toBe(200);
    expect(await dry.json()).toMatchObject({ dryRun: true, actions: ["rewrite-manifests", "compact", "expire-snapshots", "remove-orphans"] });
    expect((await ids(table)).ids).toEqual([0, 1, 2]);
    expect((await fetchWorker("/healthz")).status).toBe(200);
  });
});
