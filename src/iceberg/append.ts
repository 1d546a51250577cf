import { FloeError, isFloeError } from "../errors.js";
import type { ObjectStore } from "../storage/object-store.js";
import type { TableCommit, Update } from "./commit.js";
import type { DataFile, FieldSummary, ManifestFile } from "./data-file.js";
import { readManifestList } from "./manifest-read.js";
import { writeManifest, writeManifestList } from "./manifest.js";
import { currentSchema, currentSnapshot, defaultSpec, MAIN_BRANCH, type Snapshot } from "./metadata.js";
import { NAME_MAPPING_PROPERTY, nameMapping } from "./name-mapping.js";
import { partitionType } from "./partition.js";
import { commitTable, loadTable, type LoadedTable, type TableLocation } from "./table.js";
import type { NestedField, PrimitiveType, Schema } from "./types.js";
import { compareValues, toSingleValue } from "./values.js";

export interface AppendOptions {
  /** Schema the files were written with, when it differs from the table's current one (schema evolution in the same commit). */
  schema?: Schema;
  /** The current schema id the files were planned against; a table whose schema has moved since is a conflict. */
  baseSchemaId?: number;
  /** Extra snapshot summary properties (lineage: `floe.batch-ids`, source…). */
  summary?: Record<string, string>;
  now?: () => number;
  /** Attempts on a commit conflict before giving up with the (retryable) conflict. */
  maxAttempts?: number;
  /** The table as the caller last read it (a single committer keeps it): saves re-reading it; a stale one costs a conflict and a re-read. */
  base?: LoadedTable;
  /** Avro codec of manifests and manifest lists. */
  avroCodec?: "deflate" | "null";
}

export interface AppendResult {
  table: LoadedTable;
  snapshotId: bigint;
  sequenceNumber: number;
}

/**
 * Commits data files as one `append` snapshot: writes a manifest of the new files and a manifest
 * list that keeps every manifest of the current snapshot, then the next metadata file (create-only).
 * On a conflict it re-reads the table and writes a new manifest list over the new current snapshot
 * (the manifest of added files is reused), unless the schema moved under it: data files written
 * for one schema must not be committed under another without the writer's knowledge.
 */
export async function appendFiles(store: ObjectStore, loc: TableLocation, files: readonly DataFile[], opts: AppendOptions = {}): Promise<AppendResult> {
  const now = opts.now ?? Date.now;
  const codec = opts.avroCodec ?? "deflate";
  const snapshotId = randomSnapshotId();
  let base = opts.base ?? (await loadTable(store, loc));
  if (!base) throw new FloeError("not_found", `table ${loc.uri} does not exist`, { details: { table: loc.uri } });
  const schema = opts.schema ?? currentSchema(base.metadata);
  const startSchemaId = opts.baseSchemaId ?? base.metadata["current-schema-id"];
  const startLastColumnId = base.metadata["last-column-id"];
  const spec = defaultSpec(base.metadata);
  const pType = partitionType(spec, schema);

  // The manifest of added files does not depend on the base, so it is written once.
  const manifestName = `${crypto.randomUUID()}-m0.avro`;
  const manifestBytes = writeManifest({
    schema,
    spec,
    partitionType: { fields: pType },
    entries: files.map((dataFile) => ({ status: 1 as const, snapshotId, sequenceNumber: null, fileSequenceNumber: null, dataFile })),
    codec,
  });
  await store.put(`${loc.key}/metadata/${manifestName}`, manifestBytes, { ifNoneMatch: "*", contentType: "application/avro" });

  const attempts = opts.maxAttempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    const m = base.metadata;
    const schemaChanged = opts.schema !== undefined && JSON.stringify(opts.schema.fields) !== JSON.stringify(currentSchema(m).fields);
    const newSchemaId = Math.max(...m.schemas.map((s) => s["schema-id"])) + 1;
    if (m["current-schema-id"] !== startSchemaId || m["last-column-id"] !== startLastColumnId) {
      throw new FloeError("commit_conflict", `commit conflict: the schema of ${loc.uri} changed while files were written; write them again`, { retryable: true });
    }
    const parent = currentSnapshot(m);
    const sequenceNumber = m["last-sequence-number"] + 1;
    const previous = parent ? readManifestList((await store.get(manifestListKey(loc, parent)))!) : [];
    const added: ManifestFile = {
      manifestPath: `${loc.uri}/metadata/${manifestName}`,
      manifestLength: manifestBytes.byteLength,
      partitionSpecId: spec["spec-id"],
      content: 0,
      sequenceNumber: BigInt(sequenceNumber),
      minSequenceNumber: BigInt(sequenceNumber),
      addedSnapshotId: snapshotId,
      addedFilesCount: files.length,
      existingFilesCount: 0,
      deletedFilesCount: 0,
      addedRowsCount: files.reduce((n, f) => n + f.recordCount, 0),
      existingRowsCount: 0,
      deletedRowsCount: 0,
      partitions: summarizePartitions(pType, files),
    };
    const listName = `snap-${snapshotId}-${attempt}-${crypto.randomUUID()}.avro`;
    await store.put(
      `${loc.key}/metadata/${listName}`,
      writeManifestList({ snapshotId, parentSnapshotId: parent?.["snapshot-id"] ?? null, sequenceNumber: BigInt(sequenceNumber), manifests: [added, ...previous], codec }),
      { ifNoneMatch: "*", contentType: "application/avro" },
    );
    const snapshot: Snapshot = {
      "snapshot-id": snapshotId,
      "sequence-number": sequenceNumber,
      "timestamp-ms": now(),
      "manifest-list": `${loc.uri}/metadata/${listName}`,
      summary: summarize(parent, files, opts.summary),
      "schema-id": schemaChanged ? newSchemaId : m["current-schema-id"],
    };
    if (parent) snapshot["parent-snapshot-id"] = parent["snapshot-id"];
    const updates: Update[] = [];
    if (schemaChanged) updates.push({ action: "add-schema", schema: { ...opts.schema!, "schema-id": newSchemaId } }, { action: "set-current-schema", "schema-id": -1 });
    updates.push({ action: "add-snapshot", snapshot }, { action: "set-snapshot-ref", "ref-name": MAIN_BRANCH, type: "branch", "snapshot-id": snapshotId });
    // Every table keeps a name mapping of its current schema, so data files without field ids
    // (uploaded Parquet registered as is) read by name in any engine.
    const mapping = JSON.stringify(nameMapping(schemaChanged ? opts.schema! : currentSchema(m)));
    if (m.properties?.[NAME_MAPPING_PROPERTY] !== mapping) updates.push({ action: "set-properties", updates: { [NAME_MAPPING_PROPERTY]: mapping } });
    const commit: TableCommit = {
      requirements: [
        { type: "assert-table-uuid", uuid: m["table-uuid"] },
        { type: "assert-ref-snapshot-id", ref: MAIN_BRANCH, "snapshot-id": parent?.["snapshot-id"] ?? null },
        { type: "assert-current-schema-id", "current-schema-id": startSchemaId },
        { type: "assert-last-assigned-field-id", "last-assigned-field-id": startLastColumnId },
      ],
      updates,
    };
    try {
      const table = await commitTable(store, loc, commit, { now: now(), base });
      return { table, snapshotId, sequenceNumber };
    } catch (e) {
      if (!isFloeError(e, "commit_conflict") || attempt >= attempts) throw e;
      base = (await loadTable(store, loc))!;
    }
  }
}

function manifestListKey(loc: TableLocation, s: Snapshot): string {
  const prefix = `${loc.uri}/`;
  if (!s["manifest-list"].startsWith(prefix)) throw new FloeError("internal", `manifest list ${s["manifest-list"]} is outside table ${loc.uri}`);
  return `${loc.key}/${s["manifest-list"].slice(prefix.length)}`;
}

/** A random positive id below 2^53: 64-bit in the files, and still exact for JSON readers that parse into doubles. */
function randomSnapshotId(): bigint {
  const [hi, lo] = crypto.getRandomValues(new Uint32Array(2));
  const id = (BigInt(hi & 0x1fffff) << 32n) | BigInt(lo);
  return id === 0n ? 1n : id;
}

/** Appendix F snapshot summary: what this append added, and the table totals after it. */
function summarize(parent: Snapshot | undefined, files: readonly DataFile[], extra: Record<string, string> = {}): Snapshot["summary"] {
  const addedRecords = files.reduce((n, f) => n + f.recordCount, 0);
  const addedSize = files.reduce((n, f) => n + f.fileSizeInBytes, 0);
  const prev = (k: string) => Number(parent?.summary[k] ?? 0);
  const partitions = new Set(files.map((f) => JSON.stringify(f.partition, (_k, v) => (typeof v === "bigint" ? v.toString() : v instanceof Uint8Array ? [...v] : v))));
  return {
    ...extra,
    operation: "append",
    "added-data-files": String(files.length),
    "added-records": String(addedRecords),
    "added-files-size": String(addedSize),
    "changed-partition-count": String(partitions.size),
    "total-records": String(prev("total-records") + addedRecords),
    "total-data-files": String(prev("total-data-files") + files.length),
    "total-files-size": String(prev("total-files-size") + addedSize),
    "total-delete-files": String(prev("total-delete-files")),
    "total-position-deletes": String(prev("total-position-deletes")),
    "total-equality-deletes": String(prev("total-equality-deletes")),
    "engine-name": "floe",
  };
}

/** Manifest list `partitions`: per partition field, whether nulls/NaNs occur and the value range (spec `field_summary`). */
function summarizePartitions(fields: NestedField[], files: readonly DataFile[]): FieldSummary[] {
  return fields.map((f, i) => {
    const type = f.type as PrimitiveType;
    let containsNull = false;
    let containsNan = false;
    let lo: unknown = null;
    let hi: unknown = null;
    for (const file of files) {
      const v = file.partition[i];
      if (v === null) containsNull = true;
      else if (typeof v === "number" && Number.isNaN(v)) containsNan = true;
      else {
        if (lo === null || compareValues(type, v, lo as never) < 0) lo = v;
        if (hi === null || compareValues(type, v, hi as never) > 0) hi = v;
      }
    }
    const floating = type === "float" || type === "double";
    return {
      containsNull,
      containsNan: floating ? containsNan : null,
      lowerBound: lo === null ? null : toSingleValue(type, lo as never),
      upperBound: hi === null ? null : toSingleValue(type, hi as never),
    };
  });
}
