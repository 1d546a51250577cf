import { describe, expect, it } from "vitest";
import { appendRows } from "../../../src/iceberg/append-rows.js";
import { maintainTable, maintenanceSchedule, nextRunAt, scheduledActions } from "../../../src/iceberg/maintenance/maintain.js";
import { loadTable, type TableLocation } from "../../../src/iceberg/table.js";
import { MemoryStore } from "../../../src/storage/memory-store.js";
import { listAll, type ObjectStore } from "../../../src/storage/object-store.js";
import { duckdb } from "../../support/duckdb.js";
import { memoryLake } from "../../support/memory-lake.js";
import { checkTable, icebirdIds } from "../../support/table-check.js";
import { tempFile } from "../../support/temp-file.js";

const DAY = 86_400_000;
let store: MemoryStore;
let loc: TableLocation;
memoryLake("kept", (s, l) => ((store = s), (loc = l)));

/** A table of `n` appends of one row each (ids 0..n-1): metadata versions 1 (the create) to n + 1. */
async function commits(n: number, properties: Record<string, string> = {}): Promise<void> {
  await appendRows(store, loc, [{ id: 0, v: "r0" }], { create: { properties } });
  for (let i = 1; i < n; i++) await appendRows(store, loc, [{ id: i, v: `r${i}` }]);
}

const table = async () => (await loadTable(store, loc))!;
const keys = async (under = "") => (await listAll(store, `${loc.key}/${under}`)).map((o) => o.key);

/** The rows DuckDB reads from the current snapshot's data files (an engine that never saw our metadata code). */
async function duckdbIds(): Promise<number[]> {
  const { live } = await checkTable(store, loc);
  const paths = await Promise.all(live.map(async (p) => `'${tempFile("d.parquet", (await store.get(p.replace(`${loc.uri}/`, `${loc.key}/`)))!)}'`));
  const rows = await duckdb(`SELECT id::INTEGER AS id FROM read_parquet([${paths.join(",")}]) ORDER BY id`);
  return rows.map((r) => Number(r.id));
}

/** Readers we did not write see the same rows, nothing referenced is missing, nothing is live twice. */
async function expectIntact(n: number): Promise<void> {
  const ids = Array.from({ length: n }, (_, i) => i);
  const check = await checkTable(store, loc);
  expect(check.missing).toEqual([]);
  expect(check.twice).toEqual([]);
  expect(await icebirdIds(loc)).toEqual(ids);
  expect(await duckdbIds()).toEqual(ids);
}

describe("metadata files", () => {
  it("are written compact, and only the newest previous-versions-max stay; the rest are deleted after each commit", async () => {
    await commits(10, { "write.metadata.previous-versions-max": "3" });
    expect((await keys("metadata/v")).map((k) => k.split("/").pop()).filter((k) => k!.endsWith(".metadata.json"))).toEqual(["v10.metadata.json", "v11.metadata.json", "v8.metadata.json", "v9.metadata.json"]);
    const text = new TextDecoder().decode((await store.get(`${loc.key}/metadata/v11.metadata.json`))!);
    expect(text).not.toContain("\n");
    expect(text.startsWith('{"format-version":2,')).toBe(true);
    await expectIntact(10);
  });

  it("keep every version when delete-after-commit is off", async () => {
    await commits(5, { "write.metadata.previous-versions-max": "2", "write.metadata.delete-after-commit.enabled": "false" });
    expect((await keys("metadata/v")).filter((k) => k.endsWith(".metadata.json"))).toHaveLength(6);
  });

  it("are found by listing when version-hint.text names one that was deleted", async () => {
    await commits(6, { "write.metadata.previous-versions-max": "2" });
    await store.put(`${loc.key}/metadata/version-hint.text`, "2");
    expect((await table()).version).toBe(7);
  });
});

describe("expire-snapshots", () => {
  it("removes expired snapshots and deletes the manifest lists and manifests only they referenced", async () => {
    await commits(30, { "floe.history.max-snapshots": "5", "commit.manifest.min-count-to-merge": "8" });
    const before = await table();
    expect(before.metadata.snapshots).toHaveLength(30);
    const listsBefore = (await keys("metadata/snap-")).length;
    const dry = await maintainTable(store, loc, before, ["expire-snapshots"], { now: Date.now(), dryRun: true });
    expect(dry.report.expireSnapshots).toMatchObject({ snapshotsExpired: 25, manifestListsDeleted: 25, dataFilesDeleted: 0 });
    expect((await table()).version).toBe(before.version); // a dry run changes nothing
    expect(await keys("metadata/snap-")).toHaveLength(listsBefore);

    const r = await maintainTable(store, loc, before, ["expire-snapshots"], { now: Date.now() });
    expect(r.report.expireSnapshots).toEqual(dry.report.expireSnapshots);
    expect(r.report.expireSnapshots!.manifestsDeleted).toBeGreaterThan(0);
    const after = await table();
    expect(after.metadata.snapshots).toHaveLength(5);
    expect(after.metadata["snapshot-log"]).toHaveLength(5);
    expect(await keys("metadata/snap-")).toHaveLength(5);
    expect(r.report.files).toMatchObject({ dataFiles: 30, smallFiles: 30 });
    await expectIntact(30);
  });

  it("deletes nothing when its commit is refused (another writer moved main): it plans again on the new table", async () => {
    await commits(6, { "floe.history.max-snapshots": "2" });
    const stale = await table();
    await appendRows(store, loc, [{ id: 6, v: "r6" }]); // moves main after `stale` was read
    const r = await maintainTable(store, loc, stale, ["expire-snapshots"], { now: Date.now() });
    expect(r.report.expireSnapshots!.snapshotsExpired).toBe(5);
    expect((await table()).metadata.snapshots.map((s) => s["sequence-number"])).toEqual([6, 7]);
    await expectIntact(7);
  });
});

describe("rewrite-manifests", () => {
  it("packs the current snapshot's manifests into one, as a replace snapshot with the same rows", async () => {
    await commits(12, { "commit.manifest-merge.enabled": "false" });
    expect((await checkTable(store, loc)).manifests).toBe(12);
    const dry = await maintainTable(store, loc, await table(), ["rewrite-manifests"], { now: Date.now(), dryRun: true });
    expect(dry.report.rewriteManifests).toEqual({ manifestsBefore: 12, manifestsAfter: 1, snapshotId: null });
    const r = await maintainTable(store, loc, await table(), ["rewrite-manifests"], { now: Date.now() });
    expect(r.report.rewriteManifests).toMatchObject({ manifestsBefore: 12, manifestsAfter: 1 });
    const t = await table();
    const s = t.metadata.snapshots.at(-1)!;
    expect(s.summary).toMatchObject({ operation: "replace", "manifests-created": "1", "manifests-replaced": "12", "total-records": "12", "total-data-files": "12" });
    expect((await checkTable(store, loc)).manifests).toBe(1);
    await expectIntact(12);
  });
});

describe("remove-orphans", () => {
  it("deletes unreferenced objects older than the window, and nothing a kept snapshot or metadata file references", async () => {
    await commits(4);
    const strays = [`${loc.key}/data/stray.parquet`, `${loc.key}/metadata/stray-m0.avro`];
    const old = Date.now() - 4 * DAY;
    store.now = () => old;
    for (const k of strays) await store.put(k, "x");
    store.now = Date.now;
    await store.put(`${loc.key}/data/young.parquet`, "x"); // a batch still being written looks like this
    const all = await keys();

    const dry = await maintainTable(store, loc, await table(), ["remove-orphans"], { now: Date.now(), dryRun: true });
    expect(dry.report.removeOrphans).toMatchObject({ orphans: 2, scanned: all.length });
    expect(await keys()).toEqual(all);

    const r = await maintainTable(store, loc, await table(), ["remove-orphans"], { now: Date.now() });
    expect(r.report.removeOrphans!.sample.sort()).toEqual(strays.sort());
    expect(await keys()).toEqual(all.filter((k) => !strays.includes(k)));
    await expectIntact(4);

    // Everything is older than a window of 0 now, and still nothing referenced goes.
    const again = await maintainTable(store, loc, await table(), ["remove-orphans"], { now: Date.now() + 1, olderThanMs: 0 });
    expect(again.report.removeOrphans!.sample).toEqual([`${loc.key}/data/young.parquet`]);
    await expectIntact(4);
  });
});

describe("crashes part way", () => {
  /** A store whose deletes fail: a maintenance run that dies after its commit, before its deletes. */
  function failingDeletes(inner: ObjectStore): ObjectStore {
    return { ...inner, get: (k) => inner.get(k), getStream: (k) => inner.getStream(k), put: (k, b, o) => inner.put(k, b, o), list: (p, o) => inner.list(p, o), copy: (f, t, o) => inner.copy(f, t, o), delete: async () => { throw new Error("crash"); } };
  }

  it("after the expiry commit, before the deletes: the table is whole, and orphan removal finishes the job", async () => {
    await commits(10, { "floe.history.max-snapshots": "2" });
    await expect(maintainTable(failingDeletes(store), loc, await table(), ["expire-snapshots"], { now: Date.now() })).rejects.toThrow("crash");
    expect((await table()).metadata.snapshots).toHaveLength(2);
    await expectIntact(10);
    const lists = (await keys("metadata/snap-")).length;
    expect(lists).toBe(10); // left behind
    const r = await maintainTable(store, loc, await table(), ["remove-orphans"], { now: Date.now() + 1, olderThanMs: 0 });
    expect(r.report.removeOrphans!.orphans).toBeGreaterThanOrEqual(8);
    expect(await keys("metadata/snap-")).toHaveLength(2);
    await expectIntact(10);
  });
});

describe("the schedule", () => {
  it("runs after floe.maintenance.after-commits (50) commits, or interval-ms after the last run; orphans daily; off when disabled", () => {
    const s = maintenanceSchedule({});
    expect(s).toEqual({ enabled: true, afterCommits: 50, intervalMs: 600_000, orphansIntervalMs: DAY });
    const now = 10 * DAY;
    expect(nextRunAt(s, { commitsSince: 0, lastRunAt: 0, lastOrphansAt: 0 }, now)).toBeNull();
    expect(nextRunAt(s, { commitsSince: 50, lastRunAt: now, lastOrphansAt: 0 }, now)).toBe(now);
    expect(nextRunAt(s, { commitsSince: 3, lastRunAt: now - 1000, lastOrphansAt: 0 }, now)).toBe(now - 1000 + 600_000);
    expect(nextRunAt(s, { commitsSince: 100, lastRunAt: 0, lastOrphansAt: 0, notBefore: now + 5 }, now)).toBe(now + 5);
    expect(nextRunAt(maintenanceSchedule({ "floe.maintenance.enabled": "false" }), { commitsSince: 500, lastRunAt: 0, lastOrphansAt: 0 }, now)).toBeNull();
    expect(scheduledActions(s, { commitsSince: 1, lastRunAt: 0, lastOrphansAt: now - 1000 }, now)).toEqual(["compact", "expire-snapshots"]);
    expect(scheduledActions(s, { commitsSince: 1, lastRunAt: 0, lastOrphansAt: now - DAY }, now)).toEqual(["compact", "expire-snapshots", "remove-orphans"]);
  });
});
