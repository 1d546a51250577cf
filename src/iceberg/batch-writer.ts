import { readSource } from "../columnar/column-source.js";
import type { ColumnSource } from "../decode/columns.js";
import { batchRows, type ScannedBatch } from "../columnar/scan-batches.js";
import { FloeError } from "../errors.js";
import type { DataFile } from "./data-file.js";
import { unionByName } from "./evolve.js";
import { inferStruct, type InferOptions } from "./infer.js";
import { compileRowConverter, type RowConverter } from "./rows.js";
import { validatePartitionSpec } from "./partition.js";
import { assignFreshIds, idCounter, maxFieldId } from "./schema.js";
import { PARTITION_FIELD_ID_START, type PartitionSpec, type Schema, type StructType } from "./types.js";
import type { PartitionedFileWriter } from "./write-files.js";

export interface BatchWriterOptions {
  /** `evolve`: unknown fields become new optional columns. `strict`: they are refused. */
  mode: "evolve" | "strict";
  infer: InferOptions;
  /** Partitioning of a table this write creates (its schema inferred from the first rows). */
  partitionBy: PartitionBy[];
  /** The file writer for a schema and spec (where files go, codec, sizes). */
  files: (schema: Schema, spec: PartitionSpec) => PartitionedFileWriter;
}

/**
 * Rows in, data files out, for one table: the write pipeline every path shares (the core's
 * `appendRows`, the edge's `TableWriter` for events, webhooks and uploads). New fields (mode
 * `evolve`) get ids in a schema kept here while rows come in; a schema change closes the files of
 * the old schema (Iceberg reads them with the new one, missing columns as null, so one commit can
 * hold both). Rows come as JS values (`write`) or scanned (`writeScanned`, from `scanNdjson` or `scanJson`), whose slow
 * rows go through the same inference and conversion and whose fast rows go to the pages as they
 * are.
 */
export class BatchWriter {
  schema: Schema | null;
  spec: PartitionSpec | null;
  lastColumnId: number;
  rows = 0;
  private readonly writers: PartitionedFileWriter[] = [];
  private readonly done: DataFile[] = [];
  private writer: PartitionedFileWriter | undefined;
  private convert: RowConverter | undefined;

  constructor(schema: Schema | null, spec: PartitionSpec | null, lastColumnId: number, private readonly opts: BatchWriterOptions) {
    this.schema = schema;
    this.spec = spec;
    this.lastColumnId = lastColumnId;
  }

  /** Writes rows (their indexes in the input, for refusals, start at `first`). */
  async write(rows: readonly unknown[], first: number): Promise<void> {
    this.evolve(rows, first);
    const writer = await this.writerFor();
    await writer.write(this.convert!(rows, first));
    this.rows += rows.length;
  }

  /** Writes a batch from `scanNdjson`: the same rows, refusals and schema as `write` of its rows parsed. */
  async writeScanned(b: ScannedBatch): Promise<void> {
    if (b.slow.length) this.evolve(b.slow, b.first, b.slowIndex);
    const writer = await this.writerFor();
    if (b.rowCount) await writer.write(batchRows(b, this.schema!, this.convert!));
    this.rows += b.rowCount;
  }

  /**
   * Writes rows given column by column (a Parquet row group): the same rows, refusals and schema as
   * `write` of its rows, with one column's JS values alive at a time (see `readSource`).
   */
  async writeColumns(src: ColumnSource): Promise<void> {
    const { mode, infer } = this.opts;
    const read = await readSource(src, { schema: this.schema, infer: !this.schema || mode === "evolve" ? infer : null, unknownFields: mode === "strict" ? "error" : "ignore" });
    this.adopt(read.shape);
    const writer = await this.writerFor();
    if (src.rowCount) await writer.write(read.batch(this.schema!));
    this.rows += src.rowCount;
  }

  /** Closes every file; returns the data files written. */
  async finish(): Promise<DataFile[]> {
    if (this.writer) this.done.push(...(await this.writer.finish()));
    this.writer = undefined;
    return this.done;
  }

  /** Deletes every file written: they were never committed. */
  async abort(): Promise<void> {
    await Promise.all(this.writers.map((w) => w.abort()));
  }

  /** Makes sure there is a schema (inferred from the first rows) and, in `evolve`, that it holds the rows' new fields. */
  private evolve(rows: readonly unknown[], first: number, indexes?: ArrayLike<number>): void {
    if (this.schema && this.opts.mode !== "evolve") return;
    this.adopt(inferStruct(rows, first, this.schema ?? undefined, this.opts.infer, indexes));
  }

  /** Takes an inferred shape as the first schema, or (in `evolve`) adds its new fields to the schema. */
  private adopt(shape: StructType): void {
    if (!this.schema) {
      this.schema = freshSchema(shape);
      this.lastColumnId = maxFieldId(this.schema);
    } else if (this.opts.mode === "evolve" && shape.fields.length) {
      const u = unionByName(this.schema, shape, this.lastColumnId, { inferred: true });
      if (u.changed) {
        this.schema = u.schema;
        this.lastColumnId = u.lastColumnId;
      }
    }
  }

  /** The file writer of the current schema (and the spec of a table this write creates). */
  private async writerFor(): Promise<PartitionedFileWriter> {
    this.spec ??= specFor(this.schema!, this.opts.partitionBy);
    if (!this.writer || this.writer.schema !== this.schema) {
      // The old schema's files are closed at once: their open row groups are memory the new ones do not need.
      if (this.writer) this.done.push(...(await this.writer.finish()));
      this.writer = this.opts.files(this.schema!, this.spec!);
      this.writers.push(this.writer);
      this.convert = compileRowConverter(this.schema!, { unknownFields: this.opts.mode === "strict" ? "error" : "ignore" });
    }
    return this.writer;
  }
}

/** A partition field named by its source column, for tables created on first write. */
export interface PartitionBy {
  source: string;
  transform: string;
  name?: string;
}

/** A declared or inferred struct as a first schema: ids 1..n in the spec's order, id 0. */
export function freshSchema(t: StructType): Schema {
  return { ...assignFreshIds(t, idCounter(0)), "schema-id": 0 };
}

/** Resolves partition fields named by source column into a spec with ids from 1000. */
export function specFor(schema: Schema, by: PartitionBy[]): PartitionSpec {
  const spec: PartitionSpec = {
    "spec-id": 0,
    fields: by.map((p, i) => {
      const source = schema.fields.find((f) => f.name === p.source);
      if (!source) throw new FloeError("invalid_input", `partition source column "${p.source}" is not in the schema`, { details: { field: p.source } });
      return { "source-id": source.id, "field-id": PARTITION_FIELD_ID_START + i, name: p.name ?? defaultPartitionName(p.source, p.transform), transform: p.transform };
    }),
  };
  validatePartitionSpec(spec, schema);
  return spec;
}

/** Partition field names as Iceberg's Java `PartitionSpec.Builder` makes them: `ts_day`, `id_bucket`, `name_trunc`. */
function defaultPartitionName(source: string, transform: string): string {
  if (transform === "identity") return source;
  if (transform.startsWith("bucket[")) return `${source}_bucket`;
  if (transform.startsWith("truncate[")) return `${source}_trunc`;
  if (transform === "void") return `${source}_null`;
  return `${source}_${transform}`;
}
