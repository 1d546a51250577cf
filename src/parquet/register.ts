import { parquetSchema, type FileMetaData, type ParquetParsers, type RowGroup, type SchemaElement } from "hyparquet";
import { freshSchema, specFor, type PartitionBy } from "../iceberg/batch-writer.js";
import { unionByName } from "../iceberg/evolve.js";
import { partitioner, partitionPath } from "../iceberg/partition.js";
import { parseTransform } from "../iceberg/transforms.js";
import type { InternalValue, NestedField, PartitionSpec, PrimitiveType, Schema } from "../iceberg/types.js";
import { compareValues } from "../iceberg/values.js";
import { fileMetrics, type WrittenMetrics } from "./metrics.js";

/**
 * Parsers for reading a footer whose statistics are to become manifest metrics: every value is
 * left as stored (days, micros, bytes), which is what Iceberg's bounds are made of. (Decimal
 * statistics are turned into floats by hyparquet before any parser runs, so they give no bounds.)
 */
export const RAW_STATISTICS: Partial<ParquetParsers> = {
  timestampFromMilliseconds: (v) => v,
  timestampFromMicroseconds: (v) => v,
  timestampFromNanoseconds: (v) => v,
  dateFromDays: (v) => v,
  stringFromBytes: (v) => v,
  uuidFromBytes: (v) => v,
  jsonFromBytes: (v) => v,
};

/** The table an uploaded file would be registered into, as the table's Durable Object describes it. */
export interface RegisterTarget {
  /** null: the table does not exist yet, and would be created from the file's columns. */
  schema: Schema | null;
  lastColumnId: number;
  spec: PartitionSpec | null;
  partitionBy: PartitionBy[];
  mode: "evolve" | "strict";
}

export type RegisterPlan =
  | {
      fits: true;
      /** The table's schema with the file's new columns added (the same object as the target's when nothing changed). */
      schema: Schema;
      spec: PartitionSpec;
      partition: InternalValue[];
      /** The partition directory under `data/` ("" when unpartitioned). */
      partitionPath: string;
      metrics: WrittenMetrics;
    }
  | { fits: false; why: string };

interface Column {
  name: string;
  type: PrimitiveType;
  required: boolean;
  fieldId?: number;
}

/**
 * Decides whether an uploaded Parquet file can join the table as it is, without being rewritten
 * (the "register the file" pattern of Iceberg's `add_files`), and if so with which schema, partition
 * and metrics. It fits when:
 * - every column is a top-level primitive whose Parquet type is the one the Iceberg spec's Parquet
 *   mapping names for an Iceberg type (e.g. INT64 TIMESTAMP(MICROS) for timestamp; not INT96, not
 *   millisecond timestamps, not unsigned or narrow ints): nested columns are rewritten;
 * - each column maps by name to a field of that type, or of a type it may be promoted to (int→long,
 *   float→double), or is a new column the table may add (mode `evolve`); a required field is only
 *   fed by a required column;
 * - field ids, if the file has them, are the table's; without them readers map columns by name
 *   through the table's `schema.name-mapping.default`, which every commit keeps current;
 * - a partitioned table's partition is the same for every row, as the column statistics prove
 *   (identity and time/truncate transforms of a numeric or temporal column; not bucket).
 * Anything else gives `fits: false` with the reason, and the file is rewritten instead.
 */
export function planRegistration(metadata: FileMetaData, fileSize: number, target: RegisterTarget): RegisterPlan {
  const rows = Number(metadata.num_rows);
  if (rows === 0) return { fits: false, why: "the file holds no rows" };
  const columns: Column[] = [];
  let tree: ReturnType<typeof parquetSchema>;
  try {
    tree = parquetSchema(metadata);
  } catch {
    // A corrupt schema tree (hyparquet trusts each element's num_children): not registered; the
    // rewrite path then reads the file and refuses it with the reason (decode/parquet.ts).
    return { fits: false, why: "the schema in the footer is unreadable" };
  }
  for (const node of tree.children) {
    const e = node.element;
    if (node.children.length > 0) return { fits: false, why: `column ${e.name} is nested` };
    if (e.repetition_type === "REPEATED") return { fits: false, why: `column ${e.name} is repeated` };
    const type = icebergTypeOf(e);
    if (!type) return { fits: false, why: `column ${e.name} has a Parquet type (${describe(e)}) that Iceberg does not read as is` };
    columns.push({ name: e.name, type, required: e.repetition_type === "REQUIRED", fieldId: e.field_id ?? undefined });
  }
  const withIds = columns.filter((c) => c.fieldId !== undefined).length;
  if (withIds !== 0 && withIds !== columns.length) return { fits: false, why: "some columns have field ids and some do not" };

  const evolved = targetSchema(columns, withIds > 0, target);
  if ("why" in evolved) return { fits: false, why: evolved.why };
  const { schema } = evolved;
  let spec: PartitionSpec;
  try {
    spec = target.spec && target.schema ? target.spec : specFor(schema, target.partitionBy);
  } catch (e) {
    return { fits: false, why: (e as Error).message };
  }

  const stats = columnStats(metadata, columns, schema);
  const partition = partitionOf(spec, schema, stats, rows);
  if ("why" in partition) return { fits: false, why: partition.why };
  const metrics = fileMetrics(schema, metadata.row_groups.map((rg) => withInternalStats(rg, stats.types)), rows, fileSize);
  return { fits: true, schema, spec, partition: partition.tuple, partitionPath: partitionPath(spec, schema, partition.tuple), metrics };
}

/** The Iceberg type a Parquet leaf is read as, following the spec's "Parquet" type mapping; undefined when none is exact. */
function icebergTypeOf(e: SchemaElement): PrimitiveType | undefined {
  const lt = e.logical_type;
  const ct = e.converted_type;
  const decimal = lt?.type === "DECIMAL" ? lt : ct === "DECIMAL" ? { precision: e.precision ?? 0, scale: e.scale ?? 0 } : undefined;
  const plain = !lt && !ct;
  switch (e.type) {
    case "BOOLEAN":
      return plain ? "boolean" : undefined;
    case "INT32":
      if (decimal) return decimal.precision <= 9 ? `decimal(${decimal.precision}, ${decimal.scale})` : undefined;
      if (lt?.type === "DATE" || ct === "DATE") return "date";
      return plain || (lt?.type === "INTEGER" && lt.bitWidth === 32 && lt.isSigned) || (!lt && ct === "INT_32") ? "int" : undefined;
    case "INT64":
      if (decimal) return decimal.precision <= 18 ? `decimal(${decimal.precision}, ${decimal.scale})` : undefined;
      if (lt?.type === "TIMESTAMP") return lt.unit === "MICROS" ? (lt.isAdjustedToUTC ? "timestamptz" : "timestamp") : undefined;
      // The legacy annotation is UTC-adjusted by definition (parquet-format LogicalTypes.md).
      if (ct === "TIMESTAMP_MICROS") return "timestamptz";
      // Iceberg's time is TIME(MICROS) not adjusted to UTC; the legacy annotation alone means UTC-adjusted.
      if (lt?.type === "TIME" || ct === "TIME_MICROS") return lt?.type === "TIME" && lt.unit === "MICROS" && !lt.isAdjustedToUTC ? "time" : undefined;
      return plain || (lt?.type === "INTEGER" && lt.bitWidth === 64 && lt.isSigned) || (!lt && ct === "INT_64") ? "long" : undefined;
    case "FLOAT":
      return plain ? "float" : undefined;
    case "DOUBLE":
      return plain ? "double" : undefined;
    case "BYTE_ARRAY":
      if (lt?.type === "STRING" || (!lt && ct === "UTF8")) return "string";
      return plain ? "binary" : undefined;
    case "FIXED_LEN_BYTE_ARRAY":
      if (decimal) return `decimal(${decimal.precision}, ${decimal.scale})`;
      if (lt?.type === "UUID") return e.type_length === 16 ? "uuid" : undefined;
      return plain && e.type_length ? `fixed[${e.type_length}]` : undefined;
    default:
      return undefined;
  }
}

function describe(e: SchemaElement): string {
  const lt = e.logical_type;
  const ann = lt ? `${lt.type}${"unit" in lt ? `(${lt.unit})` : ""}` : e.converted_type;
  return ann ? `${e.type} ${ann}` : String(e.type);
}

/** The table's schema once the file's columns are in it, or why the file's columns do not fit it. */
function targetSchema(columns: Column[], withIds: boolean, target: RegisterTarget): { schema: Schema } | { why: string } {
  if (!target.schema) {
    // A new table takes the file's columns, all optional (later files and events may lack them),
    // with the file's field ids when it has them.
    const fields: NestedField[] = columns.map((c) => ({ id: c.fieldId ?? 0, name: c.name, required: false, type: c.type }));
    if (!withIds) return { schema: freshSchema({ type: "struct", fields }) };
    if (new Set(fields.map((f) => f.id)).size !== fields.length) return { why: "the file's field ids are not unique" };
    return { schema: { type: "struct", fields, "schema-id": 0 } };
  }
  const current = target.schema;
  const byName = new Map(current.fields.map((f) => [f.name, f]));
  for (const c of columns) {
    const f = byName.get(c.name);
    if (!f) {
      if (target.mode === "strict") return { why: `column ${c.name} is not in the table (mode strict)` };
      if (c.fieldId !== undefined) return { why: `column ${c.name} is new to the table but the file already gave it field id ${c.fieldId}` };
      continue;
    }
    if (c.fieldId !== undefined && c.fieldId !== f.id) return { why: `column ${c.name} has field id ${c.fieldId} in the file and ${f.id} in the table` };
    if (f.required && !c.required) return { why: `column ${c.name} is optional in the file and required in the table` };
  }
  const incoming = { type: "struct" as const, fields: columns.map((c) => ({ id: 0, name: c.name, required: byName.get(c.name)?.required ?? false, type: c.type })) };
  try {
    const u = unionByName(current, incoming, target.lastColumnId, { inferred: false });
    return { schema: u.changed ? u.schema : current };
  } catch (e) {
    return { why: (e as Error).message };
  }
}

interface Stats {
  /** The table's type of each column the file has, by name. */
  types: Map<string, PrimitiveType>;
  /** Per column over the whole file: smallest and largest value (internal, in the table's type), nulls; undefined when a row group lacks statistics. */
  ranges: Map<string, { min: InternalValue; max: InternalValue; nulls: number } | undefined>;
}

function columnStats(metadata: FileMetaData, columns: Column[], schema: Schema): Stats {
  const types = new Map<string, PrimitiveType>();
  for (const c of columns) types.set(c.name, schema.fields.find((f) => f.name === c.name)!.type as PrimitiveType);
  const ranges: Stats["ranges"] = new Map();
  for (const c of columns) {
    const type = types.get(c.name)!;
    let range: { min: InternalValue; max: InternalValue; nulls: number } | undefined = { min: null, max: null, nulls: 0 };
    for (const rg of metadata.row_groups) {
      const st = rg.columns.find((ch) => ch.meta_data?.path_in_schema.join(".") === c.name)?.meta_data?.statistics;
      if (!st || st.null_count === undefined) {
        range = undefined;
        break;
      }
      range.nulls += Number(st.null_count);
      const min = internal(type, st.min_value);
      const max = internal(type, st.max_value);
      if (min !== null && (range.min === null || compareValues(type, min, range.min) < 0)) range.min = min;
      if (max !== null && (range.max === null || compareValues(type, max, range.max) > 0)) range.max = max;
    }
    ranges.set(c.name, range);
  }
  return { types, ranges };
}

/** A raw statistics value as the internal value of the table's type; null when unusable. */
function internal(type: PrimitiveType, v: unknown): InternalValue {
  if (v === undefined || v === null) return null;
  if (type === "string") {
    try {
      return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(v as Uint8Array);
    } catch {
      return null;
    }
  }
  if (type.startsWith("decimal")) return null;
  if (type === "float" || type === "double") return Number.isNaN(v) ? null : (v as number);
  if (type === "int" || type === "date") return typeof v === "bigint" ? Number(v) : (v as number);
  if (type === "long" || type === "time" || type === "timestamp" || type === "timestamptz") return typeof v === "bigint" ? v : BigInt(v as number);
  return v as InternalValue;
}

/** Row-group statistics with internal values, in the shape `fileMetrics` reads. */
function withInternalStats(rg: RowGroup, types: Map<string, PrimitiveType>): RowGroup {
  return {
    ...rg,
    columns: rg.columns.map((ch) => {
      const md = ch.meta_data;
      const type = md && types.get(md.path_in_schema.join("."));
      if (!md || !type || !md.statistics) return ch;
      const st = md.statistics;
      return { ...ch, meta_data: { ...md, statistics: { null_count: st.null_count, min_value: internal(type, st.min_value) ?? undefined, max_value: internal(type, st.max_value) ?? undefined } } } as typeof ch;
    }),
  };
}

/** Transforms that keep order, so the partitions of the smallest and the largest value bound all others'. */
const MONOTONE = new Set(["identity", "year", "month", "day", "hour", "truncate", "void"]);
const ORDERED_SOURCES = new Set<string>(["int", "long", "date", "time", "timestamp", "timestamptz", "boolean", "float", "double"]);

/** The one partition every row of the file is in, proven from the column statistics. */
function partitionOf(spec: PartitionSpec, schema: Schema, stats: Stats, rows: number): { tuple: InternalValue[] } | { why: string } {
  if (spec.fields.length === 0) return { tuple: [] };
  const low: Record<string, InternalValue> = {};
  const high: Record<string, InternalValue> = {};
  for (const pf of spec.fields) {
    const source = schema.fields.find((f) => f.id === pf["source-id"]);
    const transform = parseTransform(pf.transform);
    if (!source || !MONOTONE.has(transform.kind)) return { why: `partition field ${pf.name} (${pf.transform}) cannot be told from column statistics` };
    if (transform.kind === "void") continue;
    if (!ORDERED_SOURCES.has(String(source.type))) return { why: `partition field ${pf.name} has a ${String(source.type)} source, whose statistics may be truncated` };
    if (!stats.types.has(source.name)) continue; // absent from the file: null for every row
    const range = stats.ranges.get(source.name);
    if (!range) return { why: `column ${source.name} has no statistics to place the file in a partition` };
    if (range.nulls === rows) continue;
    if (range.nulls > 0 || range.min === null || range.max === null) return { why: `column ${source.name} mixes nulls and values, so its rows are in more than one partition` };
    low[source.name] = range.min;
    high[source.name] = range.max;
  }
  const part = partitioner(spec, schema);
  const a = part(low);
  const b = part(high);
  // Monotone transforms of ordered sources give numbers, bigints or booleans: === compares them.
  if (!a.every((v, i) => v === b[i])) return { why: "the file's rows are in more than one partition" };
  return { tuple: a };
}
