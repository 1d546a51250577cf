import { cutJson, type JsonSink } from "../decode/json.js";
import { checkLine, describeJson, lineEnd, ndjsonLines, parseLine, type LineCounter } from "../decode/ndjson-lines.js";
import { FloeError } from "../errors.js";
import type { RowConverter } from "../iceberg/rows.js";
import type { Schema } from "../iceberg/types.js";
import { columnKinds, newColumn, type Column, type TypedBatch } from "./columns.js";
import { LineScanner } from "./ndjson-scan.js";

/**
 * One batch of NDJSON rows: those the scanner took, already in typed columns of `schema`, and
 * those it did not, parsed by the reference reading, with their places in the batch.
 */
export interface ScannedBatch {
  /** Index of the batch's first row in the input (0-based, blank lines not counted). */
  first: number;
  rowCount: number;
  /** The schema the scanned rows were read against (null: the table has none yet, nothing was scanned). */
  schema: Schema | null;
  fast: Column[] | null;
  fastRows: number;
  slow: unknown[];
  /** Positions of the slow rows in the batch, ascending. */
  slowAt: number[];
  /** The slow rows' indexes in the input, which refusals name (`first + slowAt[k]` unless the batch was filtered). */
  slowIndex: number[];
  /** Bytes of the batch's lines: the size estimate row groups are cut by. */
  approxBytes: number;
}

export interface ScanOptions {
  batchRows: number;
  maxLineBytes: number;
  /** Rows the columns make room for up front (default `batchRows`; less when the input is known to be small). */
  capacity?: number;
  /** Refuse a line that is JSON but not an object as the upload decoder does (`NDJSON row N: expected a JSON object`), before the batch is converted. */
  objectsOnly?: boolean;
}

/**
 * NDJSON bytes to batches of rows with the reference path's exact semantics (`ndjsonBatches`: the
 * same lines, blank lines skipped, the same refusals in the same order, batches cut at the same
 * rows), except that the lines the scanner takes never become JS objects. `schemaOf` is asked at
 * the start of each batch: the consumer of the batches may evolve the schema between them.
 *
 * @example
 * for await (const b of scanNdjson(body, { batchRows: 10_000, maxLineBytes: 1 << 20 }, () => writer.schema)) await writer.writeScanned(b);
 */
export async function* scanNdjson(stream: ReadableStream<Uint8Array>, opts: ScanOptions, schemaOf: () => Schema | null): AsyncGenerator<ScannedBatch> {
  const batch = new BatchBuilder(opts, schemaOf);
  const at: LineCounter = { line: 1 };
  for await (const stretch of ndjsonLines(stream, opts.maxLineBytes, at)) {
    const buf = stretch.buf;
    for (let from = stretch.start; from < stretch.end; ) {
      // The scanner finds the line's end as it reads it; a line it does not take is cut here.
      const scanner = batch.scanner();
      const taken = scanner ? scanner.scan(buf, from, stretch.end) : -1;
      const end = taken === -1 ? lineEnd(stretch, from) : scanner!.lineEnd;
      const line = at.line++;
      checkLine(end - from, line, opts.maxLineBytes);
      const bytes = end - from + 1;
      let full = false;
      if (taken === 0) full = batch.taken(bytes);
      else if (taken === -1) {
        const v = parseLine(buf.subarray(from, end), line);
        if (v !== undefined) full = batch.handedOver(v, bytes);
      }
      from = end + 1;
      if (full) yield batch.cut();
    }
  }
  if (batch.rows > 0) yield batch.cut();
}

/**
 * A JSON upload (one array of objects, or objects one after another) to scanned batches, with the
 * reference reading's exact semantics (`jsonRows`: the same elements, refusals named by element,
 * line and byte, batches handed out at the same chunk ends). Each element the cutter finds is
 * offered to the scanner; one it does not take (an element over several lines, pretty-printed, is
 * not) is parsed as `jsonRows` parses it. The schema is asked for when a batch starts.
 */
export async function* scanJson(stream: ReadableStream<Uint8Array>, opts: ScanOptions, schemaOf: () => Schema | null): AsyncGenerator<ScannedBatch> {
  const batch = new BatchBuilder(opts, schemaOf);
  const done: ScannedBatch[] = [];
  const sink: JsonSink<ScannedBatch> = {
    element(buf, start, end, place, parse) {
      const scanner = batch.scanner();
      const bytes = end - start + 1;
      const full = scanner && scanner.scan(buf, start, end) === 0 && scanner.lineEnd === end ? batch.taken(bytes) : batch.handedOver(parse(buf.subarray(start, end), place), bytes);
      if (full) done.push(batch.cut());
    },
    endChunk() {},
    ready(final) {
      if (final && batch.rows > 0) done.push(batch.cut());
      return done.splice(0);
    },
  };
  yield* cutJson(stream, { batchRows: opts.batchRows, maxRecordBytes: opts.maxLineBytes }, sink);
}

/** The batch being filled by a scan: the scanner for the schema of the moment, the rows it handed over, the count. */
class BatchBuilder {
  rows = 0;
  private first = 0;
  private bytes = 0;
  private slow: unknown[] = [];
  private slowAt: number[] = [];
  private current: LineScanner | null = null;
  private scannedWith: Schema | null = null;

  constructor(
    private readonly opts: ScanOptions,
    private readonly schemaOf: () => Schema | null,
  ) {}

  /** The scanner for this batch; at a batch's first row the schema is asked for again (it may have evolved). */
  scanner(): LineScanner | null {
    if (this.rows === 0) {
      const schema = this.schemaOf();
      if (schema !== this.scannedWith || !this.current) {
        this.scannedWith = schema;
        this.current = schema ? LineScanner.for(schema, Math.min(this.opts.capacity ?? this.opts.batchRows, this.opts.batchRows)) : null;
      }
    }
    return this.current;
  }

  /** A row the scanner took; true when the batch is full. */
  taken(bytes: number): boolean {
    this.bytes += bytes;
    return ++this.rows >= this.opts.batchRows;
  }

  /** A row handed over, parsed; true when the batch is full. */
  handedOver(row: unknown, bytes: number): boolean {
    this.slow.push(row);
    this.slowAt.push(this.rows);
    return this.taken(bytes);
  }

  cut(): ScannedBatch {
    const { first, rows, slow, slowAt } = this;
    if (this.opts.objectsOnly) checkObjects(first, slow, slowAt);
    const fast = this.current && this.current.taken > 0 ? this.current.take() : null;
    const b: ScannedBatch = { first, rowCount: rows, schema: this.scannedWith, fast, fastRows: rows - slow.length, slow, slowAt, slowIndex: slowAt.map((p) => first + p), approxBytes: this.bytes };
    this.first += rows;
    this.rows = 0;
    this.bytes = 0;
    this.slow = [];
    this.slowAt = [];
    return b;
  }
}

/**
 * The rows of a scanned batch, in input order, as the writer of `schema` takes them. `schema` is
 * the batch's own or one evolved from it by the slow rows (columns only added); the slow rows are
 * converted by the reference converter, which names their refusals by their place in the input.
 */
export function batchRows(b: ScannedBatch, schema: Schema, convert: RowConverter): TypedBatch | ReturnType<RowConverter> {
  if (b.slow.length === 0 && b.schema === schema) return { typed: true, columns: b.fast!, rowCount: b.rowCount, approxBytes: b.approxBytes };
  const converted = convert(b.slow, b.first, b.slowIndex);
  if (b.fastRows === 0) return converted;
  const oldIndex = new Map(b.schema!.fields.map((f, i) => [f.id, i]));
  const from = schema.fields.map((f) => oldIndex.get(f.id) ?? -1);
  const kinds = columnKinds(schema);
  const columns = kinds.map((k) => newColumn(k));
  walk(b, (_row, fast, slow) => {
    for (let c = 0; c < columns.length; c++) {
      if (fast < 0) columns[c].appendValue(converted.columns[c][slow] as never);
      else if (from[c] >= 0) columns[c].appendRow(b.fast![from[c]], fast);
      else columns[c].appendNull();
    }
  });
  return { typed: true, columns, rowCount: b.rowCount, approxBytes: b.approxBytes };
}

/** Calls `visit` for every row of the batch in order with its index among the fast rows or among the slow ones (-1 for the other). */
function walk(b: ScannedBatch, visit: (row: number, fast: number, slow: number) => void): void {
  let f = 0;
  let s = 0;
  for (let row = 0; row < b.rowCount; row++) {
    if (s < b.slowAt.length && b.slowAt[s] === row) visit(row, -1, s++);
    else visit(row, f++, -1);
  }
}

/** decodeRows' rule for NDJSON uploads: the first row that is not an object, named as it names it (fast rows are objects). */
function checkObjects(first: number, slow: unknown[], slowAt: number[]): void {
  for (let k = 0; k < slow.length; k++) {
    const v = slow[k];
    if (v !== null && typeof v === "object" && !Array.isArray(v)) continue;
    const row = first + slowAt[k];
    throw new FloeError("invalid_input", `NDJSON row ${row}: expected a JSON object, got ${describeJson(v)}`, { details: { format: "ndjson", row } });
  }
}

/**
 * The batch with only the rows `keep` accepts (by position in the batch), in order: the queue
 * consumer writes only the rows its claim found fresh. Slow rows keep their input indexes, so
 * refusals still name the row as sent, plus `offset` (a message's first row in its request).
 */
export function keepRows(b: ScannedBatch, keep: (position: number) => boolean, offset = 0): ScannedBatch {
  const fastKept: number[] = [];
  const slow: unknown[] = [];
  const slowAt: number[] = [];
  const slowIndex: number[] = [];
  let rows = 0;
  walk(b, (row, fast, s) => {
    if (!keep(row)) return;
    if (fast >= 0) fastKept.push(fast);
    else {
      slow.push(b.slow[s]);
      slowAt.push(rows);
      slowIndex.push(b.slowIndex[s] + offset);
    }
    rows++;
  });
  const fast = b.fast && fastKept.length ? (fastKept.length === b.fastRows ? b.fast : b.fast.map((c) => c.take(fastKept))) : null;
  return { first: b.first + offset, rowCount: rows, schema: b.schema, fast, fastRows: fastKept.length, slow, slowAt, slowIndex, approxBytes: b.rowCount ? (b.approxBytes * rows) / b.rowCount : 0 };
}
