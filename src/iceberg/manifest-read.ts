/**
 * Readers for Iceberg manifest lists and manifests (table spec: "Manifest Lists", "Manifests"),
 * written by Floe or by any other engine (Spark/Java, PyIceberg…), v1 or v2.
 *
 * Why: an append keeps the previous snapshot's manifests, so the core reads the previous manifest
 * list and writes its entries again into the new one. Fields are looked up by name in the decoded
 * records (the writer schema decides the shape); v1 files lack some fields, which take the
 * defaults the spec gives for reading v1 metadata (Appendix E).
 */
import { FloeError } from "../errors.js";
import { readAvroContainer } from "./avro-read.js";
import type { DataFile, EntryStatus, FieldSummary, ManifestEntry, ManifestFile } from "./data-file.js";
import type { InternalValue } from "./types.js";

type Rec = Record<string, unknown>;

function fail(message: string): never {
  throw new FloeError("internal", `manifest: ${message}`);
}

/** The first of `names` present in `rec` (undefined when the writer schema has none of them). */
function field(rec: Rec, names: string[]): unknown {
  for (const n of names) if (n in rec) return rec[n];
  return undefined;
}

/**
 * A field that must hold a value. A missing or null count is refused rather than defaulted to 0:
 * the spec reads null counts as "non-zero", and writing 0 would let planners skip the manifest.
 */
function must(rec: Rec, where: string, ...names: string[]): unknown {
  const v = field(rec, names);
  if (v === undefined || v === null) fail(`${where}: ${names[0]} is missing`);
  return v;
}

/** long (bigint) or int (number) → number; counts and sizes are far below 2^53. */
function num(v: unknown, where: string, name: string): number {
  if (typeof v === "bigint") return Number(v);
  if (typeof v === "number") return v;
  return fail(`${where}: ${name} is not a number (${typeof v})`);
}

function big(v: unknown, where: string, name: string): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number") return BigInt(v);
  return fail(`${where}: ${name} is not a long (${typeof v})`);
}

/** A nullable long: null stays null (sequence-number inheritance needs to see it). */
function bigOrNull(v: unknown, where: string, name: string): bigint | null {
  return v === null ? null : big(v, where, name);
}

function bytesOrNull(v: unknown, where: string, name: string): Uint8Array | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Uint8Array) return v;
  return fail(`${where}: ${name} is not bytes`);
}

function record(v: unknown, where: string): Rec {
  if (v === null || typeof v !== "object" || Array.isArray(v) || v instanceof Uint8Array) fail(`${where} is not a record`);
  return v as Rec;
}

function summary(v: unknown, where: string): FieldSummary {
  const s = record(v, where);
  const nan = field(s, ["contains_nan"]);
  return {
    containsNull: must(s, where, "contains_null") === true,
    containsNan: nan === undefined || nan === null ? null : nan === true,
    lowerBound: bytesOrNull(field(s, ["lower_bound"]), where, "lower_bound"),
    upperBound: bytesOrNull(field(s, ["upper_bound"]), where, "upper_bound"),
  };
}

function toManifestFile(v: unknown, i: number): ManifestFile {
  const rec = record(v, `manifest list entry ${i}`);
  const where = `manifest list entry ${i} (${String(rec.manifest_path)})`;
  const content = field(rec, ["content"]) ?? 0; // v1: all manifests are data manifests
  if (content !== 0 && content !== 1) fail(`${where}: content ${String(content)} is not 0 (data) or 1 (deletes)`);
  // v1 lists have no sequence numbers: the spec says read them as 0.
  const seq = field(rec, ["sequence_number"]);
  const minSeq = field(rec, ["min_sequence_number"]);
  const partitions = field(rec, ["partitions"]);
  if (partitions !== undefined && partitions !== null && !Array.isArray(partitions)) fail(`${where}: partitions is not a list`);
  const out: ManifestFile = {
    manifestPath: String(must(rec, where, "manifest_path")),
    manifestLength: num(must(rec, where, "manifest_length"), where, "manifest_length"),
    partitionSpecId: num(must(rec, where, "partition_spec_id"), where, "partition_spec_id"),
    content,
    sequenceNumber: seq === undefined || seq === null ? 0n : big(seq, where, "sequence_number"),
    minSequenceNumber: minSeq === undefined || minSeq === null ? 0n : big(minSeq, where, "min_sequence_number"),
    addedSnapshotId: big(must(rec, where, "added_snapshot_id"), where, "added_snapshot_id"),
    // Java's v1 writer names the counts added_data_files_count etc. (same field ids 504–506).
    addedFilesCount: num(must(rec, where, "added_files_count", "added_data_files_count"), where, "added_files_count"),
    existingFilesCount: num(must(rec, where, "existing_files_count", "existing_data_files_count"), where, "existing_files_count"),
    deletedFilesCount: num(must(rec, where, "deleted_files_count", "deleted_data_files_count"), where, "deleted_files_count"),
    addedRowsCount: num(must(rec, where, "added_rows_count"), where, "added_rows_count"),
    existingRowsCount: num(must(rec, where, "existing_rows_count"), where, "existing_rows_count"),
    deletedRowsCount: num(must(rec, where, "deleted_rows_count"), where, "deleted_rows_count"),
    partitions: (partitions ?? []).map((p, j) => summary(p, `${where}, partition summary ${j}`)),
  };
  const keyMetadata = bytesOrNull(field(rec, ["key_metadata"]), where, "key_metadata");
  if (keyMetadata) out.keyMetadata = keyMetadata;
  return out;
}

/**
 * Decodes a manifest list (`snap-*.avro`) into its entries, in file order.
 * v1 lists: sequence numbers read as 0 and content as 0 (data), as the spec prescribes.
 * @example
 * const previous = readManifestList(await store.get(snapshot["manifest-list"]));
 */
export function readManifestList(bytes: Uint8Array): ManifestFile[] {
  return readAvroContainer(bytes).records.map(toManifestFile);
}

/**
 * An int-keyed metric map. Iceberg writes `map<int, V>` as an array of `{key, value}` records
 * (Avro maps only have string keys); a real Avro map is accepted too, its keys parsed as ints.
 */
function metricMap<V>(v: unknown, where: string, name: string, value: (x: unknown) => V): Map<number, V> {
  const out = new Map<number, V>();
  if (v === null || v === undefined) return out;
  if (Array.isArray(v)) {
    for (const kv of v) {
      const e = record(kv, `${where}: ${name} entry`);
      out.set(num(e.key, where, `${name} key`), value(e.value));
    }
  } else {
    for (const [k, x] of Object.entries(record(v, `${where}: ${name}`))) out.set(Number(k), value(x));
  }
  return out;
}

function toDataFile(v: unknown, where: string): DataFile {
  const d = record(v, `${where}: data_file`);
  const partition = record(must(d, where, "partition"), `${where}: partition`);
  const count = (name: string) => metricMap(field(d, [name]), where, name, (x) => num(x, where, name));
  const bound = (name: string) => metricMap(field(d, [name]), where, name, (x) => bytesOrNull(x, where, name) ?? fail(`${where}: null in ${name}`));
  const splits = field(d, ["split_offsets"]);
  const sortOrderId = field(d, ["sort_order_id"]);
  const file: DataFile = {
    // DataFile types these narrowly (what Floe writes); other writers' delete files and ORC/Avro
    // files come through with their real values, so callers that care must check them.
    content: (field(d, ["content"]) ?? 0) as 0, // v1: all files are data files
    filePath: String(must(d, where, "file_path")),
    // The spec names formats in lower case; Java writes its enum names (PARQUET): normalize.
    fileFormat: String(must(d, where, "file_format")).toUpperCase() as "PARQUET",
    // Values in field order (Avro names cannot look like array indices, so key order is field
    // order). They are what the decoder gives — bigint for long, number for int/date, Uint8Array
    // for fixed/bytes (so decimals stay as bytes) — not converted to internal values by type.
    partition: Object.values(partition) as InternalValue[],
    recordCount: num(must(d, where, "record_count"), where, "record_count"),
    fileSizeInBytes: num(must(d, where, "file_size_in_bytes"), where, "file_size_in_bytes"),
    columnSizes: count("column_sizes"),
    valueCounts: count("value_counts"),
    nullValueCounts: count("null_value_counts"),
    nanValueCounts: count("nan_value_counts"),
    lowerBounds: bound("lower_bounds"),
    upperBounds: bound("upper_bounds"),
  };
  if (Array.isArray(splits)) file.splitOffsets = splits.map((x) => num(x, where, "split_offsets"));
  if (sortOrderId !== undefined && sortOrderId !== null) file.sortOrderId = num(sortOrderId, where, "sort_order_id");
  return file;
}

function toManifestEntry(v: unknown, i: number): ManifestEntry {
  const where = `manifest entry ${i}`;
  const e = record(v, where);
  const status = must(e, where, "status");
  if (status !== 0 && status !== 1 && status !== 2) fail(`${where}: status ${String(status)} is not 0, 1 or 2`);
  // Absent column (v1 manifest): the spec says sequence numbers default to 0. Present but null:
  // inherited from the manifest list (spec "Sequence Number Inheritance"), so it stays null.
  const seq = (name: string) => {
    const x = field(e, [name]);
    return x === undefined ? 0n : bigOrNull(x, where, name);
  };
  const snapshotId = field(e, ["snapshot_id"]);
  return {
    status: status as EntryStatus,
    snapshotId: snapshotId === undefined ? null : bigOrNull(snapshotId, where, "snapshot_id"),
    sequenceNumber: seq("sequence_number"),
    fileSequenceNumber: seq("file_sequence_number"),
    dataFile: toDataFile(must(e, where, "data_file"), where),
  };
}

/**
 * Decodes a manifest (`*-m*.avro`): its entries in file order and its header metadata (the
 * spec's `schema`, `partition-spec`, `partition-spec-id`, `format-version`, `content`, plus the
 * `avro.*` keys).
 * @example
 * const { entries, metadata } = readManifest(bytes);
 * const specId = Number(metadata["partition-spec-id"]);
 */
export function readManifest(bytes: Uint8Array): { entries: ManifestEntry[]; metadata: Record<string, string> } {
  const { records, metadata } = readAvroContainer(bytes);
  return { entries: records.map(toManifestEntry), metadata };
}
