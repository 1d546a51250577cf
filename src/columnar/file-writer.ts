import type { FileMetaData, KeyValue, RowGroup, SchemaElement, SchemaTree } from "hyparquet";
import { ByteWriter } from "hyparquet-writer/src/bytewriter.js";
import { writeMetadata } from "hyparquet-writer/src/metadata.js";
import { schemaPathResolver } from "hyparquet-writer/src/schema.js";
import type { ColumnBatch } from "../iceberg/rows.js";
import type { Schema } from "../iceberg/types.js";
import { codecOptions, pageCompressor, type Compressors } from "../parquet/codecs.js";
import { fileMetrics } from "../parquet/metrics.js";
import { parquetSchema } from "../parquet/schema.js";
import { writeColumnChunk, type ChunkOptions, type ChunkTarget } from "./column-chunk.js";
import { newColumn, typedFromValues, ValueColumn, type Column, type ColumnKind, type TypedBatch } from "./columns.js";
import { writeValueChunks } from "./value-chunk.js";

/** What both data file writers take and give (see `DataFileWriter` in parquet/writer.ts). */
export interface FileWriterOptions {
  schema: Schema;
  codec?: string;
  rowGroupRows: number;
  rowGroupBytes: number;
  onChunk?: (chunk: Uint8Array) => void | Promise<void>;
  kvMetadata: KeyValue[];
}

const MAGIC = 0x31524150; // "PAR1"
/** The footer's `created_by` of every file Floe writes (data files, compaction's joins). */
export const CREATED_BY = "floe";

/**
 * Writes a Parquet data file from columns, a row group at a time. This writer exists because
 * hyparquet-writer, fed ready-made JS arrays, tops out at about half DuckDB's speed: it encodes
 * each string with its own TextEncoder call, builds statistics and tries a dictionary per value,
 * and compresses snappy a byte at a time. Here the flat typed columns (see `ColumnKind`) stay in
 * typed arrays from the scanner (or from the reference conversion) to the page, strings stay UTF-8
 * and interned (column-chunk.ts); `value` columns (nested, decimal, uuid, binary, fixed) are
 * encoded by hyparquet-writer's column encoder (value-chunk.ts), and the footer is hyparquet-writer's
 * (a cold path).
 */
export class ColumnarFileWriter {
  readonly schema: Schema;
  readonly rowGroups: RowGroup[] = [];
  private readonly kinds: ColumnKind[];
  private readonly elements: SchemaElement[];
  private readonly targets: ChunkTarget[];
  private readonly chunk: ChunkOptions;
  private readonly compressors: Compressors;
  /** Each top-level column's path in the Parquet schema tree (what hyparquet-writer's encoder takes). */
  private readonly paths: SchemaTree[][];
  private readonly out = new ByteWriter();
  private readonly chunks: Uint8Array[] = [];
  private pending: Column[] | null = null;
  /** `pending` is a batch's own columns, taken as they were. */
  private adopted = false;
  private pendingRows = 0;
  private pendingBytes = 0;
  private rows = 0;

  constructor(
    private readonly opts: FileWriterOptions,
    kinds: ColumnKind[],
  ) {
    this.schema = opts.schema;
    this.kinds = kinds;
    this.elements = parquetSchema(opts.schema);
    // Typed columns are flat: their element is the one after the root that bears their name.
    this.targets = opts.schema.fields.map((f) => ({ path: [f.name], type: this.elements.find((e) => e.name === f.name && e.field_id === f.id)?.type ?? "BYTE_ARRAY", required: f.required }));
    this.chunk = pageCompressor(opts.codec ?? "snappy");
    this.compressors = codecOptions(opts.codec ?? "snappy").compressors;
    const resolve = schemaPathResolver(this.elements);
    this.paths = opts.schema.fields.map((f) => resolve([f.name]));
    this.out.appendUint32(MAGIC);
  }

  get rowCount(): number {
    return this.rows;
  }

  get bytesWritten(): number {
    return this.out.offset;
  }

  get pendingSize(): number {
    return this.pendingBytes;
  }

  async write(batch: ColumnBatch | TypedBatch): Promise<void> {
    const typed = "typed" in batch ? batch : typedFromValues(this.kinds, batch.columns, batch.rowCount, batch.approxBytes);
    const perRow = typed.rowCount ? typed.approxBytes / typed.rowCount : 0;
    let start = 0;
    while (start < typed.rowCount) {
      const roomRows = this.opts.rowGroupRows - this.pendingRows;
      const roomBytes = perRow > 0 ? Math.max(1, Math.floor((this.opts.rowGroupBytes - this.pendingBytes) / perRow)) : roomRows;
      const take = Math.min(typed.rowCount - start, roomRows, roomBytes);
      if (this.pendingRows === 0 && start === 0 && take === typed.rowCount) {
        this.pending = typed.columns; // the whole batch becomes the row group: no copy
        this.adopted = true;
      } else {
        // The caller's columns are never appended to: a batch may be written again (the consumer
        // keeps a message's scan across a retried claim), so an adopted row group is copied first.
        if (this.adopted) this.pending = this.pending!.map((col) => copyColumn(col));
        this.adopted = false;
        this.pending ??= this.kinds.map((k) => newColumn(k));
        for (let c = 0; c < this.pending.length; c++) this.pending[c].appendRows(typed.columns[c], start, start + take);
      }
      this.pendingRows += take;
      this.pendingBytes += take * perRow;
      this.rows += take;
      start += take;
      if (this.pendingRows >= this.opts.rowGroupRows || this.pendingBytes >= this.opts.rowGroupBytes) await this.flush();
    }
  }

  async flush(): Promise<void> {
    if (!this.pending || this.pendingRows === 0) return;
    const groupStart = this.out.offset;
    const columns = this.pending.flatMap((col, c) =>
      col instanceof ValueColumn ? writeValueChunks(this.out, this.paths[c], col.values, this.chunk.codec, this.compressors) : [writeColumnChunk(this.out, col, this.targets[c], this.chunk)],
    );
    let total = 0n;
    for (const c of columns) total += c.meta_data!.total_uncompressed_size;
    this.rowGroups.push({ columns, total_byte_size: total, num_rows: BigInt(this.pendingRows), total_compressed_size: BigInt(this.out.offset - groupStart) });
    this.pending = null;
    this.adopted = false;
    this.pendingRows = 0;
    this.pendingBytes = 0;
    await this.drain();
  }

  async finish(): Promise<{ chunks: Uint8Array[]; metrics: ReturnType<typeof fileMetrics> }> {
    await this.flush();
    const metadata = {
      version: 2,
      created_by: CREATED_BY,
      schema: this.elements,
      num_rows: BigInt(this.rows),
      row_groups: this.rowGroups,
      key_value_metadata: this.opts.kvMetadata,
    } as FileMetaData;
    writeMetadata(this.out, metadata);
    this.out.appendUint32(MAGIC);
    await this.drain();
    return { chunks: this.chunks, metrics: fileMetrics(this.schema, this.rowGroups, this.rows, this.out.offset) };
  }

  /** Moves the encoded bytes out after every row group so the buffer never holds more than one. */
  private async drain(): Promise<void> {
    const out = this.out;
    if (out.index === 0) return;
    const chunk = new Uint8Array(out.buffer.slice(0, out.index));
    out.index = 0;
    if (this.opts.onChunk) await this.opts.onChunk(chunk);
    else this.chunks.push(chunk);
  }
}

function copyColumn(col: Column): Column {
  const out = newColumn(col.kind, Math.max(col.length, 1));
  out.appendRows(col, 0, col.length);
  return out;
}
