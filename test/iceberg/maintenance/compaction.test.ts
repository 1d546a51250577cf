import { DEFAULT_POLICY } from "../../../src/iceberg/ingest-policy.js";
import { icebergRead } from "icebird";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fileOfBytes, parquetMetadataOf } from "../../../src/decode/parquet.js";
import { appendRows } from "../../../src/iceberg/append-rows.js";
import { compactionSettings, planCompaction } from "../../../src/iceberg/maintenance/compaction-plan.js";
import { runCompactionJob } from "../../../src/iceberg/maintenance/compaction-run.js";
import { liveFiles, maintainTable } from "../../../src/iceberg/maintenance/maintain.js";
import { currentSchema, currentSnapshot } from "../../../src/iceberg/metadata.js";
import { loadTable, type TableLocation } from "../../../src/iceberg/table.js";
import { appendFiles } from "../../../src/iceberg/transaction/append.js";
import { planRegistration, RAW_STATISTICS } from "../../../src/parquet/register.js";
import { MemoryStore } from "../../../src/storage/memory-store.js";
import { listAll } from "../../../src/storage/object-store.js";
import { pythonAvroRead } from "../../support/avro-readers.js";
import { duckdb } from "../../support/duckdb.js";
import { memoryLake } from "../../support/memory-lake.js";
import { checkTable } from "../../support/table-check.js";
import { tempFile, tempPath } from "../../support/temp-file.js";

let store: MemoryStore;
let loc: TableLocation;
memoryLake("small_files", (s, l) => ((store = s), (loc = l)));

const table = async () => (await loadTable(store, loc))!;
const key = (uri: string) => uri.replace(`${loc.uri}/`, `${loc.key}/`);

/** Every row as icebird reads it, sorted by id, bigints as numbers, a column a file lacks as null. */
async function rows(): Promise<Record<string, unknown>[]> {
  const all: Record<string, unknown>[] = await icebergRead({ tableUrl: loc.uri });
  const columns = currentSchema((await table()).metadata).fields.map((f) => f.name);
  return all
    .map((r) => Object.fromEntries(columns.map((k) => [k, typeof r[k] === "bigint" ? Number(r[k]) : (r[k] ?? null)])))
    .sort((a, b) => (a.id as number) - (b.id as number));
}

/** A file DuckDB writes (no field ids, its own writer), registered into the table as it is, as an upload would be. */
async function registerDuckdbFile(select: string): Promise<void> {
  const path = tempPath("foreign.parquet");
  await duckdb(`COPY (${select}) TO '${path}' (FORMAT parquet)`);
  const bytes = new Uint8Array(readFileSync(path));
  const t = await table();
  const plan = planRegistration(await parquetMetadataOf(fileOfBytes(bytes), RAW_STATISTICS), bytes.byteLength, { schema: currentSchema(t.metadata), lastColumnId: t.metadata["last-column-id"], spec: { "spec-id": 0, fields: [] }, partitionBy: [], mode: "evolve" });
  if (!plan.fits) throw new Error(plan.why);
  await store.put(`${loc.key}/data/foreign.parquet`, bytes);
  await appendFiles(store, loc, [{ content: 0, filePath: `${loc.uri}/data/foreign.parquet`, fileFormat: "PARQUET", partition: [], ...plan.metrics }]);
}

describe("bin-pack compaction", () => {
  it("rewrites small files, old-schema and foreign ones included, into one file with the same rows, joined from segments", async () => {
    const props = { "floe.compaction.step-input-bytes": "2500" }; // a segment per two or three inputs: exercises the join
    // ids as long (the long number policy), as the foreign file below has them.
    const infer = { ...DEFAULT_POLICY, numbers: "long" as const };
    await appendRows(store, loc, [{ id: 0, name: "a0" }], { create: { properties: props }, infer });
    for (let i = 1; i < 6; i++) await appendRows(store, loc, [{ id: i, name: `a${i}` }, { id: 100 + i, name: null }], { infer });
    for (let i = 6; i < 10; i++) await appendRows(store, loc, [{ id: i, name: `b${i}`, score: i + 0.5 }], { infer }); // adds a column
    await registerDuckdbFile("SELECT (200 + i)::BIGINT AS id, 'duck' || i AS name, (i * 0.25)::DOUBLE AS score FROM range(0, 50) r(i)");
    const before = await rows();
    expect(before).toHaveLength(1 + 10 + 4 + 50);
    expect(before.find((r) => r.id === 1)).toEqual({ id: 1, name: "a1", score: null });

    const plan = await maintainTable(store, loc, await table(), ["compact"], { now: Date.now() });
    expect(plan.jobs).toHaveLength(1);
    const [job] = plan.jobs;
    expect(job.inputs).toHaveLength(11);
    expect(job.segments.length).toBeGreaterThan(2);
    expect(plan.report.compact).toMatchObject({ jobs: 1, inputFiles: 11 });

    const t = await table();
    const r = await runCompactionJob(store, loc, t, currentSchema(t.metadata), job);
    const s = currentSnapshot(r.table.metadata)!;
    expect(s.summary).toMatchObject({ operation: "replace", "added-data-files": "1", "deleted-data-files": "11", "added-records": "65", "deleted-records": "65", "total-records": "65", "total-data-files": "1", "floe.compaction-job": job.id });
    expect(await rows()).toEqual(before);
    const check = await checkTable(store, loc);
    expect(check).toMatchObject({ missing: [], twice: [], live: [r.output.filePath] });
    // Segments are gone; the inputs stay until the snapshots that reference them expire.
    expect(await listAll(store, `${loc.key}/compaction/`)).toEqual([]);
    for (const f of job.inputs) expect(await store.get(key(f.path))).not.toBeNull();

    // DuckDB reads the joined file: the same rows, the field ids in its schema, statistics equal to the manifest's metrics.
    const path = tempFile("out.parquet", (await store.get(key(r.output.filePath)))!);
    const [agg] = await duckdb(`SELECT count(*)::INTEGER AS n, count(DISTINCT id)::INTEGER AS ids, sum(id)::INTEGER AS s, count(name)::INTEGER AS names, sum(score)::DOUBLE AS scores FROM read_parquet('${path}')`);
    expect(agg).toEqual({ n: 65, ids: 65, s: before.reduce((n, x) => n + (x.id as number), 0), names: 1 + 5 + 4 + 50, scores: 6.5 + 7.5 + 8.5 + 9.5 + (49 * 50 / 2) * 0.25 });
    const ids = await duckdb(`SELECT name, field_id::INTEGER AS id FROM parquet_schema('${path}') WHERE name IN ('id', 'name', 'score') ORDER BY id`);
    expect(ids).toEqual([{ name: "id", id: 1 }, { name: "name", id: 2 }, { name: "score", id: 3 }]);
    const groups = await duckdb(`SELECT count(DISTINCT row_group_id)::INTEGER AS n FROM parquet_metadata('${path}')`);
    expect(groups[0].n).toBe(job.segments.length);
    const stats = await duckdb(`SELECT min(stats_min_value::BIGINT)::INTEGER AS lo, max(stats_max_value::BIGINT)::INTEGER AS hi FROM parquet_metadata('${path}') WHERE path_in_schema = 'id'`);
    expect(stats[0]).toEqual({ lo: 0, hi: 249 });
    expect(r.output.recordCount).toBe(65);
    expect(r.output.valueCounts.get(1)).toBe(65);
    expect(r.output.nullValueCounts.get(2)).toBe(5);

    // The replace snapshot's manifests as python3-avro decodes them: the output ADDED, the 11 inputs
    // DELETED (with the snapshot that deleted them and their own sequence numbers).
    const list = pythonAvroRead((await store.get(key(s["manifest-list"])))!);
    const statuses: number[] = [];
    for (const mf of list.records as { manifest_path: string }[]) {
      for (const e of pythonAvroRead((await store.get(key(mf.manifest_path)))!).records as { status: number; snapshot_id: number | string | null; sequence_number: number | null }[]) {
        statuses.push(e.status);
        if (e.status === 2) {
          expect(String(e.snapshot_id)).toBe(String(s["snapshot-id"]));
          expect(e.sequence_number).toBeLessThan(s["sequence-number"]);
        }
      }
    }
    expect(statuses.sort()).toEqual([1, ...Array(11).fill(2)]);

    // Expiring the pre-compaction snapshots deletes the inputs, and only them.
    const e = await maintainTable(store, loc, r.table, ["expire-snapshots"], { now: Date.now() + 1, olderThanMs: 0 });
    expect(e.report.expireSnapshots!.dataFilesDeleted).toBe(11);
    for (const f of job.inputs) expect(await store.get(key(f.path))).toBeNull();
    expect(await rows()).toEqual(before);
    expect((await checkTable(store, loc)).missing).toEqual([]);
  });

  it("refuses a job whose inputs are no longer all live, and commits nothing twice", async () => {
    await appendRows(store, loc, [{ id: 0 }], { create: {} });
    for (let i = 1; i < 6; i++) await appendRows(store, loc, [{ id: i }]);
    const t = await table();
    const [job] = planCompaction(loc, await liveFiles(store, loc, t), compactionSettings({}));
    await runCompactionJob(store, loc, t, currentSchema(t.metadata), job);
    const again = await runCompactionJob(store, loc, await table(), currentSchema(t.metadata), job).catch((e) => e);
    expect(again).toMatchObject({ code: "commit_conflict", details: { stale: 6 } });
    expect((await rows()).map((r) => r.id)).toEqual([0, 1, 2, 3, 4, 5]);
    expect((await checkTable(store, loc)).live).toHaveLength(1);
  });

  it("goes on while ingest commits: a job planned before an append commits over it, and the appended rows stay", async () => {
    await appendRows(store, loc, [{ id: 0 }], { create: {} });
    for (let i = 1; i < 6; i++) await appendRows(store, loc, [{ id: i }]);
    const t = await table();
    const [job] = planCompaction(loc, await liveFiles(store, loc, t), compactionSettings({}));
    await appendRows(store, loc, [{ id: 6 }]); // lands while the job runs
    await runCompactionJob(store, loc, t, currentSchema(t.metadata), job);
    expect((await rows()).map((r) => r.id)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect((await checkTable(store, loc)).live).toHaveLength(2);
  });

  it("compacts each partition on its own, under the partition's directory; leaves partitions with too few small files", async () => {
    await appendRows(store, loc, [{ id: 0, kind: "a" }], { create: { partitionBy: [{ source: "kind", transform: "identity" }] } });
    for (let i = 1; i < 8; i++) await appendRows(store, loc, [{ id: i, kind: "a" }]);
    for (let i = 8; i < 11; i++) await appendRows(store, loc, [{ id: i, kind: "b" }]);
    const t = await table();
    const jobs = planCompaction(loc, await liveFiles(store, loc, t), compactionSettings({}));
    expect(jobs.map((j) => [j.dir, j.inputs.length])).toEqual([["data/kind=a", 8]]);
    const r = await runCompactionJob(store, loc, t, currentSchema(t.metadata), jobs[0]);
    expect(r.output.filePath).toContain("/data/kind=a/");
    expect(r.output.partition).toEqual(["a"]);
    expect((await rows()).map((x) => [x.id, x.kind])).toEqual(Array.from({ length: 11 }, (_, i) => [i, i < 8 ? "a" : "b"]));
    expect((await checkTable(store, loc)).live).toHaveLength(4);
  });

  it("plans files into outputs of at most the target size, never a job of one file, and none for files already big", () => {
    const f = (i: number, bytes: number) => ({ specId: 0, dataFile: { content: 0 as const, filePath: `${loc.uri}/data/f${i}.parquet`, fileFormat: "PARQUET" as const, partition: [], recordCount: 1, fileSizeInBytes: bytes, columnSizes: new Map(), valueCounts: new Map(), nullValueCounts: new Map(), nanValueCounts: new Map(), lowerBounds: new Map(), upperBounds: new Map() } });
    const s = compactionSettings({ "write.target-file-size-bytes": "100", "floe.compaction.step-input-bytes": "50" });
    expect(s.minFileBytes).toBe(75);
    const jobs = planCompaction(loc, [f(1, 40), f(2, 40), f(3, 40), f(4, 40), f(5, 90), f(6, 40), f(7, 10)], s);
    expect(jobs.map((j) => j.inputs.map((x) => x.path.slice(-10, -8)))).toEqual([["f1", "f2"], ["f3", "f4"], ["f6", "f7"]]);
    expect(jobs[0].segments).toEqual([0, 1]);
    expect(planCompaction(loc, [f(1, 40), f(2, 40), f(3, 40), f(4, 40)], s)).toEqual([]); // under min-input-files
    expect(planCompaction(loc, [1, 2, 3, 4, 5].map((i) => f(i, 10)), s, new Set([`${loc.uri}/data/f1.parquet`]))).toEqual([]);
  });
});
