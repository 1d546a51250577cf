import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { parquetWriteBuffer } from "hyparquet-writer";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/config.js";
import { loadTable, tableLocation } from "../../src/iceberg/table.js";
import { readManifest, readManifestList } from "../../src/iceberg/manifest-read.js";
import { R2Store } from "../../src/storage/r2-store.js";
import worker from "../../src/worker.js";
import { readTable } from "../support/read-table.js";

const E = env as unknown as Env;
const http = exports as unknown as { default: Fetcher };
const ADMIN = { Authorization: "Bearer test-admin-token" };
const INGEST = { Authorization: "Bearer test-ingest-token" };
let nextId = 0;

const info = (table: string) => E.TABLES.get(E.TABLES.idFromName(`default.${table}`)).info(`default.${table}`);
const rowsOf = async (table: string) => (await readTable(new R2Store(E.LAKE), tableLocation("floe-lake", "warehouse", "default", table))).rows;

async function notify(bodies: unknown[]) {
  const batch = createMessageBatch("floe-ingest", bodies.map((body) => ({ id: `n${nextId++}`, timestamp: new Date(), attempts: 1, body })));
  const ctx = createExecutionContext();
  await worker.queue(batch as MessageBatch<unknown>, E);
  return getQueueResult(batch, ctx);
}

function notification(key: string, o: R2Object, action = "PutObject") {
  return { account: "acct", action, bucket: "floe-lake", object: { key, size: o.size, eTag: o.etag }, eventTime: new Date().toISOString() };
}

async function ledger(table: string): Promise<{ object: string; state: string; rows: number; reason: string | null }[]> {
  const r = await http.default.fetch(`http://floe.local/v1/tables/${table}/uploads?limit=1000`, { headers: INGEST });
  return ((await r.json()) as { uploads: { object: string; state: string; rows: number; reason: string | null }[] }).uploads;
}

async function waitFor(fn: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!(await fn())) {
    if (Date.now() - t0 > ms) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("uploads", () => {
  it("ingests each object version once when notifications are duplicated, reordered and 30% dropped, after one reconcile", async () => {
    const objects: { key: string; o: R2Object; ids: number[] }[] = [];
    for (let f = 0; f < 10; f++) {
      const ids = Array.from({ length: 20 }, (_, i) => f * 100 + i);
      const key = `incoming/up_notes/part-${f}.ndjson`;
      objects.push({ key, ids, o: (await E.LAKE.put(key, ids.map((id) => JSON.stringify({ id, file: f })).join("\n")))! });
    }
    const delivered = objects.filter((_, i) => i % 10 >= 3); // 3 of 10 notifications lost
    const notes = [...delivered, ...delivered.slice(0, 4)].map((x) => notification(x.key, x.o)).reverse();
    const r = await notify(notes);
    expect(r.explicitAcks).toHaveLength(notes.length);
    expect((await info("up_notes")).totalRecords).toBe(140);
    const rec = await http.default.fetch("http://floe.local/v1/admin/reconcile", { method: "POST", headers: ADMIN });
    expect(await rec.json()).toMatchObject({ enqueued: 3 });
    await waitFor(async () => (await info("up_notes")).totalRecords >= 200);
    await new Promise((res) => setTimeout(res, 2500));
    const rows = await rowsOf("up_notes");
    expect(rows.map((x) => Number(x.id)).sort((a, b) => a - b)).toEqual(objects.flatMap((x) => x.ids).sort((a, b) => a - b));
    const l = await ledger("up_notes");
    expect(l.filter((u) => u.state === "ingested")).toHaveLength(10);
    expect(l.every((u) => u.rows === 20)).toBe(true);
  });

  it("splits a large NDJSON object into line-aligned ranges, reads at most one range per invocation, and lands every line once", async () => {
    // 64 KiB ranges (FLOE_SPLIT_BYTES) over a ~350 KB file: six ranges, cut mid-line.
    const ids = Array.from({ length: 3000 }, (_, i) => i);
    const key = "incoming/up_split/big.ndjson";
    const o = (await E.LAKE.put(key, ids.map((id) => JSON.stringify({ id, pad: "x".repeat(80 + (id % 37)) })).join("\n") + "\n"))!;
    const sent: unknown[] = [];
    const queue = { send: async (body: unknown) => void sent.push(body), sendBatch: async (msgs: Iterable<{ body: unknown }>) => void sent.push(...[...msgs].map((m) => m.body)) };
    const env2 = { ...E, FLOE_SPLIT_BYTES: "65536", INGEST: queue } as unknown as Env;
    const deliver = async (bodies: unknown[]) => {
      const batch = createMessageBatch("floe-ingest", bodies.map((body) => ({ id: `n${nextId++}`, timestamp: new Date(), attempts: 1, body })));
      await worker.queue(batch as MessageBatch<unknown>, env2);
      return getQueueResult(batch, createExecutionContext());
    };
    await deliver([notification(key, o)]);
    const ranges = sent.splice(0) as { range: { start: number; end: number; index: number; count: number } }[];
    expect(ranges.map((m) => m.range.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(ranges.every((m, i) => m.range.start === i * 65536 && m.range.end === Math.min(o.size, (i + 1) * 65536))).toBe(true);
    // All six in one batch: the first is read, the other five go back to the queue as new messages.
    let pending: unknown[] = ranges;
    const perInvocation: number[] = [];
    while (pending.length) {
      const before = (await info("up_split")).totalRecords;
      const r = await deliver(pending);
      expect(r.explicitAcks).toHaveLength(pending.length);
      expect(r.retryMessages).toEqual([]);
      pending = sent.splice(0);
      perInvocation.push((await info("up_split")).totalRecords - before);
    }
    expect(perInvocation).toHaveLength(6);
    expect(perInvocation.every((n) => n > 0 && n < 1000)).toBe(true);
    const rows = await rowsOf("up_split");
    expect(rows.map((x) => Number(x.id)).sort((a, b) => a - b)).toEqual(ids);
    expect(await ledger("up_split")).toMatchObject([{ state: "ingested", rows: 3000 }]);
    // A range delivered again adds nothing.
    await deliver([ranges[3]]);
    expect((await info("up_split")).totalRecords).toBe(3000);
  });

  it("registers a flat Parquet upload as it is (R2 binding): the table's data file is the upload's bytes", async () => {
    // Written by hyparquet-writer with no field ids, as most exports are.
    const n = 500;
    const bytes = new Uint8Array(parquetWriteBuffer({
      columnData: [
        { name: "id", data: BigInt64Array.from({ length: n }, (_, i) => BigInt(i)), type: "INT64", nullable: false },
        { name: "name", data: Array.from({ length: n }, (_, i) => (i % 10 === 0 ? null : `n${i}`)), type: "STRING" },
        { name: "score", data: Float64Array.from({ length: n }, (_, i) => i / 4), type: "DOUBLE", nullable: false },
      ],
    }));
    const key = "incoming/up_registered/flat.parquet";
    const o = (await E.LAKE.put(key, bytes))!;
    const r = await notify([notification(key, o)]);
    expect(r.explicitAcks).toHaveLength(1);
    expect(await ledger("up_registered")).toMatchObject([{ state: "ingested", rows: n }]);
    const loc = tableLocation("floe-lake", "warehouse", "default", "up_registered");
    const store = new R2Store(E.LAKE);
    const t = (await loadTable(store, loc))!;
    const entries = [];
    for (const m of readManifestList((await store.get(t.metadata.snapshots[0]["manifest-list"].replace(`${loc.uri}/`, `${loc.key}/`)))!)) {
      entries.push(...readManifest((await store.get(m.manifestPath.replace(`${loc.uri}/`, `${loc.key}/`)))!).entries);
    }
    expect(entries).toHaveLength(1);
    const copy = (await store.get(entries[0].dataFile.filePath.replace(`${loc.uri}/`, `${loc.key}/`)))!;
    expect(copy.byteLength).toBe(bytes.byteLength);
    expect(copy.every((b, i) => b === bytes[i])).toBe(true);
    expect(entries[0].dataFile.recordCount).toBe(n);
    expect(entries[0].dataFile.nullValueCounts.get(2)).toBe(50);
    expect(JSON.parse(t.metadata.properties["schema.name-mapping.default"])).toEqual([
      { "field-id": 1, names: ["id"] },
      { "field-id": 2, names: ["name"] },
      { "field-id": 3, names: ["score"] },
    ]);
    const rows = await rowsOf("up_registered");
    expect(rows.map((x) => Number(x.id)).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(rows.find((x) => Number(x.id) === 7)).toMatchObject({ name: "n7", score: 1.75 });
  });

  it("reads a CSV upload into a table's declared columns of every flat type, an int column among them", async () => {
    // Found while the CSV path moved to column sources: an int column was typed "long" for the CSV
    // reader, whose 64-bit integers the int conversion refused, so every row of such a file failed.
    const schema = {
      fields: [
        { name: "n", required: true, type: "int" },
        { name: "big", required: false, type: "long" },
        { name: "x", required: false, type: "double" },
        { name: "r", required: false, type: "float" },
        { name: "ok", required: false, type: "boolean" },
        { name: "at", required: false, type: "timestamptz" },
        { name: "day", required: false, type: "date" },
        { name: "s", required: false, type: "string" },
      ],
    };
    const created = await http.default.fetch("http://floe.local/v1/tables/up_csv_types", { method: "PUT", headers: { ...ADMIN, "Content-Type": "application/json" }, body: JSON.stringify({ schema }) });
    expect(created.status, await created.clone().text()).toBeLessThan(300);
    const key = "incoming/up_csv_types/data.csv";
    const o = (await E.LAKE.put(key, "n,big,x,r,ok,at,day,s\n7,9007199254740993,1.5,0.25,true,2024-05-01T10:00:00Z,2024-05-01,héllo\n-2147483648,,,,FALSE,,,\n"))!;
    const r = await notify([notification(key, o)]);
    expect(r.explicitAcks).toHaveLength(1);
    expect(await ledger("up_csv_types")).toMatchObject([{ state: "ingested", rows: 2 }]);
    const rows = (await rowsOf("up_csv_types")).sort((a, b) => Number(b.n) - Number(a.n));
    expect(rows.map((x) => [x.n, String(x.big), x.x, x.r, x.ok, x.day, x.s])).toEqual([
      [7, "9007199254740993", 1.5, 0.25, true, new Date("2024-05-01T00:00:00Z"), "héllo"],
      [-2147483648, "null", null, null, false, null, null],
    ]);
    expect(new Date(rows[0].at as string | Date).toISOString()).toBe("2024-05-01T10:00:00.000Z");
  });

  it("treats a re-upload with new content as a new version, and records deletes", async () => {
    const key = "incoming/up_versions/data.csv";
    const v1 = (await E.LAKE.put(key, "id,name\n1,a\n2,b\n"))!;
    await notify([notification(key, v1)]);
    const v2 = (await E.LAKE.put(key, "id,name\n3,c\n"))!;
    await notify([notification(key, v2), notification(key, v1)]); // the stale one is a duplicate of an ingested version
    expect((await rowsOf("up_versions")).map((r) => [Number(r.id), r.name]).sort()).toEqual([[1, "a"], [2, "b"], [3, "c"]]);
    await notify([{ account: "acct", action: "DeleteObject", bucket: "floe-lake", object: { key }, eventTime: new Date().toISOString() }]);
    expect((await info("up_versions")).uploads).toMatchObject({ ingested: 2 });
    expect((await ledger("up_versions")).every((u) => u.reason === "source object deleted")).toBe(true);
  });

  it("marks broken files failed with a reason naming where, writes none of their rows, and replays after a fix", async () => {
    const bad: [string, string | Uint8Array][] = [
      ["incoming/up_bad/ragged.csv", "a,b\n1,2\n3\n"],
      ["incoming/up_bad/empty.ndjson", ""],
      ["incoming/up_bad/corrupt.ndjson.gz", new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5])],
      ["incoming/up_bad/trunc.parquet", new Uint8Array([0x50, 0x41, 0x52, 0x31, 1, 2, 3])],
      ["incoming/up_bad/typed.ndjson", '{"n":1}\n{"n":"x"}\n'],
      ["incoming/up_bad/../escape.ndjson", '{"n":1}\n'],
    ];
    const notes = [];
    for (const [key, body] of bad) notes.push(notification(key, (await E.LAKE.put(key, body))!));
    const r = await notify(notes);
    expect(r.explicitAcks).toHaveLength(bad.length);
    const l = await ledger("up_bad");
    const reason = (name: string) => l.find((u) => u.object.includes(name))?.reason ?? "";
    expect(l.filter((u) => u.state === "failed")).toHaveLength(6);
    expect(reason("ragged.csv")).toMatch(/line 3/);
    expect(reason("empty.ndjson")).toMatch(/empty/);
    expect(reason("corrupt.ndjson.gz")).toMatch(/gzip/i);
    expect(reason("trunc.parquet")).toMatch(/parquet/i);
    expect(reason("typed.ndjson")).toMatch(/row 1, field "n"/);
    expect(reason("escape.ndjson")).toMatch(/\.\. segment/);
    expect((await info("up_bad")).totalRecords).toBe(0);
    // Fix the ragged file (a new version) and replay: all six are retried, the others fail again, and
    // the reconciler finds the fixed version (a new eTag) and ingests it.
    await E.LAKE.put("incoming/up_bad/ragged.csv", "a,b\n1,2\n3,4\n");
    const replay = await http.default.fetch("http://floe.local/v1/tables/up_bad/uploads/replay", { method: "POST", headers: ADMIN });
    expect(((await replay.json()) as { replayed: number }).replayed).toBe(6);
    await http.default.fetch("http://floe.local/v1/admin/reconcile", { method: "POST", headers: ADMIN });
    await waitFor(async () => (await info("up_bad")).totalRecords >= 2);
    expect((await rowsOf("up_bad")).map((x) => [Number(x.a), Number(x.b)]).sort()).toEqual([[1, 2], [3, 4]]);
  });

  it("routes by rule (format, after: archive) and takes uploads through the endpoint", async () => {
    const o = (await E.LAKE.put("partners/acme/orders-2026-11-24.txt", "order,qty\nA,1\nB,2\n"))!;
    await notify([notification("partners/acme/orders-2026-11-24.txt", o)]);
    expect((await rowsOf("acme_orders")).map((r) => r.order).sort()).toEqual(["A", "B"]);
    expect(await E.LAKE.head("partners/acme/orders-2026-11-24.txt")).toBeNull();
    expect(await E.LAKE.head("archive/partners/acme/orders-2026-11-24.txt")).not.toBeNull();
    const put = await http.default.fetch("http://floe.local/v1/tables/up_api/uploads/2026/day.ndjson", { method: "PUT", headers: { ...INGEST, "Content-Type": "application/x-ndjson" }, body: '{"k":1}\n{"k":2}\n' });
    expect(put.status).toBe(202);
    expect(await put.json()).toMatchObject({ key: "incoming/up_api/2026/day.ndjson", size: 16 });
    await waitFor(async () => (await info("up_api")).totalRecords >= 2);
    const refused = await http.default.fetch("http://floe.local/v1/tables/up_api/uploads/../x.ndjson", { method: "PUT", headers: INGEST, body: "{}" });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.status).toBeLessThan(500);
  });
});
