import { FloeError } from "../errors.js";
import type { ObjectStore } from "../storage/object-store.js";
import { appendFiles, type AppendOptions, type AppendResult } from "./transaction/append.js";
import { createTable } from "./transaction/create-table.js";
export { freshSchema, specFor, type PartitionBy } from "./batch-writer.js";
import { scanJson, scanNdjson } from "../columnar/scan-batches.js";
import type { ColumnSource } from "../decode/columns.js";
import { BatchWriter, freshSchema, type PartitionBy } from "./batch-writer.js";
import type { DataFile } from "./data-file.js";
import type { InferOptions } from "./infer.js";
import { DEFAULT_POLICY } from "./ingest-policy.js";
import { currentSchema, defaultSpec } from "./metadata.js";
import { maxFieldId } from "./schema.js";
import { commitTable, loadTable, type TableLocation } from "./table.js";
import type { Schema, StructType } from "./types.js";
import { PartitionedFileWriter, type FileWriteOptions } from "./write-files.js";

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

/** NDJSON bytes as the input of `appendBatches`: scanned into typed columns where the scanner takes the lines. */
export interface NdjsonInput {
  ndjson: ReadableStream<Uint8Array>;
  maxLineBytes?: number;
  /** Refuse non-object lines as the upload decoder does (see `ScanOptions`). */
  objectsOnly?: boolean;
}

/** A JSON document (an array of objects, or objects one after another) as the input of `appendBatches`, scanned likewise (`scanJson`). */
export interface JsonInput {
  json: ReadableStream<Uint8Array>;
  /** Largest element in bytes. */
  maxLineBytes?: number;
}

/** Rows given a column at a time (`decodeGroups` of a CSV, Parquet or Arrow file) as the input of `appendBatches`. */
export interface ColumnsInput {
  groups: AsyncIterable<ColumnSource>;
}

const isScanned = (x: unknown): x is NdjsonInput | JsonInput => typeof x === "object" && x !== null && ("ndjson" in x || "json" in x);

/**
 * `appendRows` over batches of rows as they arrive (e.g. from `ndjsonBatches`), over NDJSON or
 * JSON bytes (`{ ndjson }`, `{ json }`: the columnar scanner, with the same rows and refusals), or
 * over column sources (`{ groups }`: `BatchWriter.writeColumns`, likewise), so the
 * input is never held whole: memory is bounded by one batch plus the open row groups.
 */
export async function appendBatches(store: ObjectStore, loc: TableLocation, input: Iterable<readonly unknown[]> | AsyncIterable<readonly unknown[]> | NdjsonInput | JsonInput | ColumnsInput, opts: AppendRowsOptions = {}): Promise<AppendRowsResult> {
  const now = opts.now ?? Date.now;
  const mode = opts.mode ?? "evolve";
  const existing = await loadTable(store, loc);
  if (!existing && !opts.create) throw new FloeError("not_found", `table ${loc.uri} does not exist`, { details: { table: loc.uri } });

  const schema: Schema | null = existing ? currentSchema(existing.metadata) : opts.create?.schema ? freshSchema(opts.create.schema) : null;
  const batches = new BatchWriter(schema, existing ? defaultSpec(existing.metadata) : null, existing ? existing.metadata["last-column-id"] : schema ? maxFieldId(schema) : 0, {
    mode,
    infer: opts.infer ?? DEFAULT_POLICY,
    partitionBy: opts.create?.partitionBy ?? [],
    files: (s, spec) => new PartitionedFileWriter(store, loc, s, spec, opts),
  });

  try {
    if (isScanned(input)) {
      const scan = { batchRows: opts.chunkRows ?? 10_000, maxLineBytes: input.maxLineBytes ?? 16 * 1024 * 1024 };
      const scanned = "json" in input ? scanJson(input.json, scan, () => batches.schema) : scanNdjson(input.ndjson, { ...scan, objectsOnly: input.objectsOnly }, () => batches.schema);
      for await (const b of scanned) await batches.writeScanned(b);
    } else if ("groups" in input) {
      for await (const group of input.groups) await batches.writeColumns(group);
    } else {
      for await (const batch of input) await batches.write(batch, batches.rows);
    }
    if (batches.rows === 0) await batches.write([], 0);
    const files = await batches.finish();
    if (!existing) {
      await commitTable(store, loc, createTable({ location: loc.uri, schema: batches.schema!, spec: batches.spec!, properties: opts.create?.properties }), { now: now(), base: null });
    }
    const result = await appendFiles(store, loc, files, {
      schema: batches.schema!,
      baseSchemaId: existing?.metadata["current-schema-id"],
      summary: opts.summary,
      now: opts.now,
      maxAttempts: opts.maxAttempts,
    });
    return { ...result, dataFiles: files, rowCount: batches.rows };
  } catch (e) {
    await batches.abort();
    throw e;
  }
}

