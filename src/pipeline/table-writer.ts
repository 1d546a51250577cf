import type { Env } from "../config.js";
import type { TableInfo } from "../durable/table-info.js";
import { rpc } from "../errors.js";
import type { ColumnSource } from "../decode/columns.js";
import { scanJson, scanNdjson, type ScannedBatch, type ScanOptions } from "../columnar/scan-batches.js";
import { BatchWriter } from "../iceberg/batch-writer.js";
import type { DataFile } from "../iceberg/data-file.js";
import type { InferOptions } from "../iceberg/infer.js";
import type { Schema } from "../iceberg/types.js";
import { PartitionedFileWriter } from "../iceberg/write-files.js";
import { lakeStore } from "../storage/lake.js";

/** What a batch wrote for its commit: data files, rows, and the schema they were written with. */
export interface Written {
  files: DataFile[];
  rows: number;
  schemaId: number;
  /** The partition spec the files' partition tuples follow (a spec changed since is a conflict). */
  specId: number;
}

/**
 * Rows in, Parquet data files out, for one batch of one table: the part of the write pipeline that
 * every path shares (events, webhooks, uploads). New fields (mode `evolve`) are given ids in a schema
 * kept here while rows come in, and the table adopts it only in `finish`, once everything was
 * written: a batch that fails part way changes nothing, not even the schema. A table created by its
 * first write is created then too. Rows are converted by the table's rules (`strict` refuses unknown
 * fields) and each failure names row and field.
 */
export class TableWriter {
  private readonly batches: BatchWriter;

  constructor(
    private readonly env: Env,
    private readonly table: string,
    private readonly info: TableInfo,
    /** How new columns are inferred: the table's policy, unless the source's format types its numbers. */
    infer: InferOptions = info.policy,
  ) {
    this.batches = new BatchWriter(info.schema, info.partitionSpec, info.lastColumnId, {
      mode: info.mode,
      infer,
      partitionBy: info.partitionBy,
      files: (schema, spec) =>
        new PartitionedFileWriter(lakeStore(env), info.location, schema, spec, {
          codec: info.properties["write.parquet.compression-codec"],
          targetFileBytes: Number(info.properties["write.target-file-size-bytes"] ?? 0) || undefined,
        }),
    });
  }

  /** Rows so far. */
  get rows(): number {
    return this.batches.rows;
  }

  /** The schema rows are written with now (the table's, or one evolved by this batch). */
  get schema(): Schema | null {
    return this.batches.schema;
  }

  /** Writes rows (their index in the batch's input starts at `first`, for error messages). */
  write(rows: readonly unknown[], first: number): Promise<void> {
    return this.batches.write(rows, first);
  }

  /** Writes a scanned batch (`scanNdjson`, perhaps filtered by `keepRows`). */
  writeScanned(b: ScannedBatch): Promise<void> {
    return this.batches.writeScanned(b);
  }

  /** Writes rows given a column at a time (a Parquet row group): see `BatchWriter.writeColumns`. */
  writeColumns(src: ColumnSource): Promise<void> {
    return this.batches.writeColumns(src);
  }

  /**
   * Writes NDJSON bytes, scanned into typed columns where the scanner takes the lines
   * (`scanNdjson`: the same rows and refusals as parsing them and calling `write`). `between` runs
   * before each batch after the first (an upload renews its claim there).
   */
  writeNdjson(body: ReadableStream<Uint8Array>, opts: ScanOptions, between?: () => Promise<void>): Promise<void> {
    return this.writeAll(scanNdjson(body, opts, () => this.batches.schema), between);
  }

  /** `writeNdjson` for a JSON upload (an array of objects, or objects one after another): `scanJson`. */
  writeJson(body: ReadableStream<Uint8Array>, opts: ScanOptions, between?: () => Promise<void>): Promise<void> {
    return this.writeAll(scanJson(body, opts, () => this.batches.schema), between);
  }

  private async writeAll(batches: AsyncIterable<ScannedBatch>, between?: () => Promise<void>): Promise<void> {
    let first = true;
    for await (const b of batches) {
      if (!first && between) await between();
      first = false;
      await this.batches.writeScanned(b);
    }
  }

  /** Closes the files and has the table adopt the schema they were written with (creating the table if need be). */
  async finish(): Promise<Written> {
    const files = await this.batches.finish();
    const { schema, spec, rows } = this.batches;
    let info = this.info;
    if (rows > 0 && schema && schema !== info.schema) {
      const base = info.exists && info.schema ? { schemaId: info.schema["schema-id"], lastColumnId: info.lastColumnId } : null;
      info = await rpc(this.env.TABLES.get(this.env.TABLES.idFromName(this.table)).adoptSchema(this.table, schema, base));
    }
    return { files, rows, schemaId: info.schema?.["schema-id"] ?? 0, specId: spec?.["spec-id"] ?? 0 };
  }

  /** Deletes every file written: they were never committed. */
  abort(): Promise<void> {
    return this.batches.abort();
  }
}
