import type { KeyValue, RowGroup } from "hyparquet";
import { ColumnarFileWriter } from "../columnar/file-writer.js";
import { columnKinds, type TypedBatch } from "../columnar/columns.js";
import type { ColumnBatch } from "../iceberg/rows.js";
import type { Schema } from "../iceberg/types.js";
import type { WrittenMetrics } from "./metrics.js";

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
export { CREATED_BY } from "../columnar/file-writer.js";

/** The footer's key-value metadata: `iceberg.schema`, the table schema JSON, as Iceberg's writers put it. */
export function footerMetadata(schema: Schema): KeyValue[] {
  return [{ key: "iceberg.schema", value: JSON.stringify(schema) }];
}
export const DEFAULT_ROW_GROUP_BYTES = 8 * 1024 * 1024;

/**
 * Writes one Parquet data file from converted column batches, a row group at a time. The footer
 * carries `iceberg.schema` (the table schema JSON) as Iceberg's writers do, so readers that map
 * columns by name (icebird) and by id (Spark, Trino, DuckDB) both find them. The encoding is
 * `ColumnarFileWriter`'s (our own for flat typed columns, hyparquet-writer's for the others).
 *
 * @example
 * const w = new DataFileWriter({ schema });
 * await w.write(convert(rows, 0));
 * const { chunks, metrics } = await w.finish();
 */
export class DataFileWriter {
  readonly schema: Schema;
  private readonly impl: ColumnarFileWriter;

  constructor(opts: DataFileWriterOptions) {
    this.schema = opts.schema;
    const o = { ...opts, rowGroupRows: opts.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS, rowGroupBytes: opts.rowGroupBytes ?? DEFAULT_ROW_GROUP_BYTES, kvMetadata: footerMetadata(opts.schema) };
    this.impl = new ColumnarFileWriter(o, columnKinds(opts.schema));
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
