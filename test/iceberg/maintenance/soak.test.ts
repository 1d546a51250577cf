import { afterEach, beforeEach, expect, it } from "vitest";
import { appendRows } from "../../../src/iceberg/append-rows.js";
import { runCompactionJob } from "../../../src/iceberg/maintenance/compaction-run.js";
import { maintainTable, maintenanceSchedule, nextRunAt, scheduledActions, type MaintenanceState } from "../../../src/iceberg/maintenance/maintain.js";
import { currentSchema, defaultSpec } from "../../../src/iceberg/metadata.js";
import { compileRowConverter } from "../../../src/iceberg/rows.js";
import { loadTable, tableLocation, type LoadedTable } from "../../../src/iceberg/table.js";
import { appendFiles } from "../../../src/iceberg/transaction/append.js";
import { PartitionedFileWriter } from "../../../src/iceberg/write-files.js";
import { MemoryStore } from "../../../src/storage/memory-store.js";
import { bodySize, type ObjectStore } from "../../../src/storage/object-store.js";
import { serveStoreOverFetch } from "../../support/store-fetch.js";
import { checkTable, icebirdIds } from "../../support/table-check.js";

// The bounded soak of issue 9: 5,000 commits to one table, one a second of simulated time, with
// maintenance scheduled as the TableDO schedules it (after 50 commits: compaction planning, its
// jobs, expiry). Cost is measured as store traffic per commit (bytes read and written, requests),
// which is what a commit's time follows and, unlike a timer, does not vary run to run; the times
// are printed beside it (`npm run bench` measures them properly).

const COMMITS = 5_000;
let store: MemoryStore;
let restore: () => void;
beforeEach(() => {
  store = new MemoryStore();
  restore = serveStoreOverFetch(store, "lake");
});
afterEach(() => restore());

/** The store, counting what passes through it. */
function metered(inner: ObjectStore) {
  const m = { requests: 0, bytes: 0 };
  const store: ObjectStore = {
    get: async (k) => { m.requests++; const b = await inner.get(k); m.bytes += b?.byteLength ?? 0; return b; },
    getRange: async (k, a, b) => { m.requests++; const r = await inner.getRange(k, a, b); m.bytes += r?.byteLength ?? 0; return r; },
    getStream: (k) => { m.requests++; return inner.getStream(k); },
    put: (k, body, o) => { m.requests++; m.bytes += bodySize(body); return inner.put(k, body, o); },
    putStream: (k, c, o) => { m.requests++; return inner.putStream(k, c, o); },
    list: (p, o) => { m.requests++; return inner.list(p, o); },
    delete: (k) => { m.requests++; return inner.delete(k); },
    copy: (f, t, o) => { m.requests++; return inner.copy(f, t, o); },
  };
  return { store, m };
}

it(`keeps commit cost, metadata and manifests flat over ${COMMITS} commits with maintenance on, every row once`, { timeout: 300_000 }, async () => {
  const loc = tableLocation("lake", "warehouse", "default", "soak");
  await appendRows(store, loc, [{ id: 0 }], { create: {} });
  let t: LoadedTable = (await loadTable(store, loc))!;
  const schema = currentSchema(t.metadata);
  const convert = compileRowConverter(schema, { unknownFields: "ignore" });
  const { store: counted, m } = metered(store);
  let clock = Date.now();
  const state: MaintenanceState = { commitsSince: 0, lastRunAt: clock, lastOrphansAt: clock };
  const cost: { bytes: number; requests: number; ms: number }[] = [];
  let maxMetadata = 0;
  let maxManifests = 0;
  let runs = 0;
  let compacted = 0;

  for (let i = 1; i < COMMITS; i++) {
    clock += 1000;
    const w = new PartitionedFileWriter(store, loc, schema, defaultSpec(t.metadata));
    await w.write(convert([{ id: i }], 0));
    const files = await w.finish();
    const before = { ...m };
    const t0 = performance.now();
    t = (await appendFiles(counted, loc, files, { base: t, now: () => clock, summary: { "floe.batch-ids": crypto.randomUUID() } })).table;
    cost.push({ bytes: m.bytes - before.bytes, requests: m.requests - before.requests, ms: performance.now() - t0 });
    maxMetadata = Math.max(maxMetadata, t.metadataBytes);
    state.commitsSince++;

    const schedule = maintenanceSchedule(t.metadata.properties);
    const due = nextRunAt(schedule, state, clock);
    if (due !== null && due <= clock) {
      const r = await maintainTable(store, loc, t, scheduledActions(schedule, state, clock), { now: clock });
      t = r.table;
      for (const job of r.jobs) {
        t = (await runCompactionJob(store, loc, t, currentSchema(t.metadata), job, { now: () => clock })).table;
        compacted++;
      }
      Object.assign(state, { commitsSince: 0, lastRunAt: clock });
      runs++;
    }
    if (i % 500 === 0) maxManifests = Math.max(maxManifests, (await checkTable(store, loc)).manifests);
  }

  const window = (from: number) => cost.slice(from, from + 100);
  const avg = (xs: typeof cost, k: "bytes" | "requests" | "ms") => xs.reduce((n, x) => n + x[k], 0) / xs.length;
  const early = window(50); // commits 51..150: around commit 100
  const late = window(cost.length - 100);
  console.log(
    `soak: ${COMMITS} commits, ${runs} maintenance runs, ${compacted} compaction jobs; per commit around #100: ${avg(early, "bytes").toFixed(0)} B, ${avg(early, "requests").toFixed(1)} requests, ${avg(early, "ms").toFixed(2)} ms; ` +
      `last 100: ${avg(late, "bytes").toFixed(0)} B, ${avg(late, "requests").toFixed(1)} requests, ${avg(late, "ms").toFixed(2)} ms (${(avg(late, "ms") / avg(early, "ms")).toFixed(2)}× in time); ` +
      `metadata.json at most ${maxMetadata} B; ${t.metadata.snapshots.length} snapshots kept; at most ${maxManifests} manifests`,
  );
  expect(avg(late, "bytes")).toBeLessThan(1.5 * avg(early, "bytes"));
  expect(avg(late, "requests")).toBeLessThan(1.5 * avg(early, "requests"));
  expect(maxMetadata).toBeLessThan(1024 * 1024);
  expect(maxManifests).toBeLessThanOrEqual(200);
  expect(runs).toBeGreaterThanOrEqual(COMMITS / 50 - 1);
  expect(compacted).toBeGreaterThan(0);

  const check = await checkTable(store, loc);
  expect(check.missing).toEqual([]);
  expect(check.twice).toEqual([]);
  expect(check.live.length).toBeLessThan(200); // compaction keeps the file count down
  expect(await icebirdIds(loc)).toEqual(Array.from({ length: COMMITS }, (_, i) => i));
});
