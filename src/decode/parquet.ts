import { decompressSync } from "fflate";
import { decompress as zstdDecompress } from "fzstd";
import { parquetMetadataAsync, parquetReadObjects, parquetSchema } from "hyparquet";
import type { AsyncBuffer, Compressors, FileMetaData, ParquetParsers, SchemaElement, SchemaTree } from "hyparquet";
import { FloeError } from "../errors.js";
import { base64Encode, bigEndianSigned, formatDecimal, isoDate, isoTime, isoTimestamp, type TimeUnit } from "./values.js";

/** Random access to a file: its size and byte ranges (hyparquet's `AsyncBuffer`). An R2 object with ranged gets fits. */
export interface RandomAccessFile {
  byteLength: number;
  slice(start: number, end?: number): Promise<ArrayBuffer> | ArrayBuffer;
}

/**
 * Page decompressors beyond hyparquet's built-in SNAPPY, all plain JavaScript so they run in
 * workerd (no run-time wasm): GZIP through fflate (which also takes zlib and raw deflate), ZSTD
 * through fzstd. LZ4, LZ4_RAW and BROTLI are refused with the codec's name.
 */
export const PARQUET_COMPRESSORS: Compressors = {
  GZIP: (input, outputLength) => decompressSync(input, { out: new Uint8Array(outputLength) }),
  ZSTD: (input, outputLength) => zstdDecompress(input, new Uint8Array(outputLength)),
};

const textDecoder = new TextDecoder();

/** Parsers for what hyparquet converts itself, overriding the ones that lose information. */
const PARSERS: Partial<ParquetParsers> = {
  dateFromDays: (days) => isoDate(days),
  // Only INT96 reaches this one (TIMESTAMP(NANOS) is converted below): Impala and Spark write instants.
  timestampFromNanoseconds: (nanos) => isoTimestamp(nanos, "ns", true),
  jsonFromBytes: (bytes) => (bytes === undefined ? undefined : textDecoder.decode(bytes)),
  geometryFromBytes: (bytes) => (bytes === undefined ? undefined : base64Encode(bytes)),
  geographyFromBytes: (bytes) => (bytes === undefined ? undefined : base64Encode(bytes)),
};

function parquetError(message: string, details: Record<string, unknown>, cause: unknown): FloeError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new FloeError("invalid_input", `Parquet: ${message}: ${why}`, { details: { format: "parquet", ...details }, cause });
}

/**
 * Reads and checks a Parquet file's footer. A file that is not Parquet, or is truncated (its
 * footer is at the end), is refused with FloeError `invalid_input`. `parsers` decide how
 * statistics values come out (default: as the rows' values do).
 */
export async function parquetMetadataOf(file: RandomAccessFile, parsers: Partial<ParquetParsers> = PARSERS): Promise<FileMetaData> {
  if (file.byteLength < 12) {
    throw new FloeError("invalid_input", `Parquet: ${file.byteLength} bytes is too short for a Parquet file (truncated?)`, {
      details: { format: "parquet", size: file.byteLength },
    });
  }
  try {
    return await parquetMetadataAsync(file as AsyncBuffer, { parsers, geoparquet: false });
  } catch (e) {
    throw parquetError("not a Parquet file, or truncated (the footer is unreadable)", { size: file.byteLength }, e);
  }
}

/**
 * The field ids of a Parquet schema by column path (names joined with `.`, as `path_in_schema`
 * gives them, e.g. `tags.list.element`), for every group and column that has one. Files written
 * for Iceberg carry them; files without (most exports) give `{}`: those map by name instead
 * (`schema.name-mapping.default`).
 *
 * @example
 * parquetFieldIds(await parquetMetadataOf(file)) // { id: 1, "address.city": 21, … }
 */
export function parquetFieldIds(metadata: FileMetaData): Record<string, number> {
  const out: Record<string, number> = {};
  const walk = (node: SchemaTree) => {
    for (const child of node.children) {
      if (child.element.field_id !== undefined && child.element.field_id !== null) out[child.path.join(".")] = child.element.field_id;
      walk(child);
    }
  };
  walk(parquetSchema(metadata));
  return out;
}

/**
 * Streams a Parquet file's rows one row group at a time (memory: one row group's rows), yielding
 * at most `batchRows` rows a time. Values follow `values.ts`: hyparquet's own conversions of
 * decimals (to floats) and timestamps (to `Date`, millisecond precision, pre-1970 values rounded
 * toward zero) lose data, so those columns are read raw and converted here, exactly.
 *
 * @example
 * for await (const rows of parquetRows(file)) console.log(rows.length);
 */
export async function* parquetRows(file: RandomAccessFile, opts: { batchRows?: number } = {}): AsyncGenerator<Record<string, unknown>[]> {
  const batchRows = opts.batchRows ?? 10_000;
  const metadata = await parquetMetadataOf(file);
  const tree = parquetSchema(metadata);
  const columns = tree.children.map((node) => ({ name: node.element.name, convert: nodeConverter(node) }));
  // hyparquet converts by the schema's annotations; without them it hands out the raw values.
  const raw: FileMetaData = { ...metadata, schema: metadata.schema.map((e) => (readRaw(e) ? { ...e, converted_type: undefined, logical_type: undefined } : e)) };
  let rowStart = 0;
  for (let g = 0; g < metadata.row_groups.length; g++) {
    const rowEnd = rowStart + Number(metadata.row_groups[g].num_rows);
    if (rowEnd === rowStart) continue;
    let rows: Record<string, unknown>[];
    try {
      rows = await parquetReadObjects({ file: file as AsyncBuffer, metadata: raw, rowStart, rowEnd, compressors: PARQUET_COMPRESSORS, utf8: false, parsers: PARSERS });
    } catch (e) {
      throw parquetError(`row group ${g} (rows ${rowStart} to ${rowEnd - 1}) is unreadable`, { rowGroup: g, row: rowStart }, e);
    }
    for (const row of rows) {
      for (const { name, convert } of columns) row[name] = convert(row[name]);
    }
    for (let i = 0; i < rows.length; i += batchRows) yield rows.length <= batchRows ? rows : rows.slice(i, i + batchRows);
    rowStart = rowEnd;
  }
}

type Convert = (v: unknown) => unknown;

/** Annotations converted here rather than by hyparquet. */
function readRaw(e: SchemaElement): boolean {
  const ct = e.converted_type;
  const lt = e.logical_type?.type;
  return (
    ct === "DECIMAL" || lt === "DECIMAL" || ct === "TIMESTAMP_MILLIS" || ct === "TIMESTAMP_MICROS" || lt === "TIMESTAMP" ||
    ct === "TIME_MILLIS" || ct === "TIME_MICROS" || lt === "TIME" || ct === "BSON" || lt === "BSON" || ct === "INTERVAL"
  );
}

const UNIT: Record<string, TimeUnit> = { MILLIS: "ms", MICROS: "us", NANOS: "ns" };

/** The converter of one leaf column's values, from its (original) schema element. */
function leafConverter(e: SchemaElement): Convert {
  const ct = e.converted_type;
  const lt = e.logical_type;
  if (ct === "DECIMAL" || lt?.type === "DECIMAL") {
    const scale = lt?.type === "DECIMAL" ? lt.scale : (e.scale ?? 0);
    return (v) => formatDecimal(v instanceof Uint8Array ? bigEndianSigned(v) : BigInt(v as number | bigint), scale);
  }
  if (lt?.type === "TIMESTAMP" || ct === "TIMESTAMP_MILLIS" || ct === "TIMESTAMP_MICROS") {
    // The legacy converted types are UTC-adjusted by definition (parquet-format LogicalTypes.md).
    const unit = lt?.type === "TIMESTAMP" ? UNIT[lt.unit] : ct === "TIMESTAMP_MILLIS" ? "ms" : "us";
    const utc = lt?.type === "TIMESTAMP" ? lt.isAdjustedToUTC : true;
    return (v) => isoTimestamp(BigInt(v as number | bigint), unit, utc);
  }
  if (lt?.type === "TIME" || ct === "TIME_MILLIS" || ct === "TIME_MICROS") {
    const unit = lt?.type === "TIME" ? UNIT[lt.unit] : ct === "TIME_MILLIS" ? "ms" : "us";
    return (v) => isoTime(BigInt(v as number | bigint), unit);
  }
  if (ct === "ENUM" || lt?.type === "ENUM") return (v) => (v instanceof Uint8Array ? textDecoder.decode(v) : v);
  // Binary and fixed without a text annotation (hyparquet reads them as bytes with `utf8: false`).
  return (v) => (v instanceof Uint8Array ? base64Encode(v) : v);
}

/** Mirrors how hyparquet assembles a column (assemble.js): lists → arrays, maps → objects, groups → objects. */
function nodeConverter(node: SchemaTree): Convert {
  const orNull = (inner: Convert): Convert => (v) => (v === undefined || v === null ? null : inner(v));
  if (isListLike(node)) {
    let element = node.children[0];
    if (element.children.length === 1) element = element.children[0];
    const inner = nodeConverter(element);
    return orNull((v) => (v as unknown[]).map(inner));
  }
  if (isMapLike(node)) {
    const valueNode = node.children[0].children.find((c) => c.element.name === "value") ?? node.children[0].children[1];
    const inner = nodeConverter(valueNode);
    return orNull((v) => {
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o)) o[k] = inner(o[k]);
      return o;
    });
  }
  if (node.children.length > 0) {
    const fields = node.children.map((c) => ({ name: c.element.name, convert: nodeConverter(c) }));
    const struct = orNull((v) => {
      const o = v as Record<string, unknown>;
      for (const f of fields) o[f.name] = f.convert(o[f.name]);
      return o;
    });
    return node.element.repetition_type === "REPEATED" ? orNull((v) => (Array.isArray(v) ? v.map(struct) : struct(v))) : struct;
  }
  const leaf = orNull(leafConverter(node.element));
  // A bare repeated column (no LIST annotation) arrives as an array of values.
  return node.element.repetition_type === "REPEATED" ? orNull((v) => (Array.isArray(v) ? v.map(leaf) : leaf(v))) : leaf;
}

// hyparquet's own tests for the LIST and MAP shapes (schema.js), which it does not export.
function isListLike(node: SchemaTree): boolean {
  if (node.element.converted_type !== "LIST" || node.children.length > 1) return false;
  const first = node.children[0];
  return first !== undefined && first.children.length <= 1 && first.element.repetition_type === "REPEATED";
}

function isMapLike(node: SchemaTree): boolean {
  if (node.element.converted_type !== "MAP" || node.children.length > 1) return false;
  const first = node.children[0];
  if (!first || first.children.length !== 2 || first.element.repetition_type !== "REPEATED") return false;
  const key = first.children.find((c) => c.element.name === "key");
  const value = first.children.find((c) => c.element.name === "value");
  return key?.element.repetition_type !== "REPEATED" && value?.element.repetition_type !== "REPEATED";
}

/** A random-access view of bytes in memory (a gzip-compressed Parquet file, once inflated). */
export function fileOfBytes(bytes: Uint8Array): RandomAccessFile {
  return {
    byteLength: bytes.byteLength,
    slice: (start, end) => bytes.slice(start, end).buffer as ArrayBuffer,
  };
}
