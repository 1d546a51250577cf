import type { KeyValue, RowGroup, SchemaElement } from "hyparquet";
import { ByteWriter } from "hyparquet-writer/src/bytewriter.js";
import { ParquetWriter } from "hyparquet-writer/src/parquet-writer.js";
import { ColumnarFileWriter } from "../columnar/file-writer.js";
import { columnKinds, type TypedBatch } from "../columnar/columns.js";
import type { ColumnBatch } from "../iceberg/rows.js";
import type { Schema } from "../iceberg/types.js";
import { codecOptions } from "./codecs.js";
import { fileMetrics, type WrittenMetrics } from "./metrics.js";
import { parquetSchema } from "./schema.js";

export interface DataFileWriterOptions {
  schema: Schema;
  /** `snappy` (default), `gzip` or `uncompressed`. */
  codec?: string;
  /**
   * A row group is cut when it holds this many rows or `rowGroupBytes` of converted values,
   * whichever comes first. These two numbers are the memory bound of conversion: at most one row
   * group of converted values is held, plus hyparquet-writer's encoding buffers for it.
   */
  rowGroupRows?: number;
  rowGroupBytes?: number;
  /** Receives the file's bytes as each row group is encoded; without it the bytes are kept. */
  onChunk?: (chunk: Uint8Array) => void | Promise<void>;
}

/** Result of a finished file: its bytes (unless streamed out) and its Iceberg metrics. */
export interface WrittenFile {
  chunks: Uint8Array[];
  metrics: WrittenMetrics;
}

export const DEFAULT_ROW_GROUP_ROWS = 10_000;
export const CREATED_BY = "floe (hyparquet-writer)";
export { COLUMNAR_CREATED_BY } from "../columnar/file-writer.js";

/** The footer's key-value metadata: `iceberg.schema`, the table schema JSON, as Iceberg's writers put it. */
export function footerMetadata(schema: Schema): KeyValue[] {
  return [{ key: "iceberg.schema", value: JSON.stringify(schema) }];
}
export const DEFAULT_ROW_GROUP_BYTES = 8 * 1024 * 1024;

/**
 * Writes one Parquet data file from converted column batches, a row group at a time. The footer
 * carries `iceberg.schema` (the table schema JSON) as Iceberg's writers do, so readers that map
 * columns by name (icebird) and by id (Spark, Trino, DuckDB) both find them. A flat schema (every
 * column boolean, int, long, float, double, date, time, timestamp or string) is written by our own
 * column writer (`ColumnarFileWriter`); any other by hyparquet-writer.
 *
 * @example
 * const w = new DataFileWriter({ schema });
 * await w.write(convert(rows, 0));
 * const { chunks, metrics } = await w.finish();
 */
export class DataFileWriter {
  readonly schema: Schema;
  private readonly impl: ColumnarFileWriter | NestedFileWriter;

  constructor(opts: DataFileWriterOptions) {
    this.schema = opts.schema;
    const kinds = columnKinds(opts.schema);
    const o = { ...opts, rowGroupRows: opts.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS, rowGroupBytes: opts.rowGroupBytes ?? DEFAULT_ROW_GROUP_BYTES, kvMetadata: footerMetadata(opts.schema) };
    this.impl = kinds ? new ColumnarFileWriter(o, kinds) : new NestedFileWriter(o);
  }

  /** Whether this file is written by our own column writer (typed batches go straight to pages). */
  get columnar(): boolean {
    return this.impl instanceof ColumnarFileWriter;
  }

  /** Rows written so far, flushed or pending. */
  get rowCount(): number {
    return this.impl.rowCount;
  }

  /** Bytes of the file encoded so far (pending rows not included). */
  get bytesWritten(): number {
    return this.impl.bytesWritten;
  }

  /** The row groups written so far, with statistics as untruncated JS values. */
  get rowGroups(): RowGroup[] {
    return this.impl.rowGroups;
  }

  /** Size of converted values waiting for the next row group. */
  get pendingSize(): number {
    return this.impl.pendingSize;
  }

  /** Adds converted rows; cuts row groups as the bounds are reached. */
  write(batch: ColumnBatch | TypedBatch): Promise<void> {
    if (this.impl instanceof ColumnarFileWriter) return this.impl.write(batch);
    // Typed batches are only made for flat schemas, which this writer never has.
    if ("typed" in batch) throw new Error("a typed batch for a schema with nested columns");
    return this.impl.write(batch);
  }

  /** Encodes the pending rows as a row group now. */
  flush(): Promise<void> {
    return this.impl.flush();
  }

  /** Writes the footer; returns the bytes (unless streamed through `onChunk`) and the Iceberg metrics. */
  finish(): Promise<WrittenFile> {
    return this.impl.finish();
  }
}

/**
 * hyparquet-writer's encoding, for schemas with nested or other columns our column writer does not
 * type. Exported for the tests that hold our column writer to it.
 */
export class NestedFileWriter {
  readonly schema: Schema;
  private readonly elements: SchemaElement[];
  private readonly writer: ParquetWriter;
  private readonly out: ByteWriter;
  private readonly chunks: Uint8Array[] = [];
  private readonly rowGroupRows: number;
  private readonly rowGroupBytes: number;
  private pending: unknown[][];
  private pendingRows = 0;
  private pendingBytes = 0;
  private rows = 0;

  constructor(opts: DataFileWriterOptions & { rowGroupRows: number; rowGroupBytes: number }) {
    this.schema = opts.schema;
    this.elements = parquetSchema(opts.schema);
    this.rowGroupRows = opts.rowGroupRows;
    this.rowGroupBytes = opts.rowGroupBytes;
    this.pending = opts.schema.fields.map(() => []);
    const out = new ByteWriter();
    const chunks = this.chunks;
    const onChunk = opts.onChunk;
    // Move the encoded bytes out after every row group so the buffer never holds more than one.
    const drain = () => {
      if (out.index === 0) return;
      const chunk = new Uint8Array(out.buffer.slice(0, out.index));
      out.index = 0;
      if (onChunk) return onChunk(chunk);
      chunks.push(chunk);
    };
    // hyparquet-writer calls flush() after each row group and finish() at the end (its Writer interface).
    Object.assign(out, { flush: drain, finish: drain });
    this.out = out;
    this.writer = new ParquetWriter({ writer: out, schema: this.elements, ...codecOptions(opts.codec ?? "snappy"), kvMetadata: footerMetadata(opts.schema), createdBy: CREATED_BY });
  }

  /** Rows written so far, flushed or pending. */
  get rowCount(): number {
    return this.rows;
  }

  /** Bytes of the file encoded so far (pending rows not included). */
  get bytesWritten(): number {
    return this.out.offset;
  }

  /** The row groups written so far, as hyparquet-writer describes them (statistics as its untruncated values). */
  get rowGroups(): RowGroup[] {
    return this.writer.row_groups;
  }

  /** Size of converted values waiting for the next row group. */
  get pendingSize(): number {
    return this.pendingBytes;
  }

  async write(batch: ColumnBatch): Promise<void> {
    const perRow = batch.rowCount ? batch.approxBytes / batch.rowCount : 0;
    let start = 0;
    while (start < batch.rowCount) {
      const roomRows = this.rowGroupRows - this.pendingRows;
      const roomBytes = perRow > 0 ? Math.max(1, Math.floor((this.rowGroupBytes - this.pendingBytes) / perRow)) : roomRows;
      const take = Math.min(batch.rowCount - start, roomRows, roomBytes);
      if (this.pendingRows === 0 && start === 0 && take === batch.rowCount) {
        this.pending = batch.columns; // the whole batch becomes the pending group: no copy
      } else {
        for (let c = 0; c < this.pending.length; c++) {
          const src = batch.columns[c];
          const dst = this.pending[c];
          for (let i = start; i < start + take; i++) dst.push(src[i]);
        }
      }
      this.pendingRows += take;
      this.pendingBytes += take * perRow;
      this.rows += take;
      start += take;
      if (this.pendingRows >= this.rowGroupRows || this.pendingBytes >= this.rowGroupBytes) await this.flush();
    }
  }

  /** Encodes the pending rows as a row group now. */
  async flush(): Promise<void> {
    if (this.pendingRows === 0) return;
    const columnData = this.schema.fields.map((f, i) => ({ name: f.name, data: this.pending[i] }));
    const count = this.pendingRows;
    this.pending = this.schema.fields.map(() => []);
    this.pendingRows = 0;
    this.pendingBytes = 0;
    await this.writer.write({ columnData, rowGroupSize: count });
  }

  /** Writes the footer; returns the bytes (unless streamed through `onChunk`) and the Iceberg metrics. */
  async finish(): Promise<WrittenFile> {
    await this.flush();
    await this.writer.finish();
    return {
      chunks: this.chunks,
      metrics: fileMetrics(this.schema, this.writer.row_groups, this.rows, this.out.offset),
    };
  }
}
