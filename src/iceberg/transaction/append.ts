import type { MetadataCatalog } from "../metadata-catalog.js";
import { FloeError } from "../../errors.js";
import type { ObjectStore } from "../../storage/object-store.js";
import type { Update } from "../commit.js";
import type { DataFile } from "../data-file.js";
import { currentSchema, currentSnapshot, defaultSpec } from "../metadata.js";
import type { LoadedTable, TableLocation } from "../table.js";
import type { Schema } from "../types.js";
import { snapshotManifests, writeManifestFile } from "./manifests.js";
import { mergeManifests } from "./merge-manifests.js";
import { commitSnapshot, nameMappingUpdate, partitionCount, randomSnapshotId, totals, type SnapshotChange } from "./snapshot.js";
import { existing, transact, type Committed } from "./transact.js";

export interface AppendOptions {
  /** Schema the files were written with, when it differs from the table's current one (schema evolution in the same commit). */
  schema?: Schema;
  /** The current schema id the files were planned against; a table whose schema has moved since is a conflict. */
  baseSchemaId?: number;
  /** Extra snapshot summary properties (lineage: `floe.batch-ids`, source…). */
  summary?: Record<string, string>;
  now?: () => number;
  /** The new snapshot's id (default: a random one below 2^53); engines pick any 64-bit id. */
  snapshotId?: bigint;
}

export interface AppendChange extends SnapshotChange {
  /** Manifests merged into others by this commit, and merged manifests written. */
  manifestsReplaced: number;
  manifestsCreated: number;
}

/**
 * Plans an `append` snapshot of `files`: one new manifest of the files, the current snapshot's
 * manifests carried over, and, when the snapshot would then carry more than
 * `commit.manifest.min-count-to-merge` manifests, those merged into manifests of about
 * `commit.manifest.target-size-bytes` (a merge append; otherwise a fast append). Schema evolution
 * rides along: `opts.schema` is added and made current in the same commit.
 */
export async function planAppend(store: ObjectStore, loc: TableLocation, base: LoadedTable, files: readonly DataFile[], opts: AppendOptions & { startSchemaId: number; startLastColumnId: number }): Promise<AppendChange> {
  const now = opts.now ?? Date.now;
  const m = base.metadata;
  // Data files written for one schema must not be committed under another without the writer's knowledge.
  if (m["current-schema-id"] !== opts.startSchemaId || m["last-column-id"] !== opts.startLastColumnId) {
    throw new FloeError("commit_conflict", `commit conflict: the schema of ${loc.uri} changed while files were written; write them again`, { retryable: true });
  }
  const schemaChanged = opts.schema !== undefined && JSON.stringify(opts.schema.fields) !== JSON.stringify(currentSchema(m).fields);
  const newSchemaId = Math.max(...m.schemas.map((s) => s["schema-id"])) + 1;
  const schema = schemaChanged ? { ...opts.schema!, "schema-id": newSchemaId } : currentSchema(m);
  const updates: Update[] = schemaChanged ? [{ action: "add-schema", schema }, { action: "set-current-schema", "schema-id": -1 }] : [];
  updates.push(...nameMappingUpdate(m, schema));
  // Manifests are written against the metadata as it will be (the new schema, if any).
  const target = schemaChanged ? { ...m, schemas: [...m.schemas, schema], "current-schema-id": newSchemaId } : m;

  const snapshotId = opts.snapshotId ?? randomSnapshotId();
  const sequenceNumber = m["last-sequence-number"] + 1;
  const parent = currentSnapshot(m);
  const spec = defaultSpec(m);
  const added = await writeManifestFile(store, loc, target, {
    specId: spec["spec-id"],
    snapshotId,
    sequenceNumber,
    entries: files.map((dataFile) => ({ status: 1 as const, snapshotId, sequenceNumber: null, fileSequenceNumber: null, dataFile })),
  });
  const merged = await mergeManifests(store, loc, target, [added.file, ...(await snapshotManifests(store, loc, parent))], { snapshotId, sequenceNumber });
  const summary = {
    ...opts.summary,
    operation: "append" as const,
    "added-data-files": String(files.length),
    "added-records": String(files.reduce((n, f) => n + f.recordCount, 0)),
    "added-files-size": String(files.reduce((n, f) => n + f.fileSizeInBytes, 0)),
    "changed-partition-count": String(partitionCount(files)),
    ...totals(parent, files, []),
    ...(merged.created ? { "manifests-created": String(merged.created), "manifests-replaced": String(merged.replaced) } : {}),
    "engine-name": "floe",
  };
  const change = await commitSnapshot(store, loc, m, {
    snapshotId,
    parent,
    manifests: merged.manifests,
    summary,
    now: now(),
    written: [added.key, ...merged.written],
    updatesBefore: updates,
    schemaId: schema["schema-id"],
  });
  return { ...change, manifestsReplaced: merged.replaced, manifestsCreated: merged.created };
}

export interface AppendResult {
  table: LoadedTable;
  snapshotId: bigint;
  sequenceNumber: number;
  change: AppendChange;
  /** The table the append was applied to. */
  base: LoadedTable;
}

/**
 * Commits data files as one `append` snapshot (see `planAppend`), re-planning over a table that
 * another writer moved meanwhile, unless its schema moved.
 *
 * @example
 * const { snapshotId } = await appendFiles(store, loc, files, { summary: { "floe.batch-ids": id } });
 */
export async function appendFiles(store: ObjectStore, loc: TableLocation, files: readonly DataFile[], opts: AppendOptions & { base?: LoadedTable; maxAttempts?: number; catalog?: MetadataCatalog } = {}): Promise<AppendResult> {
  let start: { startSchemaId: number; startLastColumnId: number } | undefined;
  const r: Committed<AppendChange> = await transact(
    store,
    loc,
    (b) => {
      const t = existing(b, loc);
      start ??= { startSchemaId: opts.baseSchemaId ?? t.metadata["current-schema-id"], startLastColumnId: t.metadata["last-column-id"] };
      return planAppend(store, loc, t, files, { ...opts, ...start });
    },
    { base: opts.base, attempts: opts.maxAttempts, now: opts.now, catalog: opts.catalog },
  );
  const change = r.change!;
  return { table: r.table, snapshotId: change.snapshotId, sequenceNumber: change.sequenceNumber, change, base: r.base! };
}
