import { describe, expect, it } from "vitest";
import type { ManifestEntry, ManifestFile } from "../../src/iceberg/data-file.js";
import { writeManifest, writeManifestList } from "../../src/iceberg/manifest.js";
import { readManifest, readManifestList } from "../../src/iceberg/manifest-read.js";
import { pythonAvroWrite } from "../support/avro-writers.js";

// Manifest lists and manifests written by python3-avro in the spec's Avro schemas (field names
// and ids from the table spec, "Manifests" and "Manifest Lists", shaped as Java writes them), so
// the readers are checked against files no Floe code produced.

const writePython = (schema: object, records: unknown[], metadata: Record<string, string> = {}) =>
  pythonAvroWrite(schema, records, { codec: "deflate", metadata });

const req = (name: string, id: number, type: unknown) => ({ name, type, "field-id": id });
const opt = (name: string, id: number, type: unknown) => ({ name, type: ["null", type], default: null, "field-id": id });
const intMap = (k: number, v: number, value: string) =>
  ({ type: "array", logicalType: "map", items: { type: "record", name: `k${k}_v${v}`, fields: [req("key", k, "int"), req("value", v, value)] } });
const list = (id: number, items: string) => ({ type: "array", items, "element-id": id });
const bytes = (...b: number[]) => new Uint8Array(b);
const utf8 = (s: string) => new TextEncoder().encode(s);
const le32 = (x: number) => bytes(x & 255, (x >> 8) & 255, (x >> 16) & 255, (x >>> 24) & 255);

const fieldSummary = { type: "record", name: "r508", fields: [
  req("contains_null", 509, "boolean"), opt("contains_nan", 518, "boolean"), opt("lower_bound", 510, "bytes"), opt("upper_bound", 511, "bytes")] };
const manifestListV2 = { type: "record", name: "manifest_file", fields: [
  req("manifest_path", 500, "string"), req("manifest_length", 501, "long"), req("partition_spec_id", 502, "int"),
  req("content", 517, "int"), req("sequence_number", 515, "long"), req("min_sequence_number", 516, "long"),
  req("added_snapshot_id", 503, "long"), req("added_files_count", 504, "int"), req("existing_files_count", 505, "int"),
  req("deleted_files_count", 506, "int"), req("added_rows_count", 512, "long"), req("existing_rows_count", 513, "long"),
  req("deleted_rows_count", 514, "long"), opt("partitions", 507, { type: "array", items: fieldSummary, "element-id": 508 }),
  opt("key_metadata", 519, "bytes")] };

const SNAP = 7289643256329183265n; // a Java-style random snapshot id, far above 2^53
const PATH = "s3://bucket/warehouse/ns/t/metadata";

describe("readManifestList", () => {
  it("reads a v2 manifest list: 64-bit ids exact, counts as numbers, partition summaries", () => {
    const records = [
      { manifest_path: `${PATH}/a-m0.avro`, manifest_length: 7311n, partition_spec_id: 0, content: 0, sequence_number: 12n, min_sequence_number: 3n,
        added_snapshot_id: SNAP, added_files_count: 2, existing_files_count: 5, deleted_files_count: 1, added_rows_count: 3000n,
        existing_rows_count: 2n ** 40n, deleted_rows_count: 7n, key_metadata: null,
        partitions: [{ contains_null: false, contains_nan: null, lower_bound: le32(-4), upper_bound: le32(17) },
          { contains_null: true, contains_nan: false, lower_bound: utf8("eu"), upper_bound: utf8("us") }] },
      { manifest_path: `${PATH}/b-m1.avro`, manifest_length: 99n, partition_spec_id: 3, content: 1, sequence_number: 2n ** 62n, min_sequence_number: 0n,
        added_snapshot_id: -(2n ** 63n), added_files_count: 0, existing_files_count: 0, deleted_files_count: 0, added_rows_count: 0n,
        existing_rows_count: 0n, deleted_rows_count: 0n, partitions: null, key_metadata: bytes(1, 2, 3) },
    ];
    const got = readManifestList(writePython(manifestListV2, records, { "snapshot-id": String(SNAP), "format-version": "2" }));
    expect(got).toEqual([
      { manifestPath: `${PATH}/a-m0.avro`, manifestLength: 7311, partitionSpecId: 0, content: 0, sequenceNumber: 12n, minSequenceNumber: 3n,
        addedSnapshotId: SNAP, addedFilesCount: 2, existingFilesCount: 5, deletedFilesCount: 1, addedRowsCount: 3000,
        existingRowsCount: 2 ** 40, deletedRowsCount: 7,
        partitions: [{ containsNull: false, containsNan: null, lowerBound: le32(-4), upperBound: le32(17) },
          { containsNull: true, containsNan: false, lowerBound: utf8("eu"), upperBound: utf8("us") }] },
      { manifestPath: `${PATH}/b-m1.avro`, manifestLength: 99, partitionSpecId: 3, content: 1, sequenceNumber: 2n ** 62n, minSequenceNumber: 0n,
        addedSnapshotId: -(2n ** 63n), addedFilesCount: 0, existingFilesCount: 0, deletedFilesCount: 0, addedRowsCount: 0,
        existingRowsCount: 0, deletedRowsCount: 0, partitions: [], keyMetadata: bytes(1, 2, 3) },
    ] satisfies ManifestFile[]);
    expect(got[0].addedSnapshotId).toBe(SNAP);
    expect("keyMetadata" in got[0]).toBe(false);
  });

  // Java's v1 list: counts named added_data_files_count…, no content or sequence numbers.
  const manifestListV1 = { type: "record", name: "manifest_file", fields: [
    req("manifest_path", 500, "string"), req("manifest_length", 501, "long"), req("partition_spec_id", 502, "int"),
    req("added_snapshot_id", 503, "long"), opt("added_data_files_count", 504, "int"), opt("existing_data_files_count", 505, "int"),
    opt("deleted_data_files_count", 506, "int"), opt("partitions", 507, { type: "array", items: fieldSummary, "element-id": 508 }),
    opt("added_rows_count", 512, "long"), opt("existing_rows_count", 513, "long"), opt("deleted_rows_count", 514, "long")] };
  const v1 = { manifest_path: `${PATH}/v1-m0.avro`, manifest_length: 4000n, partition_spec_id: 0, added_snapshot_id: 42n,
    added_data_files_count: 3, existing_data_files_count: 0, deleted_data_files_count: 0, partitions: [],
    added_rows_count: 10n, existing_rows_count: 0n, deleted_rows_count: 0n };

  it("reads a v1 manifest list: old count names, content 0 and sequence numbers 0 (spec Appendix E)", () => {
    const [m] = readManifestList(writePython(manifestListV1, [v1]));
    expect(m).toEqual({ manifestPath: `${PATH}/v1-m0.avro`, manifestLength: 4000, partitionSpecId: 0, content: 0, sequenceNumber: 0n,
      minSequenceNumber: 0n, addedSnapshotId: 42n, addedFilesCount: 3, existingFilesCount: 0, deletedFilesCount: 0,
      addedRowsCount: 10, existingRowsCount: 0, deletedRowsCount: 0, partitions: [] } satisfies ManifestFile);
  });

  it("refuses a null file count instead of writing 0 (null means 'non-zero' in the spec)", () => {
    const bytes = writePython(manifestListV1, [{ ...v1, added_data_files_count: null }]);
    expect(() => readManifestList(bytes)).toThrow(/^manifest: manifest list entry 0 \(.*v1-m0\.avro\): added_files_count is missing/);
  });

  it("an empty manifest list has no entries; corrupt bytes fail with an avro: error", () => {
    expect(readManifestList(writePython(manifestListV2, []))).toEqual([]);
    expect(() => readManifestList(utf8("Obj\u0001"))).toThrow(/^avro: /);
  });
});

/** The spec's manifest_entry for a partition spec (bucket: int 1000, region: string 1001). */
function manifestSchema(v: 1 | 2) {
  const partition = { type: "record", name: "r102", fields: [opt("bucket", 1000, "int"), opt("region", 1001, "string")] };
  const dataFile = { type: "record", name: "r2", fields: [
    ...(v === 2 ? [req("content", 134, "int")] : []),
    req("file_path", 100, "string"), req("file_format", 101, "string"), req("partition", 102, partition),
    req("record_count", 103, "long"), req("file_size_in_bytes", 104, "long"),
    ...(v === 1 ? [req("block_size_in_bytes", 105, "long")] : []),
    opt("column_sizes", 108, intMap(117, 118, "long")), opt("value_counts", 109, intMap(119, 120, "long")),
    opt("null_value_counts", 110, intMap(121, 122, "long")), opt("nan_value_counts", 137, intMap(138, 139, "long")),
    opt("lower_bounds", 125, intMap(126, 127, "bytes")), opt("upper_bounds", 128, intMap(129, 130, "bytes")),
    opt("key_metadata", 131, "bytes"), opt("split_offsets", 132, list(133, "long")),
    opt("equality_ids", 135, list(136, "int")), opt("sort_order_id", 140, "int")] };
  return { type: "record", name: "manifest_entry", fields: v === 2
    ? [req("status", 0, "int"), opt("snapshot_id", 1, "long"), opt("sequence_number", 3, "long"), opt("file_sequence_number", 4, "long"), req("data_file", 2, dataFile)]
    : [req("status", 0, "int"), req("snapshot_id", 1, "long"), req("data_file", 2, dataFile)] };
}
const NO_METRICS = { column_sizes: null, value_counts: null, null_value_counts: null, nan_value_counts: null, lower_bounds: null,
  upper_bounds: null, key_metadata: null, split_offsets: null, equality_ids: null, sort_order_id: null };
const EMPTY = { columnSizes: new Map(), valueCounts: new Map(), nullValueCounts: new Map(), nanValueCounts: new Map(), lowerBounds: new Map(), upperBounds: new Map() };

describe("readManifest", () => {
  const metadata = { schema: '{"type":"struct","schema-id":0,"fields":[]}', "schema-id": "0", "partition-spec": "[]",
    "partition-spec-id": "0", "format-version": "2", content: "data" };

  it("reads v2 entries: inheritance nulls kept, partition tuple in field order, metric maps by field id", () => {
    const added = { status: 1, snapshot_id: null, sequence_number: null, file_sequence_number: null, data_file: {
      ...NO_METRICS, content: 0, file_path: "s3://b/t/data/bucket=3/region=eu/a.parquet", file_format: "PARQUET",
      partition: { bucket: 3, region: "eu" }, record_count: 1000n, file_size_in_bytes: 123456n,
      column_sizes: [{ key: 1, value: 500n }, { key: 2, value: 700n }], value_counts: [{ key: 1, value: 1000n }],
      null_value_counts: [{ key: 1, value: 0n }], nan_value_counts: [], lower_bounds: [{ key: 1, value: le32(-7) }, { key: 2, value: utf8("a") }],
      upper_bounds: [{ key: 1, value: le32(99) }], split_offsets: [4n, 70000n], sort_order_id: 0 } };
    const existing = { status: 0, snapshot_id: SNAP, sequence_number: 5n, file_sequence_number: 6n, data_file: {
      ...NO_METRICS, content: 0, file_path: "s3://b/t/data/x.parquet", file_format: "parquet", partition: { bucket: null, region: null },
      record_count: 1n, file_size_in_bytes: 10n } };
    const deleted = { ...existing, status: 2, snapshot_id: 2n ** 63n - 1n };
    const got = readManifest(writePython(manifestSchema(2), [added, existing, deleted], metadata));

    expect(got.metadata).toMatchObject(metadata);
    const existingEntry: ManifestEntry = { status: 0, snapshotId: SNAP, sequenceNumber: 5n, fileSequenceNumber: 6n, dataFile: {
      ...EMPTY, content: 0, filePath: "s3://b/t/data/x.parquet", fileFormat: "PARQUET", partition: [null, null], recordCount: 1, fileSizeInBytes: 10 } };
    expect(got.entries).toEqual([
      { status: 1, snapshotId: null, sequenceNumber: null, fileSequenceNumber: null, dataFile: {
        content: 0, filePath: "s3://b/t/data/bucket=3/region=eu/a.parquet", fileFormat: "PARQUET", partition: [3, "eu"],
        recordCount: 1000, fileSizeInBytes: 123456, columnSizes: new Map([[1, 500], [2, 700]]), valueCounts: new Map([[1, 1000]]),
        nullValueCounts: new Map([[1, 0]]), nanValueCounts: new Map(), lowerBounds: new Map([[1, le32(-7)], [2, utf8("a")]]),
        upperBounds: new Map([[1, le32(99)]]), splitOffsets: [4, 70000], sortOrderId: 0 } },
      existingEntry,
      { ...existingEntry, status: 2, snapshotId: 2n ** 63n - 1n },
    ] satisfies ManifestEntry[]);
    expect(got.entries[1].snapshotId).toBe(SNAP);
    expect("splitOffsets" in got.entries[1].dataFile).toBe(false);
  });

  it("reads a v1 manifest: sequence numbers default to 0, content to data", () => {
    const entry = { status: 1, snapshot_id: 9n, data_file: { ...NO_METRICS, file_path: "s3://b/v1.parquet", file_format: "PARQUET",
      partition: { bucket: 0, region: "x" }, record_count: 2n, file_size_in_bytes: 3n, block_size_in_bytes: 67108864n } };
    const { entries } = readManifest(writePython(manifestSchema(1), [entry], { ...metadata, "format-version": "1" }));
    expect(entries).toEqual([{ status: 1, snapshotId: 9n, sequenceNumber: 0n, fileSequenceNumber: 0n, dataFile: {
      ...EMPTY, content: 0, filePath: "s3://b/v1.parquet", fileFormat: "PARQUET", partition: [0, "x"], recordCount: 2, fileSizeInBytes: 3 } }]);
  });

  it("refuses an entry status outside 0..2", () => {
    const bad = { status: 3, snapshot_id: null, sequence_number: null, file_sequence_number: null, data_file: { ...NO_METRICS, content: 0,
      file_path: "p", file_format: "PARQUET", partition: { bucket: 1, region: null }, record_count: 0n, file_size_in_bytes: 0n } };
    expect(() => readManifest(writePython(manifestSchema(2), [bad]))).toThrow(/^manifest: manifest entry 0: status 3/);
  });
});

describe("round trip through Floe's own writers (what an append reads back)", () => {
  it("writeManifestList → readManifestList and writeManifest → readManifest are exact", () => {
    const list: ManifestFile[] = [{ manifestPath: `${PATH}/m.avro`, manifestLength: 100, partitionSpecId: 0, content: 0, sequenceNumber: 3n,
      minSequenceNumber: 1n, addedSnapshotId: SNAP, addedFilesCount: 1, existingFilesCount: 2, deletedFilesCount: 0, addedRowsCount: 10,
      existingRowsCount: 20, deletedRowsCount: 0, partitions: [{ containsNull: false, containsNan: null, lowerBound: le32(1), upperBound: le32(9) }] }];
    expect(readManifestList(writeManifestList({ snapshotId: 1n, parentSnapshotId: null, sequenceNumber: 3n, manifests: list, codec: "deflate" }))).toStrictEqual(list);

    const entry: ManifestEntry = { status: 1, snapshotId: null, sequenceNumber: null, fileSequenceNumber: null, dataFile: {
      ...EMPTY, content: 0, filePath: "s3://b/d.parquet", fileFormat: "PARQUET", partition: [5, "eu"], recordCount: 3, fileSizeInBytes: 99,
      columnSizes: new Map([[1, 10]]), lowerBounds: new Map([[1, le32(-1)]]), upperBounds: new Map([[1, le32(2)]]), splitOffsets: [4] } };
    const schema = { type: "struct" as const, "schema-id": 0, fields: [
      { id: 1, name: "a", required: false, type: "int" as const }, { id: 2, name: "r", required: false, type: "string" as const }] };
    const spec = { "spec-id": 0, fields: [{ "source-id": 1, "field-id": 1000, name: "a", transform: "identity" }, { "source-id": 2, "field-id": 1001, name: "r", transform: "identity" }] };
    const partitionType = { fields: [{ id: 1000, name: "a", type: "int" as const }, { id: 1001, name: "r", type: "string" as const }] };
    const got = readManifest(writeManifest({ schema, spec, partitionType, entries: [entry], codec: "null" }));
    expect(got.entries).toStrictEqual([entry]);
    expect(got.metadata).toMatchObject({ "format-version": "2", "partition-spec-id": "0", content: "data" });
  });
});
