import { describe, expect, it } from "vitest";
import type { DataFile, ManifestEntry, ManifestFile } from "../../src/iceberg/data-file.js";
import {
  decimalRequiredBytes,
  decimalToFixed,
  manifestAvroSchema,
  sanitizeAvroName,
  writeManifest,
  writeManifestList,
  type PartitionType,
} from "../../src/iceberg/manifest.js";
import type { PartitionSpec, Schema } from "../../src/iceberg/types.js";
import { avscRead, pythonAvroRead } from "../support/avro-readers.js";

// Every file is decoded by two readers we did not write (STYLE.md 8): avsc, with a BigInt long type
// so ids above 2^53 stay exact, and Debian's python3-avro, which also applies the logical types
// (date, timestamp-micros, time-micros, decimal) and so checks that our annotations are right.

/** Every value of `key` anywhere in a JSON tree (field-id, element-id, name…). */
const collect = (node: unknown, key: string, out: unknown[] = []): unknown[] => {
  if (Array.isArray(node)) node.forEach((n) => collect(n, key, out));
  else if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) (k === key ? out.push(v) : collect(v, key, out));
  }
  return out;
};

const BIG = 9007199254740993n + 1000n; // > 2^53: not representable as a double
const BIG_STR = "9007199254741993";
const uuid = Uint8Array.from([0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3, 0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0x00]);

const tableSchema: Schema = {
  type: "struct",
  "schema-id": 3,
  fields: [
    { id: 1, name: "id", required: true, type: "long" },
    { id: 2, name: "ts", required: true, type: "timestamptz" },
    { id: 3, name: "category", required: false, type: "string" },
    { id: 4, name: "amount", required: false, type: "decimal(9, 2)" },
    { id: 5, name: "uid", required: false, type: "uuid" },
    { id: 6, name: "n", required: false, type: "int" },
    { id: 7, name: "local", required: false, type: "timestamp" },
    { id: 8, name: "at", required: false, type: "time" },
  ],
};
const spec: PartitionSpec = {
  "spec-id": 2,
  fields: [
    { "source-id": 6, "field-id": 1000, name: "n", transform: "identity" },
    { "source-id": 2, "field-id": 1001, name: "ts_day", transform: "day" },
    { "source-id": 3, "field-id": 1002, name: "category", transform: "identity" },
    { "source-id": 1, "field-id": 1003, name: "id", transform: "identity" },
    { "source-id": 2, "field-id": 1004, name: "ts", transform: "identity" },
    { "source-id": 4, "field-id": 1005, name: "amount", transform: "identity" },
    { "source-id": 5, "field-id": 1006, name: "uid", transform: "identity" },
    { "source-id": 1, "field-id": 1007, name: "id-bucket", transform: "bucket[16]" },
    { "source-id": 7, "field-id": 1008, name: "local", transform: "identity" },
    { "source-id": 4, "field-id": 1009, name: "amount_trunc", transform: "truncate[10]" },
    { "source-id": 8, "field-id": 1010, name: "at", transform: "identity" },
  ],
};
const partitionType: PartitionType = {
  fields: [
    { id: 1000, name: "n", type: "int" },
    { id: 1001, name: "ts_day", type: "date" },
    { id: 1002, name: "category", type: "string" },
    { id: 1003, name: "id", type: "long" },
    { id: 1004, name: "ts", type: "timestamptz" },
    { id: 1005, name: "amount", type: "decimal(9, 2)" },
    { id: 1006, name: "uid", type: "uuid" },
    { id: 1007, name: "id-bucket", type: "int" },
    { id: 1008, name: "local", type: "timestamp" },
    { id: 1009, name: "amount_trunc", type: "decimal(9, 2)" },
    { id: 1010, name: "at", type: "time" },
  ],
};
const TS = 1_700_000_000_123_456n; // 2023-11-14T22:13:20.123456Z

const dataFile = (path: string, partition: DataFile["partition"]): DataFile => ({
  content: 0,
  filePath: path,
  fileFormat: "PARQUET",
  partition,
  recordCount: 42,
  fileSizeInBytes: 123_456,
  columnSizes: new Map([[1, 100], [3, 250]]),
  valueCounts: new Map([[1, 42], [3, 42]]),
  nullValueCounts: new Map([[1, 0], [3, 5]]),
  nanValueCounts: new Map(),
  lowerBounds: new Map([[1, new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0])], [3, new TextEncoder().encode("bé")]]),
  upperBounds: new Map([[1, new Uint8Array([9, 0, 0, 0, 0, 0, 0, 0])]]),
  splitOffsets: [4, 65_536],
  sortOrderId: 0,
});
const entries: ManifestEntry[] = [
  { status: 1, snapshotId: null, sequenceNumber: null, fileSequenceNumber: null,
    dataFile: dataFile("s3://b/w/ns/t/data/a.parquet", [7, 19_000, "électronique 📦", BIG, TS, -12_345n, uuid, 3, TS, 12_300n, 3_723_000_001n]) },
  { status: 0, snapshotId: BIG, sequenceNumber: 5n, fileSequenceNumber: 4n,
    dataFile: { ...dataFile("s3://b/w/ns/t/data/b.parquet", Array(11).fill(null)), splitOffsets: undefined, sortOrderId: undefined } },
];

describe("writeManifest", () => {
  for (const codec of ["null", "deflate"] as const) {
    it(`codec ${codec}: python3-avro and avsc decode entries, partition tuples and metrics`, async () => {
      const bytes = writeManifest({ schema: tableSchema, spec, partitionType, entries, codec });

      const py = pythonAvroRead(bytes);
      expect(py.records).toHaveLength(2);
      const [added, existing] = py.records;
      expect([added.status, added.snapshot_id, added.sequence_number, added.file_sequence_number]).toEqual([1, null, null, null]);
      expect([existing.status, existing.snapshot_id, existing.sequence_number, existing.file_sequence_number]).toEqual([0, BIG_STR, 5, 4]);
      expect(added.data_file.partition).toEqual({
        n: 7,
        ts_day: { iso: "2022-01-08" },
        category: "électronique 📦",
        id: BIG_STR,
        ts: { iso: "2023-11-14T22:13:20.123456+00:00" },
        amount: { decimal: "-123.45" },
        uid: Buffer.from(uuid).toString("hex"),
        id_x2Dbucket: 3,
        local: { iso: "2023-11-14T22:13:20.123456+00:00" },
        amount_trunc: { decimal: "123.00" },
        at: { iso: "01:02:03.000001" },
      });
      expect(Object.values(existing.data_file.partition)).toEqual(Array(11).fill(null));
      expect(added.data_file).toMatchObject({
        content: 0, file_path: "s3://b/w/ns/t/data/a.parquet", file_format: "PARQUET", record_count: 42, file_size_in_bytes: 123_456,
        column_sizes: [{ key: 1, value: 100 }, { key: 3, value: 250 }],
        value_counts: [{ key: 1, value: 42 }, { key: 3, value: 42 }],
        null_value_counts: [{ key: 1, value: 0 }, { key: 3, value: 5 }],
        nan_value_counts: [],
        lower_bounds: [{ key: 1, value: "0100000000000000" }, { key: 3, value: "62c3a9" }],
        upper_bounds: [{ key: 1, value: "0900000000000000" }],
        key_metadata: null, split_offsets: [4, 65_536], equality_ids: null, sort_order_id: 0, referenced_data_file: null,
      });
      expect([existing.data_file.split_offsets, existing.data_file.sort_order_id]).toEqual([null, null]);

      // Header keys as Java writes them.
      expect(JSON.parse(py.meta.schema)).toEqual(tableSchema);
      expect(JSON.parse(py.meta["partition-spec"])).toEqual(spec.fields);
      expect([py.meta["schema-id"], py.meta["partition-spec-id"], py.meta["format-version"], py.meta.content])
        .toEqual(["3", "2", "2", "data"]);
      expect(py.meta["avro.codec"]).toBe(codec);

      const av = await avscRead(bytes, { bigLongs: true });
      expect(av.records[1].snapshot_id).toBe(BIG);
      // avsc's long registry covers plain "long" only; annotated longs (timestamps, time) come back as
      // numbers, exact here since they are below 2^53. Decimals and uuids stay raw fixed bytes.
      expect(av.records[0].data_file.partition).toEqual({
        n: 7, ts_day: 19_000, category: "électronique 📦", id: BIG, ts: Number(TS), amount: "ffffcfc7", uid: Buffer.from(uuid).toString("hex"),
        id_x2Dbucket: 3, local: Number(TS), amount_trunc: "0000300c", at: 3_723_000_001,
      });
      expect(av.records[0].data_file.split_offsets).toEqual([4n, 65_536n]);
      expect(av.meta["partition-spec-id"]).toBe("2");
    });
  }

  it("embeds the spec's field ids, element ids and Java's record names in avro.schema", () => {
    const py = pythonAvroRead(writeManifest({ schema: tableSchema, spec, partitionType, entries: [], codec: "deflate" }));
    expect(py.records).toEqual([]);
    const avroSchema = JSON.parse(py.meta["avro.schema"]);
    expect(avroSchema).toEqual(manifestAvroSchema(partitionType));
    const ids = collect(avroSchema, "field-id");
    const spec2 = [0, 1, 3, 4, 2, 134, 100, 101, 102, 103, 104, 108, 117, 118, 109, 119, 120, 110, 121, 122, 137, 138, 139,
      125, 126, 127, 128, 129, 130, 131, 132, 135, 140, 143];
    expect(ids).toEqual(expect.arrayContaining([...spec2, ...partitionType.fields.map((f) => f.id)]));
    expect(ids).not.toContain(105); // block_size_in_bytes: v1 only ("Do not write in v2")
    expect(collect(avroSchema, "element-id")).toEqual([133, 136]);
    const names = collect(avroSchema, "name");
    expect(names).toEqual(expect.arrayContaining(["manifest_entry", "r2", "r102", "k117_v118", "k119_v120", "k121_v122",
      "k138_v139", "k126_v127", "k129_v130", "decimal_9_2", "uuid_fixed"]));
    // Avro forbids redefining a name: the second decimal(9, 2) field refers to the first by name.
    const r2 = avroSchema.fields.find((f: any) => f.name === "data_file").type;
    const r102 = r2.fields.find((f: any) => f.name === "partition").type;
    expect(r102.fields.find((f: any) => f.name === "amount_trunc").type).toEqual(["null", "decimal_9_2"]);
    expect(r102.fields.find((f: any) => f.name === "id_x2Dbucket")["iceberg-field-name"]).toBe("id-bucket");
    expect(r102.fields.find((f: any) => f.name === "ts").type[1]["adjust-to-utc"]).toBe(true);
    expect(r102.fields.find((f: any) => f.name === "local").type[1]["adjust-to-utc"]).toBe(false);
    expect(collect(avroSchema, "logicalType")).toEqual(expect.arrayContaining(["map", "date", "timestamp-micros", "time-micros", "decimal", "uuid"]));
  });

  it("refuses a partition tuple that does not match the partition type", () => {
    const bad = (partition: DataFile["partition"]) => () =>
      writeManifest({ schema: tableSchema, spec, partitionType, entries: [{ ...entries[0], dataFile: dataFile("x", partition) }], codec: "null" });
    expect(bad([1, 2])).toThrow(/2 values, spec has 11/);
    const tuple = [...entries[0].dataFile.partition];
    tuple[5] = 1.5;
    expect(bad(tuple)).toThrow(/amount expects a bigint/);
    tuple[5] = 10n ** 10n; // does not fit decimal(9, 2)'s 4 bytes
    expect(bad(tuple)).toThrow(/does not fit in 4 bytes/);
  });

  it("refuses an existing entry without explicit sequence numbers (only added entries inherit)", () => {
    const existing = { ...entries[1], sequenceNumber: null };
    expect(() => writeManifest({ schema: tableSchema, spec, partitionType, entries: [existing], codec: "null" })).toThrow(/explicit sequence numbers/);
  });
});

const manifests: ManifestFile[] = [
  { manifestPath: "s3://b/w/ns/t/metadata/x-m0.avro", manifestLength: 7_001, partitionSpecId: 2, content: 0,
    sequenceNumber: 7n, minSequenceNumber: 3n, addedSnapshotId: BIG, addedFilesCount: 2, existingFilesCount: 1,
    deletedFilesCount: 0, addedRowsCount: 84, existingRowsCount: 42, deletedRowsCount: 0,
    partitions: [
      { containsNull: false, containsNan: null, lowerBound: new Uint8Array([7, 0, 0, 0]), upperBound: new Uint8Array([9, 0, 0, 0]) },
      { containsNull: true, containsNan: false, lowerBound: null, upperBound: null },
    ] },
  { manifestPath: "s3://b/w/ns/t/metadata/y-m1.avro", manifestLength: 512, partitionSpecId: 0, content: 0,
    sequenceNumber: 1n, minSequenceNumber: 1n, addedSnapshotId: 1n, addedFilesCount: 0, existingFilesCount: 3,
    deletedFilesCount: 1, addedRowsCount: 0, existingRowsCount: 9, deletedRowsCount: 2, partitions: [],
    keyMetadata: new Uint8Array([0xde, 0xad]) },
];

describe("writeManifestList", () => {
  for (const codec of ["null", "deflate"] as const) {
    it(`codec ${codec}: both readers decode every manifest_file, snapshot ids exact`, async () => {
      const bytes = writeManifestList({ snapshotId: BIG, parentSnapshotId: BIG - 1n, sequenceNumber: 7n, manifests, codec });
      const py = pythonAvroRead(bytes);
      expect(py.records[0]).toEqual({
        manifest_path: "s3://b/w/ns/t/metadata/x-m0.avro", manifest_length: 7_001, partition_spec_id: 2, content: 0,
        sequence_number: 7, min_sequence_number: 3, added_snapshot_id: BIG_STR, added_files_count: 2, existing_files_count: 1,
        deleted_files_count: 0, added_rows_count: 84, existing_rows_count: 42, deleted_rows_count: 0,
        partitions: [
          { contains_null: false, contains_nan: null, lower_bound: "07000000", upper_bound: "09000000" },
          { contains_null: true, contains_nan: false, lower_bound: null, upper_bound: null },
        ],
        key_metadata: null,
      });
      expect(py.records[1]).toMatchObject({ added_snapshot_id: 1, deleted_rows_count: 2, partitions: [], key_metadata: "dead" });
      expect(py.meta).toMatchObject({ "snapshot-id": BIG_STR, "parent-snapshot-id": "9007199254741992", "sequence-number": "7", "format-version": "2" });

      const av = await avscRead(bytes, { bigLongs: true });
      expect(av.records.map((r) => r.added_snapshot_id)).toEqual([BIG, 1n]);
      expect(av.records[0].partitions[0].lower_bound).toBe("07000000");
      expect(av.meta["snapshot-id"]).toBe(BIG_STR);
    });
  }

  it("writes parent-snapshot-id \"null\" for a first snapshot and carries the spec's ids", () => {
    const py = pythonAvroRead(writeManifestList({ snapshotId: 1n, parentSnapshotId: null, sequenceNumber: 1n, manifests: [], codec: "deflate" }));
    expect(py.records).toEqual([]);
    expect(py.meta["parent-snapshot-id"]).toBe("null");
    const avroSchema = JSON.parse(py.meta["avro.schema"]);
    expect(collect(avroSchema, "field-id").sort()).toEqual(
      [500, 501, 502, 503, 504, 505, 506, 507, 509, 510, 511, 512, 513, 514, 515, 516, 517, 518, 519].sort());
    expect(collect(avroSchema, "element-id")).toEqual([508]);
    expect(collect(avroSchema, "name")).toEqual(expect.arrayContaining(["manifest_file", "r508", "added_files_count"]));
  });
});

describe("helpers", () => {
  it("sizes decimals as Java's TypeUtil.decimalRequiredBytes", () => {
    expect([1, 2, 3, 4, 5, 9, 10, 18, 19, 38].map(decimalRequiredBytes)).toEqual([1, 1, 2, 2, 3, 4, 5, 8, 9, 16]);
  });
  it("writes unscaled decimals as big-endian two's complement", () => {
    const hex = (n: bigint, size: number) => Buffer.from(decimalToFixed(n, size)).toString("hex");
    expect([hex(-1n, 2), hex(256n, 2), hex(-32_768n, 2), hex(32_767n, 2), hex(-12_345n, 4)]).toEqual(["ffff", "0100", "8000", "7fff", "ffffcfc7"]);
    expect(() => decimalToFixed(32_768n, 2)).toThrow(RangeError);
  });
  it("sanitizes names as Java's AvroSchemaUtil, but to ASCII Avro names (Java keeps non-ASCII letters)", () => {
    expect(["ts_day", "id-bucket", "1st", "a.b", "été"].map(sanitizeAvroName)).toEqual(["ts_day", "id_x2Dbucket", "_1st", "a_x2Eb", "_xE9t_xE9"]);
  });
});
