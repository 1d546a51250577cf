import type { Env } from "../config.js";
import type { TableInfo } from "../durable/table-info.js";
import { rpc } from "../errors.js";
import { freshSchema, specFor } from "../iceberg/append-rows.js";
import type { DataFile } from "../iceberg/data-file.js";
import { unionByName } from "../iceberg/evolve.js";
import { inferStruct, type InferOptions } from "../iceberg/infer.js";
import { compileRowConverter } from "../iceberg/rows.js";
import { maxFieldId } from "../iceberg/schema.js";
import type { PartitionSpec, Schema } from "../iceberg/types.js";
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
  private schema: Schema | null;
  private spec: PartitionSpec | null;
  private lastId: number;
  private readonly writers: PartitionedFileWriter[] = [];
  private writer: PartitionedFileWriter | undefined;
  private convert: ReturnType<typeof compileRowConverter> | undefined;
  private count = 0;

  constructor(
    private readonly env: Env,
    private readonly table: string,
    private readonly info: TableInfo,
    /** How new columns are inferred: the table's policy, unless the source's format types its numbers. */
    private readonly infer: InferOptions = info.policy,
  ) {
    this.schema = info.schema;
    this.spec = info.partitionSpec;
    this.lastId = info.lastColumnId;
  }

  /** Rows so far. */
  get rows(): number {
    return this.count;
  }

  /** Writes rows (their index in the batch's input starts at `first`, for error messages). */
  async write(rows: readonly unknown[], first: number): Promise<void> {
    if (!this.schema) {
      this.schema = freshSchema(inferStruct(rows, first, undefined, this.infer));
      this.lastId = maxFieldId(this.schema);
      this.spec = specFor(this.schema, this.info.partitionBy);
    } else if (this.info.mode === "evolve") {
      const shape = inferStruct(rows, first, this.schema, this.infer);
      if (shape.fields.length) {
        const u = unionByName(this.schema, shape, this.lastId, { inferred: true });
        if (u.changed) {
          this.schema = u.schema;
          this.lastId = u.lastColumnId;
        }
      }
    }
    if (!this.writer || this.writer.schema !== this.schema) {
      // A schema change mid-batch closes the files of the old schema; Iceberg reads them with the
      // new one (missing columns are null), so one commit can hold both.
      this.writer = new PartitionedFileWriter(lakeStore(this.env), this.info.location, this.schema, this.spec!, {
        codec: this.info.properties["write.parquet.compression-codec"],
        targetFileBytes: Number(this.info.properties["write.target-file-size-bytes"] ?? 0) || undefined,
      });
      this.writers.push(this.writer);
      this.convert = compileRowConverter(this.schema, { unknownFields: this.info.mode === "strict" ? "error" : "ignore" });
    }
    await this.writer.write(this.convert!(rows, first));
    this.count += rows.length;
  }

  /** Closes the files and has the table adopt the schema they were written with (creating the table if need be). */
  async finish(): Promise<Written> {
    const files: DataFile[] = [];
    for (const w of this.writers) files.push(...(await w.finish()));
    let info = this.info;
    if (this.count > 0 && this.schema && this.schema !== info.schema) {
      const base = info.exists && info.schema ? { schemaId: info.schema["schema-id"], lastColumnId: info.lastColumnId } : null;
      info = await rpc(this.env.TABLES.get(this.env.TABLES.idFromName(this.table)).adoptSchema(this.table, this.schema, base));
    }
    return { files, rows: this.count, schemaId: info.schema?.["schema-id"] ?? 0, specId: this.spec?.["spec-id"] ?? 0 };
  }

  /** Deletes every file written: they were never committed. */
  async abort(): Promise<void> {
    await Promise.all(this.writers.map((w) => w.abort()));
  }
}
