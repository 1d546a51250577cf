import { decompressSync } from "fflate";
import { decompress as zstdDecompress } from "fzstd";
import { parquetMetadataAsync, parquetRead, parquetSchema } from "hyparquet";
import type { AsyncBuffer, Compressors, FileMetaData, ParquetParsers, SchemaElement, SchemaTree } from "hyparquet";
import { parquetHeader } from "hyparquet/src/column.js";
import { decompressPage } from "hyparquet/src/datapage.js";
import { getMaxDefinitionLevel, getMaxRepetitionLevel, getSchemaPath } from "hyparquet/src/schema.js";
import { readVarInt } from "hyparquet/src/thrift.js";
import { FloeError } from "../errors.js";
import type { IcebergType } from "../iceberg/types.js";
import { sourceRows, uniqueNames, type ColumnSource } from "./columns.js";
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
  try {
    walk(parquetSchema(metadata));
  } catch (e) {
    throw parquetError("the schema in the footer is unreadable", {}, e);
  }
  return out;
}

/**
 * A Parquet file's row groups (empty ones skipped), each a `ColumnSource` whose top-level columns are
 * decoded one at a time on demand: memory holds the group's (compressed) bytes and the column being
 * read, beside whatever the caller keeps of the columns it has read.
 * Values follow `values.ts`: hyparquet's own conversions of decimals (to floats) and timestamps (to
 * `Date`, millisecond precision, pre-1970 values rounded toward zero) lose data, so those columns
 * are read raw and converted here, exactly. A file with two top-level columns of one name is
 * refused: rows could hold only one of them.
 */
export async function* parquetGroups(file: RandomAccessFile): AsyncGenerator<ColumnSource> {
  const metadata = await parquetMetadataOf(file);
  let tree: SchemaTree;
  try {
    // hyparquet builds the tree trusting each element's num_children: a footer claiming more
    // children than there are elements failed here with a TypeError (found by the fuzz tests).
    tree = parquetSchema(metadata);
  } catch (e) {
    throw parquetError("the schema in the footer is unreadable", { size: file.byteLength }, e);
  }
  const columns = tree.children.map((node) => ({ name: node.element.name, convert: nodeConverter(node), internal: (type: IcebergType) => internalConverter(node, type) }));
  const names = columns.map((c) => c.name);
  uniqueNames(names, "parquet", "Parquet");
  // hyparquet converts by the schema's annotations; without them it hands out the raw values.
  const raw: FileMetaData = { ...metadata, schema: metadata.schema.map((e) => (readRaw(e) ? { ...e, converted_type: undefined, logical_type: undefined } : e)) };
  let rowStart = 0;
  for (let g = 0; g < metadata.row_groups.length; g++) {
    const start = rowStart;
    const end = rowStart + Number(metadata.row_groups[g].num_rows);
    rowStart = end;
    if (end === start) continue;
    const unreadable = (e: unknown) => parquetError(`row group ${g} (rows ${start} to ${end - 1}) is unreadable`, { rowGroup: g, row: start }, e);
    let checked: RandomAccessFile;
    try {
      checked = await checkRuns(file, metadata, g);
    } catch (e) {
      throw unreadable(e);
    }
    /** Column i's decoded pages as hyparquet gives them (raw where `readRaw` says), checked to hold the group's rows. */
    const pagesOf = async (i: number) => {
      const { name } = columns[i];
      // hyparquet's onChunk hands out its decoded arrays (no row objects); pages are joined by the callers.
      const pages: { start: number; data: ArrayLike<unknown> }[] = [];
      try {
        await parquetRead({
          file: checked as AsyncBuffer,
          metadata: raw,
          rowStart: start,
          rowEnd: end,
          columns: [name],
          compressors: PARQUET_COMPRESSORS,
          utf8: false,
          parsers: PARSERS,
          onChunk: ({ columnData, rowStart: at }) => pages.push({ start: at, data: columnData }),
        });
      } catch (e) {
        throw unreadable(e);
      }
      // A footer may claim any number of rows: the pages must hold them (checked before allocating).
      let held = 0;
      for (const page of pages) held += Math.max(0, Math.min(end, page.start + page.data.length) - Math.max(start, page.start));
      if (held !== end - start) throw unreadable(new Error(`column ${name} holds ${held} values where the footer declares ${end - start} rows`));
      return pages;
    };
    const valuesOf = async (i: number, convert: Convert): Promise<unknown[]> => {
      const pages = await pagesOf(i); // checked to hold the group's rows before anything is allocated for them
      const out: unknown[] = new Array(end - start);
      for (const page of pages) {
        const from = Math.max(start, page.start);
        const to = Math.min(end, page.start + page.data.length);
        for (let r = from; r < to; r++) out[r - start] = convert(page.data[r - page.start]);
      }
      return out;
    };
    const read = (i: number) => valuesOf(i, columns[i].convert);
    const readInternal = async (i: number, type: IcebergType): Promise<unknown[] | undefined> => {
      const internal = columns[i].internal(type);
      if (!internal) return undefined;
      let inRange = true;
      const values = await valuesOf(i, (v) => {
        if (v === undefined || v === null) return null;
        const x = internal(v);
        if (x === undefined) inRange = false;
        return x;
      });
      return inRange ? values : undefined;
    };
    yield { first: start, rowCount: end - start, names, read, readInternal };
  }
}

/**
 * Streams a Parquet file's rows one row group at a time (memory: one row group's decoded columns),
 * yielding at most `batchRows` rows a time; values as `parquetGroups` gives them.
 *
 * @example
 * for await (const rows of parquetRows(file)) console.log(rows.length);
 */
export async function* parquetRows(file: RandomAccessFile, opts: { batchRows?: number } = {}): AsyncGenerator<Record<string, unknown>[]> {
  // Columns first, then rows a batch at a time: a DuckDB row group of 122,880 rows made into
  // objects at once took most of a Worker's 128 MB.
  yield* sourceRows(parquetGroups(file), opts.batchRows ?? 10_000);
}

type Convert = (v: unknown) => unknown;

/** Microseconds of 0001-01-01 and of the last one of 9999: the range the ISO text round trip is known to keep. */
const MIN_MICROS = -62135596800000000n;
const MAX_MICROS = 253402300799999999n;

/**
 * How a flat column's raw values become the internal values of a table field of `type` exactly as
 * the row path makes them (the value `nodeConverter` gives, then the field's converter), without
 * the text in between; undefined for the pairs not covered (they go through `read`). The function
 * gives undefined for a value outside what the pair is checked for (then the whole column goes
 * through `read`).
 */
function internalConverter(node: SchemaTree, type: IcebergType): ((v: unknown) => unknown) | undefined {
  const e = node.element;
  if (node.children.length > 0 || e.repetition_type === "REPEATED") return undefined;
  const ct = e.converted_type;
  const lt = e.logical_type;
  const plain = !lt && !ct;
  // Both annotations must agree (hyparquet reads a column as unsigned if either says so, and a
  // malformed footer may say two things): anything else goes the long way.
  const signedInt = (bits: number) =>
    (!lt || (lt.type === "INTEGER" && lt.isSigned && lt.bitWidth <= bits)) && (!ct || ct === `INT_${bits}` || (bits === 32 && (ct === "INT_16" || ct === "INT_8")));
  switch (type) {
    case "long":
      if (e.type === "INT64" && signedInt(64)) return (v) => v;
      if (e.type === "INT32" && signedInt(32)) return (v) => v;
      return undefined;
    case "int":
      return e.type === "INT32" && signedInt(32) ? (v) => v : undefined;
    case "double":
      return (e.type === "DOUBLE" || e.type === "FLOAT") && plain ? (v) => v : undefined;
    case "float":
      return e.type === "FLOAT" && plain ? (v) => v : undefined;
    case "boolean":
      return e.type === "BOOLEAN" && plain ? (v) => v : undefined;
    case "string":
      // hyparquet decodes these to text (utf8 false keeps only unannotated byte arrays as bytes).
      return e.type === "BYTE_ARRAY" && (ct === "UTF8" || lt?.type === "STRING") && (!ct || ct === "UTF8") && (!lt || lt.type === "STRING") ? (v) => v : undefined;
    case "timestamp":
    case "timestamptz": {
      if (e.type !== "INT64" || (lt && lt.type !== "TIMESTAMP") || (ct && ct !== "TIMESTAMP_MICROS" && ct !== "TIMESTAMP_MILLIS")) return undefined;
      const utc = lt?.type === "TIMESTAMP" ? lt.isAdjustedToUTC : ct === "TIMESTAMP_MICROS" || ct === "TIMESTAMP_MILLIS";
      const unit = lt?.type === "TIMESTAMP" ? lt.unit : ct === "TIMESTAMP_MICROS" ? "MICROS" : ct === "TIMESTAMP_MILLIS" ? "MILLIS" : undefined;
      if ((unit !== "MICROS" && unit !== "MILLIS") || utc !== (type === "timestamptz")) return undefined;
      const scale = unit === "MILLIS" ? 1000n : 1n;
      return (v) => {
        const micros = BigInt(v as bigint) * scale;
        return micros < MIN_MICROS || micros > MAX_MICROS ? undefined : micros;
      };
    }
    default:
      return undefined;
  }
}

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

/**
 * Checks the run lengths of every RLE/bit-packed hybrid run in a row group (repetition and
 * definition levels, dictionary indices) against the values its page declares, before hyparquet
 * reads it. hyparquet (1.31) writes a run into a plain Array without a bound, so one mutated run
 * header ("2^31 copies of 0") grew an array until V8 aborted the process ("invalid size error"),
 * and a bit-packed run of width 0 looped for as long: found by test/decode/parquet.fuzz.test.ts.
 * The row group's bytes are fetched once, here; the file returned serves hyparquet's reads of
 * them from memory. Pages stored compressed are decompressed for the check only when they hold
 * levels or dictionary indices.
 */
async function checkRuns(file: RandomAccessFile, metadata: FileMetaData, g: number): Promise<RandomAccessFile> {
  const chunks = metadata.row_groups[g].columns.flatMap((c) => (c.meta_data ? [c.meta_data] : []));
  if (chunks.length === 0) return file;
  const range = (m: (typeof chunks)[number]) => {
    const start = Number(m.dictionary_page_offset || m.data_page_offset);
    return [start, Math.min(file.byteLength, start + Number(m.total_compressed_size))];
  };
  const from = Math.max(0, Math.min(...chunks.map((m) => range(m)[0])));
  const to = Math.max(...chunks.map((m) => range(m)[1]));
  if (!(to > from)) return file; // hyparquet says what is wrong with such offsets
  const bytes = new Uint8Array(await file.slice(from, to));
  for (const m of chunks) {
    const [start, end] = range(m);
    const path = getSchemaPath(metadata.schema, m.path_in_schema);
    const [maxRep, maxDef] = [getMaxRepetitionLevel(path), getMaxDefinitionLevel(path)];
    const column = m.path_in_schema.join(".");
    const view = new DataView(bytes.buffer, bytes.byteOffset + start - from, Math.max(0, end - start));
    const reader = { view, offset: 0 };
    while (reader.offset < view.byteLength) {
      const header = parquetHeader(reader);
      // A negative size would step back to the same header, forever.
      if (!isCount(header.compressed_page_size) || !isCount(header.uncompressed_page_size)) throw new Error(`column ${column}: a page of ${header.compressed_page_size} bytes`);
      const pageStart = reader.offset;
      reader.offset += header.compressed_page_size;
      const body = () => new Uint8Array(view.buffer, view.byteOffset + pageStart, Math.min(header.compressed_page_size, view.byteLength - pageStart));
      const v1 = header.data_page_header;
      const v2 = header.data_page_header_v2;
      const dictionary = (e: string | undefined) => e === "RLE_DICTIONARY" || e === "PLAIN_DICTIONARY" || e === "RLE";
      // Dictionary indices: a byte of bit width, then runs; RLE booleans: width 1, a 4-byte length, then runs.
      const values = (at: DataView, n: number) =>
        path[path.length - 1].element.type === "BOOLEAN" ? runs(at, 4, 4 + at.getUint32(0, true), 1, n, column) : runs(at, 1, at.byteLength, at.getUint8(0), n, column);
      if (v1 && !isCount(v1.num_values)) throw new Error(`column ${column}: a data page header of ${String(v1.num_values)} values`);
      if (v1 && (maxRep > 0 || maxDef > 0 || dictionary(v1.encoding))) {
        const page = decompressPage(body(), header.uncompressed_page_size, m.codec, PARQUET_COMPRESSORS);
        const at = { view: new DataView(page.buffer, page.byteOffset, page.byteLength), offset: 0 };
        for (const max of [maxRep, maxDef]) {
          if (max === 0) continue;
          const length = at.view.getUint32(at.offset, true);
          runs(at.view, at.offset + 4, at.offset + 4 + length, bitWidth(max), v1.num_values, column);
          at.offset += 4 + length;
        }
        if (dictionary(v1.encoding)) values(new DataView(page.buffer, page.byteOffset + at.offset, page.byteLength - at.offset), v1.num_values);
      } else if (v2) {
        const rep = v2.repetition_levels_byte_length;
        const def = v2.definition_levels_byte_length;
        // Required fields (parquet.thrift): a missing or mistyped length made hyparquet read a length out of the data.
        if (!isCount(v2.num_values) || !isCount(rep) || !isCount(def) || rep + def > header.compressed_page_size) {
          throw new Error(`column ${column}: a data page header with levels of ${String(rep)} and ${String(def)} bytes for ${String(v2.num_values)} values`);
        }
        if (maxRep > 0) runs(view, pageStart, pageStart + rep, bitWidth(maxRep), v2.num_values, column);
        if (maxDef > 0) runs(view, pageStart + rep, pageStart + rep + def, bitWidth(maxDef), v2.num_values, column);
        if (dictionary(v2.encoding)) {
          const compressed = body().subarray(rep + def);
          const page = v2.is_compressed ? decompressPage(compressed, header.uncompressed_page_size - rep - def, m.codec, PARQUET_COMPRESSORS) : compressed;
          values(new DataView(page.buffer, page.byteOffset, page.byteLength), v2.num_values);
        }
      }
    }
  }
  return {
    byteLength: file.byteLength,
    slice: (s, e = file.byteLength) => (s >= from && e <= to ? bytes.slice(s - from, e - from).buffer : file.slice(s, e)),
  };
}

const isCount = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;

/** Bits per level for levels up to `max` (Parquet's "bit width of the max level"). */
const bitWidth = (max: number) => 32 - Math.clz32(max);

/**
 * Refuses a run in bytes [at, end) that would make hyparquet put out more than the `n` values a
 * page declares: an RLE run longer than what is left, or a bit-packed run of width 0 (it reads no
 * bytes, so nothing else ends it). Other bit-packed runs may be padded (writers do, and hyparquet
 * drops the surplus); their bytes bound them.
 */
function runs(view: DataView, at: number, end: number, width: number, n: number, column: string): void {
  const reader = { view, offset: at };
  let seen = 0;
  while (seen < n && reader.offset < end) {
    const header = readVarInt(reader);
    const packed = (header & 1) === 1;
    const count = packed ? (header >>> 1) * 8 : header >>> 1;
    if ((packed ? width === 0 && count > n - seen + 7 : count > n - seen)) {
      throw new Error(`column ${column}: a run of ${count} values where the page has ${n - seen} left`);
    }
    seen += count;
    reader.offset += packed ? (header >>> 1) * width : (width + 7) >> 3;
  }
}
