import { FloeError } from "../errors.js";
import type { ObjectStore } from "../storage/object-store.js";
import { appendFiles, type AppendOptions, type AppendResult } from "./transaction/append.js";
import { createTable } from "./transaction/create-table.js";
import type { DataFile } from "./data-file.js";
import { unionByName } from "./evolve.js";
import { inferStruct, type InferOptions } from "./infer.js";
import { currentSchema, defaultSpec } from "./metadata.js";
import { validatePartitionSpec } from "./partition.js";
import { compileRowConverter } from "./rows.js";
import { assignFreshIds, idCounter, maxFieldId } from "./schema.js";
import { commitTable, loadTable, type TableLocation } from "./table.js";
import { PARTITION_FIELD_ID_START, type PartitionSpec, type Schema, type StructType } from "./types.js";
import { PartitionedFileWriter, type FileWriteOptions } from "./write-files.js";

/** A partition field named by its source column, for tables created on first write. */
export interface PartitionBy {
  source: string;
  transform: string;
  name?: string;
}

export interface AppendRowsOptions extends FileWriteOptions, Pick<AppendOptions, "summary" | "now"> {
  maxAttempts?: number;
  /** `evolve` (default): unknown fields become new optional columns. `strict`: they are refused. */
  mode?: "evolve" | "strict";
  /** Create the table if it does not exist; the schema is `schema` or inferred from the rows. */
  create?: { schema?: StructType; partitionBy?: PartitionBy[]; properties?: Record<string, string> };
  /** Rows converted and written per step by `appendRows`; with the row-group bounds this bounds memory. */
  chunkRows?: number;
  /** How new columns are inferred (numbers, depth, name length): default DEFAULT_POLICY. */
  infer?: InferOptions;
}

export interface AppendRowsResult extends AppendResult {
  dataFiles: DataFile[];
  rowCount: number;
}

/**
 * Rows in, an Iceberg snapshot out: evolves the schema (or refuses unknown fields in strict mode),
 * converts and validates rows a chunk at a time, writes Parquet data files per partition, and
 * commits them as one append. A row that does not fit fails the whole call with an error naming
 * the row and field; the files already written are deleted (best effort) and never referenced,
 * so readers never see part of the rows.
 *
 * @example
 * const loc = tableLocation("lake", "warehouse", "default", "events");
 * await appendRows(store, loc, [{ id: 1, name: "a" }], { create: {} });
 */
export async function appendRows(store: ObjectStore, loc: TableLocation, rows: readonly unknown[], opts: AppendRowsOptions = {}): Promise<AppendRowsResult> {
  const chunkRows = opts.chunkRows ?? 10_000;
  function* chunks() {
    for (let i = 0; i < rows.length; i += chunkRows) yield rows.slice(i, i + chunkRows);
  }
  return appendBatches(store, loc, chunks(), opts);
}

/**
 * `appendRows` over batches of rows as they arrive (e.g. from `ndjsonBatches`), so the input is
 * never held whole: memory is bounded by one batch plus the open row groups.
 */
export async function appendBatches(store: ObjectStore, loc: TableLocation, batches: Iterable<readonly unknown[]> | AsyncIterable<readonly unknown[]>, opts: AppendRowsOptions = {}): Promise<AppendRowsResult> {
  const now = opts.now ?? Date.now;
  const mode = opts.mode ?? "evolve";
  const existing = await loadTable(store, loc);
  if (!existing && !opts.create) throw new FloeError("not_found", `table ${loc.uri} does not exist`, { details: { table: loc.uri } });

  let schema: Schema | undefined = existing ? currentSchema(existing.metadata) : opts.create?.schema ? freshSchema(opts.create.schema) : undefined;
  let lastColumnId = existing ? existing.metadata["last-column-id"] : schema ? maxFieldId(schema) : 0;
  let spec: PartitionSpec | undefined = existing ? defaultSpec(existing.metadata) : undefined;
  let writer: PartitionedFileWriter | undefined;
  let convert: ReturnType<typeof compileRowConverter> | undefined;
  const files: DataFile[] = [];
  const writers: PartitionedFileWriter[] = [];
  let rowCount = 0;

  const step = async (chunk: readonly unknown[]) => {
    if (mode === "evolve" || !schema) {
      const inferred = inferStruct(chunk, rowCount, schema, opts.infer);
      if (!schema) {
        schema = freshSchema(inferred);
        lastColumnId = maxFieldId(schema);
      } else {
        const u = unionByName(schema, inferred, lastColumnId, { inferred: true });
        if (u.changed) {
          schema = u.schema;
          lastColumnId = u.lastColumnId;
        }
      }
    }
    spec ??= specFor(schema, opts.create?.partitionBy ?? []);
    if (!writer || writer.schema !== schema) {
      // A schema change mid-stream closes the files of the old schema; Iceberg reads them with
      // the new one (missing columns are null), so one commit can hold both.
      if (writer) files.push(...(await writer.finish()));
      writer = new PartitionedFileWriter(store, loc, schema, spec, opts);
      writers.push(writer);
      convert = compileRowConverter(schema, { unknownFields: mode === "strict" ? "error" : "ignore" });
    }
    await writer.write(convert!(chunk, rowCount));
    rowCount += chunk.length;
  };

  try {
    for await (const batch of batches) await step(batch);
    if (rowCount === 0) await step([]);
    if (writer) files.push(...(await writer.finish()));
    if (!existing) {
      await commitTable(store, loc, createTable({ location: loc.uri, schema: schema!, spec: spec!, properties: opts.create?.properties }), { now: now(), base: null });
    }
    const result = await appendFiles(store, loc, files, {
      schema,
      baseSchemaId: existing?.metadata["current-schema-id"],
      summary: opts.summary,
      now: opts.now,
      maxAttempts: opts.maxAttempts,
    });
    return { ...result, dataFiles: files, rowCount };
  } catch (e) {
    await Promise.all(writers.map((w) => w.abort()));
    throw e;
  }
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
