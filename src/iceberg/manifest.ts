/**
 * Iceberg v2 manifests and manifest lists as Avro object container files.
 *
 * Schemas follow the table spec ("Manifests", "Manifest Lists"; field names and ids verbatim),
 * shaped the way Java's `AvroSchemaUtil` writes them so every engine recognizes them: optional
 * fields are `["null", T]` unions with `default: null`; int-keyed maps are arrays of `k{K}_v{V}`
 * records with `logicalType: "map"`; lists carry `element-id`; record names `manifest_entry`,
 * `r2` (data_file), `r102` (partition), `manifest_file`, `r508` (field_summary).
 */
import { writeAvroContainer, type AvroCodec, type AvroComplex, type AvroField, type AvroSchema } from "./avro.js";
import type { ManifestEntry, ManifestFile } from "./data-file.js";
import { decimalParams, fixedLength, type IcebergType, type InternalValue, type PartitionSpec, type Schema } from "./types.js";

/** The partition tuple type: the spec's result types, with partition field ids (≥ 1000). */
export interface PartitionType {
  fields: { id: number; name: string; type: IcebergType }[];
}

const optional = (name: string, id: number, type: AvroSchema, extra?: Record<string, unknown>): AvroField => ({
  name,
  type: ["null", type],
  default: null,
  "field-id": id,
  ...extra,
});
const required = (name: string, id: number, type: AvroSchema): AvroField => ({ name, type, "field-id": id });

/** Iceberg `map<int, V>` in Avro: an array of key/value records (Avro maps only allow string keys). */
const intMap = (keyId: number, valueId: number, value: AvroSchema): AvroComplex => ({
  type: "array",
  items: {
    type: "record",
    name: `k${keyId}_v${valueId}`,
    fields: [required("key", keyId, "int"), required("value", valueId, value)],
  },
  logicalType: "map",
});
const list = (elementId: number, items: AvroSchema): AvroComplex => ({ type: "array", items, "element-id": elementId });

/** Bytes needed to hold any unscaled value of precision P (as Java's `TypeUtil.decimalRequiredBytes`). */
export function decimalRequiredBytes(precision: number): number {
  const max = 10n ** BigInt(precision);
  let n = 1;
  while (1n << BigInt(8 * n - 1) < max) n++;
  return n;
}

/**
 * Avro schema of one partition result type. Named fixed types are defined once and referenced by
 * name afterwards: Avro forbids redefining a name within one schema.
 */
function partitionAvroType(type: IcebergType, defined: Set<string>): AvroSchema {
  const named = (schema: AvroComplex): AvroSchema => {
    if (defined.has(schema.name!)) return schema.name!;
    defined.add(schema.name!);
    return schema;
  };
  switch (type) {
    case "boolean": case "int": case "long": case "float": case "double": case "string":
      return type;
    case "binary": return "bytes";
    case "date": return { type: "int", logicalType: "date" };
    case "time": return { type: "long", logicalType: "time-micros" };
    case "timestamp": return { type: "long", logicalType: "timestamp-micros", "adjust-to-utc": false };
    case "timestamptz": return { type: "long", logicalType: "timestamp-micros", "adjust-to-utc": true };
    case "uuid": return named({ type: "fixed", name: "uuid_fixed", size: 16, logicalType: "uuid" });
  }
  const len = fixedLength(type);
  if (len !== undefined) return named({ type: "fixed", name: `fixed_${len}`, size: len });
  const d = decimalParams(type);
  if (d) {
    const size = decimalRequiredBytes(d.precision);
    return named({ type: "fixed", name: `decimal_${d.precision}_${d.scale}`, size, logicalType: "decimal", precision: d.precision, scale: d.scale });
  }
  throw new TypeError(`manifest: partition type ${JSON.stringify(type)} is not a primitive`);
}

/**
 * Avro names are `[A-Za-z_][A-Za-z0-9_]*`; other partition names are rewritten as Java's
 * `AvroSchemaUtil.sanitize` does (leading digit → `_d`, other → `_xHEX`), the original kept in
 * `iceberg-field-name`. Unlike Java, non-ASCII letters are escaped too, as the Avro spec requires.
 */
export function sanitizeAvroName(name: string): string {
  let out = "";
  for (let i = 0; i < name.length; i++) {
    const c = name[i];
    const ok = /[A-Za-z_]/.test(c) || (i > 0 && /[0-9]/.test(c));
    out += ok ? c : /[0-9]/.test(c) ? `_${c}` : `_x${c.charCodeAt(0).toString(16).toUpperCase()}`;
  }
  return out;
}

/** Avro schema of a v2 manifest (`manifest_entry`) for a given partition type. */
export function manifestAvroSchema(partitionType: PartitionType): AvroComplex {
  const defined = new Set<string>();
  const partitionFields = partitionType.fields.map((f) => {
    const name = sanitizeAvroName(f.name);
    return optional(name, f.id, partitionAvroType(f.type, defined), name === f.name ? undefined : { "iceberg-field-name": f.name });
  });
  const dataFile: AvroComplex = {
    type: "record",
    name: "r2",
    fields: [
      required("content", 134, "int"),
      required("file_path", 100, "string"),
      required("file_format", 101, "string"),
      required("partition", 102, { type: "record", name: "r102", fields: partitionFields }),
      required("record_count", 103, "long"),
      required("file_size_in_bytes", 104, "long"),
      optional("column_sizes", 108, intMap(117, 118, "long")),
      optional("value_counts", 109, intMap(119, 120, "long")),
      optional("null_value_counts", 110, intMap(121, 122, "long")),
      optional("nan_value_counts", 137, intMap(138, 139, "long")),
      optional("lower_bounds", 125, intMap(126, 127, "bytes")),
      optional("upper_bounds", 128, intMap(129, 130, "bytes")),
      optional("key_metadata", 131, "bytes"),
      optional("split_offsets", 132, list(133, "long")),
      optional("equality_ids", 135, list(136, "int")),
      optional("sort_order_id", 140, "int"),
      optional("referenced_data_file", 143, "string"),
    ],
  };
  return {
    type: "record",
    name: "manifest_entry",
    fields: [
      required("status", 0, "int"),
      optional("snapshot_id", 1, "long"),
      optional("sequence_number", 3, "long"),
      optional("file_sequence_number", 4, "long"),
      required("data_file", 2, dataFile),
    ],
  };
}

const fieldSummary: AvroComplex = {
  type: "record",
  name: "r508",
  fields: [
    required("contains_null", 509, "boolean"),
    optional("contains_nan", 518, "boolean"),
    optional("lower_bound", 510, "bytes"),
    optional("upper_bound", 511, "bytes"),
  ],
};

/** Avro schema of a v2 manifest list (`manifest_file`). */
export const MANIFEST_LIST_AVRO_SCHEMA: AvroComplex = {
  type: "record",
  name: "manifest_file",
  fields: [
    required("manifest_path", 500, "string"),
    required("manifest_length", 501, "long"),
    required("partition_spec_id", 502, "int"),
    required("content", 517, "int"),
    required("sequence_number", 515, "long"),
    required("min_sequence_number", 516, "long"),
    required("added_snapshot_id", 503, "long"),
    required("added_files_count", 504, "int"),
    required("existing_files_count", 505, "int"),
    required("deleted_files_count", 506, "int"),
    required("added_rows_count", 512, "long"),
    required("existing_rows_count", 513, "long"),
    required("deleted_rows_count", 514, "long"),
    optional("partitions", 507, list(508, fieldSummary)),
    optional("key_metadata", 519, "bytes"),
  ],
};

/** Unscaled decimal → big-endian two's complement in exactly `size` bytes (Avro decimal on fixed). */
export function decimalToFixed(unscaled: bigint, size: number): Uint8Array {
  const bits = BigInt(size * 8);
  if (BigInt.asIntN(Number(bits), unscaled) !== unscaled) {
    throw new RangeError(`manifest: decimal ${unscaled} does not fit in ${size} bytes`);
  }
  let u = BigInt.asUintN(Number(bits), unscaled);
  const out = new Uint8Array(size);
  for (let i = size - 1; i >= 0; i--, u >>= 8n) out[i] = Number(u & 0xffn);
  return out;
}

/** Partition tuple (internal values, spec order) → Avro values, converting decimals to fixed bytes. */
function partitionValues(partitionType: PartitionType, tuple: InternalValue[]): unknown[] {
  if (tuple.length !== partitionType.fields.length) {
    throw new TypeError(`manifest: partition tuple has ${tuple.length} values, spec has ${partitionType.fields.length} fields`);
  }
  return partitionType.fields.map((f, i) => {
    const v = tuple[i];
    const d = decimalParams(f.type);
    if (v === null || !d) return v;
    // A decimal read back from a manifest is already its fixed bytes (a merge carries it as is).
    if (v instanceof Uint8Array && v.byteLength === decimalRequiredBytes(d.precision)) return v;
    if (typeof v !== "bigint") throw new TypeError(`manifest: partition ${f.name} expects a bigint unscaled decimal`);
    return decimalToFixed(v, decimalRequiredBytes(d.precision));
  });
}

const kv = <V>(m: Map<number, V>) => Array.from(m, ([key, value]) => ({ key, value }));

export interface WriteManifestOptions {
  /** Table schema at write time; its JSON goes into the `schema` header key. */
  schema: Schema;
  /** Defaults to `schema["schema-id"]`. */
  schemaId?: number;
  spec: PartitionSpec;
  partitionType: PartitionType;
  entries: Iterable<ManifestEntry>;
  codec: AvroCodec;
}

/**
 * Writes a v2 data manifest. Header keys as Java writes them: `schema`, `schema-id`,
 * `partition-spec` (fields array only), `partition-spec-id`, `format-version`, `content`.
 * @example
 * const bytes = writeManifest({ schema, spec, partitionType, entries: [{ status: 1, snapshotId: null,
 *   sequenceNumber: null, fileSequenceNumber: null, dataFile }], codec: "deflate" });
 */
export function writeManifest(opts: WriteManifestOptions): Uint8Array {
  const { schema, spec, partitionType, codec } = opts;
  function* records() {
    for (const e of opts.entries) {
      // Spec "Sequence Number Inheritance": only ADDED entries may leave sequence numbers to inherit.
      if (e.status !== 1 && (e.sequenceNumber === null || e.fileSequenceNumber === null)) {
        throw new TypeError(`manifest: ${e.dataFile.filePath}: status ${e.status} entry needs explicit sequence numbers`);
      }
      const f = e.dataFile;
      yield {
        status: e.status,
        snapshot_id: e.snapshotId,
        sequence_number: e.sequenceNumber,
        file_sequence_number: e.fileSequenceNumber,
        data_file: {
          content: f.content,
          file_path: f.filePath,
          file_format: f.fileFormat,
          partition: partitionValues(partitionType, f.partition),
          record_count: f.recordCount,
          file_size_in_bytes: f.fileSizeInBytes,
          column_sizes: kv(f.columnSizes),
          value_counts: kv(f.valueCounts),
          null_value_counts: kv(f.nullValueCounts),
          nan_value_counts: kv(f.nanValueCounts),
          lower_bounds: kv(f.lowerBounds),
          upper_bounds: kv(f.upperBounds),
          key_metadata: null,
          split_offsets: f.splitOffsets ?? null,
          equality_ids: null,
          sort_order_id: f.sortOrderId ?? null,
          referenced_data_file: null,
        },
      };
    }
  }
  return writeAvroContainer({
    schema: manifestAvroSchema(partitionType),
    metadata: {
      schema: JSON.stringify(schema),
      "schema-id": String(opts.schemaId ?? schema["schema-id"]),
      "partition-spec": JSON.stringify(spec.fields),
      "partition-spec-id": String(spec["spec-id"]),
      "format-version": "2",
      content: "data",
    },
    records: records(),
    codec,
  });
}

export interface WriteManifestListOptions {
  snapshotId: bigint;
  parentSnapshotId: bigint | null;
  sequenceNumber: bigint;
  manifests: Iterable<ManifestFile>;
  codec: AvroCodec;
}

/**
 * Writes a v2 manifest list. Header keys as Java writes them: `snapshot-id`,
 * `parent-snapshot-id` (the string "null" for the first snapshot), `sequence-number`, `format-version`.
 * @example
 * const bytes = writeManifestList({ snapshotId, parentSnapshotId: null, sequenceNumber: 1n, manifests, codec: "deflate" });
 */
export function writeManifestList(opts: WriteManifestListOptions): Uint8Array {
  function* records() {
    for (const m of opts.manifests) {
      yield {
        manifest_path: m.manifestPath,
        manifest_length: m.manifestLength,
        partition_spec_id: m.partitionSpecId,
        content: m.content,
        sequence_number: m.sequenceNumber,
        min_sequence_number: m.minSequenceNumber,
        added_snapshot_id: m.addedSnapshotId,
        added_files_count: m.addedFilesCount,
        existing_files_count: m.existingFilesCount,
        deleted_files_count: m.deletedFilesCount,
        added_rows_count: m.addedRowsCount,
        existing_rows_count: m.existingRowsCount,
        deleted_rows_count: m.deletedRowsCount,
        partitions: m.partitions.map((p) => ({
          contains_null: p.containsNull,
          contains_nan: p.containsNan,
          lower_bound: p.lowerBound,
          upper_bound: p.upperBound,
        })),
        key_metadata: m.keyMetadata ?? null,
      };
    }
  }
  return writeAvroContainer({
    schema: MANIFEST_LIST_AVRO_SCHEMA,
    metadata: {
      "snapshot-id": String(opts.snapshotId),
      "parent-snapshot-id": opts.parentSnapshotId === null ? "null" : String(opts.parentSnapshotId),
      "sequence-number": String(opts.sequenceNumber),
      "format-version": "2",
    },
    records: records(),
    codec: opts.codec,
  });
}
