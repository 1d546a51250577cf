import type { TypedBatch } from "../columnar/columns.js";
import { DataFileWriter } from "../parquet/writer.js";
import type { ObjectStore } from "../storage/object-store.js";
import type { DataFile } from "./data-file.js";
import { partitionPath, partitioner } from "./partition.js";
import type { ColumnBatch } from "./rows.js";
import type { TableLocation } from "./table.js";
import type { InternalValue, PartitionSpec, Schema } from "./types.js";

export interface FileWriteOptions {
  codec?: string;
  rowGroupRows?: number;
  rowGroupBytes?: number;
  /** A data file is closed and a new one begun past this size (Iceberg's `write.target-file-size-bytes`). */
  targetFileBytes?: number;
  /** Upper bound on converted values held across all open partition writers before the largest is flushed. */
  maxPendingBytes?: number;
}

export const DEFAULT_TARGET_FILE_BYTES = 32 * 1024 * 1024;

interface Open {
  writer: DataFileWriter;
  tuple: InternalValue[];
  path: string;
}

/**
 * Fans converted rows out to one Parquet writer per partition and writes each finished file to
 * the store under `data/{partition path}/{uuid}.parquet`, create-only (a name is never reused, so a
 * retried write can never replace a committed file). Nothing here is visible to readers until a
 * commit references the files; `abort` removes what was written.
 */
export class PartitionedFileWriter {
  private readonly open = new Map<string, Open>();
  private readonly done: DataFile[] = [];
  private readonly written: string[] = [];
  private readonly partitionOf: ((row: Record<string, unknown>) => InternalValue[]) | null;
  private readonly names: string[];

  constructor(
    private readonly store: ObjectStore,
    private readonly loc: TableLocation,
    readonly schema: Schema,
    private readonly spec: PartitionSpec,
    private readonly opts: FileWriteOptions = {},
  ) {
    this.partitionOf = spec.fields.length ? partitioner(spec, schema) : null;
    this.names = schema.fields.map((f) => f.name);
  }

  /** Routes a converted batch (JS values or typed columns) to its partitions' writers. */
  async write(batch: ColumnBatch | TypedBatch): Promise<void> {
    if (batch.rowCount === 0) return;
    if (!this.partitionOf) return this.writeTo(this.writerFor([], ""), batch);
    // Group row indexes by partition path, then hand each group over as its own batch.
    const groups = new Map<string, { tuple: InternalValue[]; rows: number[] }>();
    const row: Record<string, unknown> = {};
    for (let r = 0; r < batch.rowCount; r++) {
      if ("typed" in batch) for (let c = 0; c < this.names.length; c++) row[this.names[c]] = batch.columns[c].valueAt(r);
      else for (let c = 0; c < this.names.length; c++) row[this.names[c]] = batch.columns[c][r];
      const tuple = this.partitionOf(row);
      const path = partitionPath(this.spec, this.schema, tuple);
      let g = groups.get(path);
      if (!g) groups.set(path, (g = { tuple, rows: [] }));
      g.rows.push(r);
    }
    const perRow = batch.approxBytes / batch.rowCount;
    for (const [path, g] of groups) {
      const part: ColumnBatch | TypedBatch =
        "typed" in batch
          ? { typed: true, columns: batch.columns.map((col) => (groups.size === 1 ? col : col.take(g.rows))), rowCount: g.rows.length, approxBytes: perRow * g.rows.length }
          : { columns: batch.columns.map((col) => g.rows.map((r) => col[r])), rowCount: g.rows.length, approxBytes: perRow * g.rows.length };
      await this.writeTo(this.writerFor(g.tuple, path), part);
    }
  }

  private writerFor(tuple: InternalValue[], path: string): Open {
    let o = this.open.get(path);
    if (!o) {
      o = { writer: this.newWriter(), tuple, path };
      this.open.set(path, o);
    }
    return o;
  }

  private newWriter(): DataFileWriter {
    return new DataFileWriter({ schema: this.schema, codec: this.opts.codec, rowGroupRows: this.opts.rowGroupRows, rowGroupBytes: this.opts.rowGroupBytes });
  }

  private async writeTo(o: Open, batch: ColumnBatch | TypedBatch): Promise<void> {
    await o.writer.write(batch);
    if (o.writer.bytesWritten >= (this.opts.targetFileBytes ?? DEFAULT_TARGET_FILE_BYTES)) {
      await this.close(o);
      this.open.delete(o.path);
    }
    // Many open partitions each hold a pending row group: keep their sum bounded.
    const max = this.opts.maxPendingBytes ?? 2 * (this.opts.rowGroupBytes ?? 8 * 1024 * 1024);
    let pending = 0;
    for (const x of this.open.values()) pending += x.writer.pendingSize;
    while (pending > max) {
      const largest = [...this.open.values()].reduce((a, b) => (b.writer.pendingSize > a.writer.pendingSize ? b : a));
      pending -= largest.writer.pendingSize;
      await largest.writer.flush();
    }
  }

  private async close(o: Open): Promise<void> {
    if (o.writer.rowCount === 0) return;
    const { chunks, metrics } = await o.writer.finish();
    const dir = o.path ? `data/${o.path}` : "data";
    const name = `${dir}/${crypto.randomUUID()}.parquet`;
    const key = `${this.loc.key}/${name}`;
    this.written.push(key);
    await this.store.put(key, chunks, { ifNoneMatch: "*", contentType: "application/vnd.apache.parquet" });
    this.done.push({ content: 0, filePath: `${this.loc.uri}/${name}`, fileFormat: "PARQUET", partition: o.tuple, ...metrics });
  }

  /** Closes every open file; returns all data files written. */
  async finish(): Promise<DataFile[]> {
    for (const o of this.open.values()) await this.close(o);
    this.open.clear();
    return this.done;
  }

  /** Store keys written so far (for cleanup). */
  get keys(): readonly string[] {
    return this.written;
  }

  /** Best-effort removal of every file this writer put: they were never committed. */
  async abort(): Promise<void> {
    this.open.clear();
    await this.store.delete(this.written).catch(() => undefined);
  }
}

