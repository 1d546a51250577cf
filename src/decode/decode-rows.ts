import { FloeError } from "../errors.js";
import { arrowGroups } from "./arrow.js";
import { nonEmpty, readAll } from "./bytes.js";
import { gunzip } from "./gzip.js";
import { sourceRows, type ColumnSource } from "./columns.js";
import { csvGroups, type CsvOptions } from "./csv.js";
import type { UploadFormat } from "./format.js";
import { jsonRows } from "./json.js";
import { ndjsonBatches } from "./ndjson.js";
import { describeJson } from "./ndjson-lines.js";
import { fileOfBytes, parquetGroups, type RandomAccessFile } from "./parquet.js";

export interface DecodeOptions {
  format: UploadFormat;
  /** The bytes are gzip-compressed (the whole file, as `.csv.gz`; not Parquet's internal codecs). */
  gzip?: boolean;
  /** Most rows per yielded batch (default 10 000). */
  batchRows?: number;
  csv?: CsvOptions;
  /** The input's size in bytes when known (an R2 object's): sizes the buffer of a file read whole. */
  size?: number;
  /**
   * Parquet only: random access to the (uncompressed) file, e.g. ranged R2 gets. The footer and
   * one row group at a time are fetched; the stream is not read. Without it the stream is read
   * whole, up to `maxBufferBytes`.
   */
  file?: RandomAccessFile;
  /** Longest NDJSON line, JSON element or CSV record (default 16 MiB): FloeError `too_large` beyond. */
  maxRecordBytes?: number;
  /** Largest file read whole: Parquet without `file`, gzip Parquet, an Arrow file (default 64 MiB). */
  maxBufferBytes?: number;
}

/** Rows `first` … `first + rows.length - 1` of the file (0-based, counted across batches). */
export interface RowBatch {
  first: number;
  rows: Record<string, unknown>[];
}

export const DEFAULT_RECORD_BYTES = 16 * 1024 * 1024;
export const DEFAULT_BATCH_ROWS = 10_000;
const DEFAULT_BUFFER_BYTES = 64 * 1024 * 1024;

/**
 * Decodes an uploaded file into batches of rows (plain objects), streaming where the format
 * allows: NDJSON, JSON, CSV and Arrow streams hold one record (and one batch) at a time; Parquet
 * one row group (with `file`, fetching only what it reads); an Arrow *file* is read whole (its
 * schema sits in the footer). A zero-byte input is zero rows, whatever the format (an empty
 * marker object is not an error); so is a gzip member of nothing.
 *
 * Values: JSON and NDJSON give what `JSON.parse` gives; CSV gives text, inferred or declared types
 * (see `csvRows`); Parquet and Arrow give exact JSON-like values (see `values.ts`: int64 → bigint,
 * timestamps and decimals → exact text, binary → base64).
 *
 * Every problem with the bytes is a FloeError `invalid_input` (`too_large` for limits) whose
 * message and `details` say where: CSV and NDJSON lines, JSON elements with line and byte offset,
 * Parquet row groups, Arrow record batches, decompressed bytes for gzip. Offsets in gzip input
 * count decompressed bytes.
 *
 * @example
 * const guess = formatFromName(key, object.httpMetadata?.contentType);
 * if (guess) for await (const { first, rows } of decodeRows(object.body, { ...guess, size: object.size })) await sink(first, rows);
 */
export async function* decodeRows(input: ReadableStream<Uint8Array> | null, opts: DecodeOptions): AsyncGenerator<RowBatch> {
  const batchRows = checkBatchRows(opts.batchRows);
  const maxRecordBytes = opts.maxRecordBytes ?? DEFAULT_RECORD_BYTES;
  let first = 0;
  const counted = async function* (batches: AsyncIterable<Record<string, unknown>[]>): AsyncGenerator<RowBatch> {
    for await (const rows of batches) {
      if (rows.length === 0) continue;
      yield { first, rows };
      first += rows.length;
    }
  };
  if (opts.format !== "ndjson" && opts.format !== "json") {
    yield* counted(sourceRows(decodeGroups(input, opts), batchRows));
    return;
  }
  if (!input) throw new FloeError("invalid_input", `decodeRows: no input for ${opts.format}`, { details: { format: opts.format } });
  const stream = await uploadBytes(input, opts.gzip);
  if (!stream) return;
  if (opts.format === "ndjson") yield* counted(objectsOnly(ndjsonBatches(stream, { batchRows, maxLineBytes: maxRecordBytes }), () => first));
  else yield* counted(jsonRows(stream, { batchRows, maxRecordBytes }));
}

/**
 * The formats with columns (CSV, Parquet, Arrow) as column sources (`ColumnSource`: batches given
 * a column at a time, no row objects), which `decodeRows` makes its rows of: CSV batches of
 * `batchRows`, Parquet row groups (with `file`, fetching only what it reads), Arrow record batches
 * (cut at `batchRows`). The same empty-input, gzip and limit rules as `decodeRows`.
 */
export async function* decodeGroups(input: ReadableStream<Uint8Array> | null, opts: DecodeOptions): AsyncGenerator<ColumnSource> {
  const batchRows = checkBatchRows(opts.batchRows);
  const maxBufferBytes = opts.maxBufferBytes ?? DEFAULT_BUFFER_BYTES;
  if (opts.format === "parquet" && opts.file && !opts.gzip) {
    await input?.cancel().catch(() => {});
    yield* parquetGroups(opts.file);
    return;
  }
  if (!input) throw new FloeError("invalid_input", `decodeRows: no input for ${opts.format}`, { details: { format: opts.format } });
  const stream = await uploadBytes(input, opts.gzip);
  if (!stream) return;
  const size = opts.gzip ? undefined : opts.size;
  switch (opts.format) {
    case "csv":
      yield* csvGroups(stream, { ...opts.csv, batchRows, maxRecordBytes: opts.maxRecordBytes ?? DEFAULT_RECORD_BYTES });
      return;
    case "parquet":
      yield* parquetGroups(fileOfBytes(await readAll(stream, maxBufferBytes, size)));
      return;
    case "arrow":
      yield* arrowGroups(stream, { batchRows, maxBufferBytes, size });
      return;
    default:
      await stream.cancel().catch(() => {});
      throw new FloeError("invalid_input", `unknown upload format ${JSON.stringify(opts.format)}`, { details: { format: opts.format } });
  }
}

function checkBatchRows(n: number | undefined): number {
  const batchRows = n ?? DEFAULT_BATCH_ROWS;
  if (!Number.isInteger(batchRows) || batchRows < 1) throw new FloeError("invalid_input", `batchRows must be a positive integer, got ${batchRows}`, { details: { batchRows } });
  return batchRows;
}

/** NDJSON lines may hold any JSON value; rows must be objects. */
async function* objectsOnly(batches: AsyncIterable<unknown[]>, firstRow: () => number): AsyncGenerator<Record<string, unknown>[]> {
  for await (const batch of batches) {
    for (let i = 0; i < batch.length; i++) {
      const v = batch[i];
      if (v === null || typeof v !== "object" || Array.isArray(v)) {
        const row = firstRow() + i;
        throw new FloeError("invalid_input", `NDJSON row ${row}: expected a JSON object, got ${describeJson(v)}`, { details: { format: "ndjson", row } });
      }
    }
    yield batch as Record<string, unknown>[];
  }
}

/**
 * The bytes of an NDJSON or JSON upload, gunzipped if need be, for the columnar scanner
 * (`scanNdjson`, `scanJson`, which read them as `decodeRows` would); undefined for an empty input,
 * which has no rows.
 */
export async function uploadBytes(input: ReadableStream<Uint8Array>, gzip: boolean | undefined): Promise<ReadableStream<Uint8Array> | undefined> {
  const stream = await nonEmpty(input);
  if (!stream || !gzip) return stream;
  return nonEmpty(gunzip(stream));
}
