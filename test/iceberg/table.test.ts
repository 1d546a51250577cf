import { icebergRead } from "icebird";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_POLICY } from "../../src/iceberg/ingest-policy.js";
import { FloeError } from "../../src/errors.js";
import { appendRows } from "../../src/iceberg/append-rows.js";
import { appendFiles } from "../../src/iceberg/transaction/append.js";
import { currentSnapshot } from "../../src/iceberg/metadata.js";
import { loadTable, tableLocation, type TableLocation } from "../../src/iceberg/table.js";
import { MemoryStore } from "../../src/storage/memory-store.js";
import { listAll } from "../../src/storage/object-store.js";
import { avscRead, pythonAvroRead } from "../support/avro-readers.js";
import { duckdb } from "../support/duckdb.js";
import { serveStoreOverFetch } from "../support/store-fetch.js";
import { tempFile } from "../support/temp-file.js";

const BUCKET = "lake";
let store: MemoryStore;
let restore: () => void;
let loc: TableLocation;

beforeEach(() => {
  store = new MemoryStore();
  restore = serveStoreOverFetch(store, BUCKET);
  loc = tableLocation(BUCKET, "warehouse", "default", "events");
});
afterEach(() => restore());

/** Rows as icebird returns them, sorted by id, with bigints as numbers for comparison. */
async function icebirdRows(): Promise<Record<string, unknown>[]> {
  const rows = await icebergRead({ tableUrl: loc.uri });
  return rows
    .map((r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === "bigint" ? Number(v) : v])))
    .sort((a: Record<string, unknown>, b: Record<string, unknown>) => (a.id as number) - (b.id as number));
}

describe("a table written by the core, read by icebird", () => {
  it("holds exactly the rows of several commits, across a schema change", async () => {
    await appendRows(store, loc, [{ id: 1, name: "a" }, { id: 2, name: "b" }], { create: {} });
    await appendRows(store, loc, [{ id: 3, name: "c", score: 1.5 }]); // adds a column
    await appendRows(store, loc, [{ id: 4, score: 2 }, { id: 5, name: "é 🌍" }]);
    expect(await icebirdRows()).toEqual([
      { id: 1, name: "a", score: undefined },
      { id: 2, name: "b", score: undefined },
      { id: 3, name: "c", score: 1.5 },
      { id: 4, name: null, score: 2 },
      { id: 5, name: "é 🌍", score: null },
    ]);
    const t = (await loadTable(store, loc))!;
    const m = t.metadata;
    expect(t.version).toBe(4); // v1 create, then one per append
    expect(m["format-version"]).toBe(2);
    expect(m.snapshots.map((s) => s["sequence-number"])).toEqual([1, 2, 3]);
    expect(m["last-sequence-number"]).toBe(3);
    expect(m.schemas.map((s) => s["schema-id"])).toEqual([0, 1]);
    expect(m["current-schema-id"]).toBe(1);
    expect(m["last-column-id"]).toBe(3);
    expect(m["snapshot-log"]).toHaveLength(3);
    expect(m["metadata-log"].map((e) => e["metadata-file"])).toEqual([1, 2, 3].map((v) => `${loc.uri}/metadata/v${v}.metadata.json`));
    const s = currentSnapshot(m)!;
    expect(s.summary).toMatchObject({ operation: "append", "added-records": "2", "added-data-files": "1", "total-records": "5", "total-data-files": "3" });
    expect(Number(s.summary["total-files-size"])).toBeGreaterThan(0);
    expect(m.refs.main["snapshot-id"]).toBe(s["snapshot-id"]);
    expect(new TextDecoder().decode((await store.get(`${loc.key}/metadata/version-hint.text`))!)).toBe("4");
  });

  it("writes a partitioned table whose paths and partition values engines agree on", async () => {
    const rows = Array.from({ length: 40 }, (_, i) => ({ id: i, ts: `2024-03-0${1 + (i % 3)}T1${i % 10}:00:00Z`, kind: i % 2 ? "odd" : "even" }));
    await appendRows(store, loc, rows, {
      create: { schema: { type: "struct", fields: [
        { id: 0, name: "id", required: true, type: "long" },
        { id: 0, name: "ts", required: false, type: "timestamptz" },
        { id: 0, name: "kind", required: false, type: "string" },
      ] }, partitionBy: [{ source: "ts", transform: "day" }, { source: "kind", transform: "identity" }, { source: "id", transform: "bucket[4]" }] },
    });
    const got = await icebirdRows();
    expect(got.map((r) => r.id)).toEqual(rows.map((r) => r.id));
    expect(got.map((r) => r.kind)).toEqual(rows.map((r) => r.kind));
    const keys = (await listAll(store, `${loc.key}/data/`)).map((o) => o.key);
    expect(keys.length).toBeGreaterThan(6);
    expect(keys.some((k) => k.includes("/data/ts_day=2024-03-01/kind=even/id_bucket="))).toBe(true);
    const m = (await loadTable(store, loc))!.metadata;
    expect(m["partition-specs"][0].fields.map((f) => [f.name, f["field-id"], f.transform])).toEqual([["ts_day", 1000, "day"], ["kind", 1001, "identity"], ["id_bucket", 1002, "bucket[4]"]]);
    expect(m["last-partition-id"]).toBe(1002);
    // The manifest's partition tuples, decoded by python3-avro, agree with the paths.
    const list = pythonAvroRead((await store.get(currentSnapshot(m)!["manifest-list"].replace(`${loc.uri}/`, `${loc.key}/`)))!);
    const manifest = pythonAvroRead((await store.get((list.records[0].manifest_path as string).replace(`${loc.uri}/`, `${loc.key}/`)))!);
    for (const e of manifest.records as { data_file: { file_path: string; partition: { ts_day: { iso: string }; kind: string; id_bucket: number } } }[]) {
      const p = e.data_file.partition;
      expect(e.data_file.file_path).toContain(`/ts_day=${p.ts_day.iso}/kind=${encodeURIComponent(p.kind).replace(/%20/g, "+")}/id_bucket=${p.id_bucket}/`);
    }
    const summaries = (list.records[0].partitions as { lower_bound: string; upper_bound: string; contains_null: boolean }[]);
    expect(summaries).toHaveLength(3);
    expect(summaries[0].contains_null).toBe(false);
    // day ordinals of 2024-03-01 (19783) and 2024-03-03 (19785) as 4-byte little-endian ints
    expect(summaries[0].lower_bound).toBe("474d0000");
    expect(summaries[0].upper_bound).toBe("494d0000");
  });

  it("URL-encodes partition values in paths as Iceberg's Java writer does", async () => {
    await appendRows(store, loc, [{ kind: "a b/c" }, { kind: "x" }], { create: { partitionBy: [{ source: "kind", transform: "identity" }] } });
    const keys = (await listAll(store, `${loc.key}/data/`)).map((o) => o.key.slice(`${loc.key}/data/`.length).split("/")[0]);
    expect(keys.sort()).toEqual(["kind=a+b%2Fc", "kind=x"]);
  });

  it("writes manifests and manifest lists that avsc and python3-avro decode, with field ids in their schemas", async () => {
    await appendRows(store, loc, [{ id: 1, v: "x" }], { create: {} });
    await appendRows(store, loc, [{ id: 2, v: "y" }, { id: 3, v: null }]);
    const m = (await loadTable(store, loc))!.metadata;
    const s = currentSnapshot(m)!;
    const listBytes = (await store.get(s["manifest-list"].replace(`${loc.uri}/`, `${loc.key}/`)))!;
    for (const read of [avscRead, async (b: Uint8Array) => pythonAvroRead(b)]) {
      const list = await read(listBytes);
      expect(list.records).toHaveLength(2); // the new manifest and the previous one
      expect(list.meta["format-version"]).toBe("2");
      expect(list.meta["snapshot-id"]).toBe(String(s["snapshot-id"]));
      expect(list.meta["parent-snapshot-id"]).toBe(String(s["parent-snapshot-id"]));
      expect(JSON.stringify(JSON.parse(list.meta["avro.schema"]))).toContain('"field-id":500');
      let rows = 0;
      for (const entry of list.records) {
        const manifest = await read((await store.get((entry.manifest_path as string).replace(`${loc.uri}/`, `${loc.key}/`)))!);
        expect(manifest.meta["format-version"]).toBe("2");
        expect(manifest.meta.content).toBe("data");
        expect(JSON.parse(manifest.meta.schema).fields.map((f: { name: string }) => f.name)).toEqual(["id", "v"]);
        const schema = JSON.stringify(JSON.parse(manifest.meta["avro.schema"]));
        for (const id of [0, 1, 2, 100, 102, 103, 125, 128]) expect(schema).toContain(`"field-id":${id}`);
        for (const e of manifest.records as { status: number; data_file: { record_count: number; file_path: string } }[]) {
          expect(e.status).toBe(1);
          rows += e.data_file.record_count;
        }
      }
      expect(rows).toBe(3);
    }
  });

  it("writes data files DuckDB reads to exactly the rows put in", async () => {
    const rows = Array.from({ length: 25_000 }, (_, i) => ({ id: i, s: `v${i}`, d: i / 4, ok: i % 3 === 0 }));
    // The long policy: ids stay BIGINT (the default, double, is tested beside the refusal below).
    const r = await appendRows(store, loc, rows, { create: {}, chunkRows: 10_000, infer: { ...DEFAULT_POLICY, numbers: "long" } });
    expect(r.rowCount).toBe(25_000);
    const paths = await Promise.all(r.dataFiles.map(async (f) => tempFile("d.parquet", (await store.get(f.filePath.replace(`${loc.uri}/`, `${loc.key}/`)))!)));
    const list = paths.map((p) => `'${p}'`).join(",");
    const [agg] = await duckdb(`SELECT count(*)::BIGINT AS n, count(DISTINCT id)::BIGINT AS ids, sum(id)::BIGINT AS sum_id, sum(d)::DOUBLE AS sum_d, count(*) FILTER (WHERE ok)::BIGINT AS oks FROM read_parquet([${list}])`);
    expect(agg).toEqual({ n: "25000", ids: "25000", sum_id: String((24999 * 25000) / 2), sum_d: (24999 * 25000) / 8, oks: "8334" });
    const sample = await duckdb(`SELECT id, s FROM read_parquet([${list}]) WHERE id IN (0, 12345, 24999) ORDER BY id`);
    expect(sample).toEqual([{ id: "0", s: "v0" }, { id: "12345", s: "v12345" }, { id: "24999", s: "v24999" }]);
  });
});

describe("bad input to the core", () => {
  it("refuses the whole append with one error naming row and field; nothing becomes visible", async () => {
    await appendRows(store, loc, [{ id: 1, n: 1 }], { create: {} });
    const before = await listAll(store, "");
    const rows = Array.from({ length: 12_010 }, (_, i) => ({ id: 100 + i, n: i === 12_005 ? "not a number" : i }));
    const e = await appendRows(store, loc, rows, { chunkRows: 5_000 }).catch((x) => x);
    expect(e).toBeInstanceOf(FloeError);
    expect(e.message).toBe('row 12005, field "n": expected double, got "not a number"');
    expect(e.details).toMatchObject({ row: 12005, field: "n" });
    // Files written for the first chunks were removed; the table is as it was.
    expect(await listAll(store, "")).toEqual(before);
    expect((await loadTable(store, loc))!.version).toBe(2);
    expect(await icebirdRows()).toEqual([{ id: 1, n: 1 }]);
  });

  it("refuses a non-object row and unknown fields in strict mode", async () => {
    await appendRows(store, loc, [{ id: 1 }], { create: {} });
    await expect(appendRows(store, loc, [{ id: 2 }, 5])).rejects.toThrow("row 1: expected a JSON object, got number 5");
    await expect(appendRows(store, loc, [{ id: 2, extra: true }], { mode: "strict" })).rejects.toThrow('row 0, field "extra": field is not in the table schema');
    expect((await loadTable(store, loc))!.version).toBe(2);
  });

  it("refuses to write to a missing table unless asked to create it", async () => {
    await expect(appendRows(store, loc, [{ id: 1 }])).rejects.toMatchObject({ code: "not_found" });
    expect(await listAll(store, "")).toEqual([]);
  });
});

describe("concurrent commits", () => {
  it("lose no data: a writer that loses the race re-plans on the new snapshot", async () => {
    await appendRows(store, loc, [{ id: 0 }], { create: {} });
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => appendRows(store, loc, [{ id: i + 1 }], { maxAttempts: 10 })));
    const seqs = results.map((r) => r.sequenceNumber).sort((a, b) => a - b);
    expect(seqs).toEqual([2, 3, 4, 5, 6, 7]);
    expect((await icebirdRows()).map((r) => r.id)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it("a stale writer gets a retryable conflict once its attempts are spent", async () => {
    await appendRows(store, loc, [{ id: 0 }], { create: {} });
    const a = appendFiles(store, loc, [], { maxAttempts: 1 });
    const b = appendFiles(store, loc, [], { maxAttempts: 1 });
    const settled = await Promise.allSettled([a, b]);
    const failed = settled.filter((s) => s.status === "rejected") as PromiseRejectedResult[];
    expect(failed).toHaveLength(1);
    expect(failed[0].reason).toMatchObject({ code: "commit_conflict", retryable: true });
  });
});
