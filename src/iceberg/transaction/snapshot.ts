import type { ObjectStore } from "../../storage/object-store.js";
import type { Update } from "../commit.js";
import type { DataFile, ManifestFile } from "../data-file.js";
import { writeManifestList } from "../manifest.js";
import { currentSchema, MAIN_BRANCH, type Snapshot, type TableMetadata } from "../metadata.js";
import { NAME_MAPPING_PROPERTY, nameMapping } from "../name-mapping.js";
import type { TableLocation } from "../table.js";
import type { TableChange } from "./transact.js";

/** A random positive id below 2^53: 64-bit in the files, and still exact for JSON readers that parse into doubles. */
export function randomSnapshotId(): bigint {
  const [hi, lo] = crypto.getRandomValues(new Uint32Array(2));
  const id = (BigInt(hi & 0x1fffff) << 32n) | BigInt(lo);
  return id === 0n ? 1n : id;
}

/** The change a new snapshot makes, and the snapshot itself. */
export interface SnapshotChange extends TableChange {
  snapshotId: bigint;
  sequenceNumber: number;
}

/**
 * Writes the manifest list of a new snapshot on main and the commit that adds it: requirements
 * that main has not moved and the schema is the one planned against, the snapshot, the ref, and
 * the name mapping of the current schema (so files without field ids read by name everywhere).
 */
export async function commitSnapshot(
  store: ObjectStore,
  loc: TableLocation,
  m: TableMetadata,
  opts: { snapshotId: bigint; parent: Snapshot | undefined; manifests: ManifestFile[]; summary: Snapshot["summary"]; now: number; written: string[]; updatesBefore?: Update[]; schemaId?: number },
): Promise<SnapshotChange> {
  const sequenceNumber = m["last-sequence-number"] + 1;
  const listName = `snap-${opts.snapshotId}-1-${crypto.randomUUID()}.avro`;
  const listKey = `${loc.key}/metadata/${listName}`;
  await store.put(
    listKey,
    writeManifestList({ snapshotId: opts.snapshotId, parentSnapshotId: opts.parent?.["snapshot-id"] ?? null, sequenceNumber: BigInt(sequenceNumber), manifests: opts.manifests, codec: "deflate" }),
    { ifNoneMatch: "*", contentType: "application/avro" },
  );
  const snapshot: Snapshot = {
    "snapshot-id": opts.snapshotId,
    "sequence-number": sequenceNumber,
    "timestamp-ms": opts.now,
    "manifest-list": `${loc.uri}/metadata/${listName}`,
    summary: opts.summary,
    "schema-id": opts.schemaId ?? m["current-schema-id"],
  };
  if (opts.parent) snapshot["parent-snapshot-id"] = opts.parent["snapshot-id"];
  const updates: Update[] = [...(opts.updatesBefore ?? []), { action: "add-snapshot", snapshot }, { action: "set-snapshot-ref", "ref-name": MAIN_BRANCH, type: "branch", "snapshot-id": opts.snapshotId }];
  return {
    commit: {
      requirements: [
        { type: "assert-table-uuid", uuid: m["table-uuid"] },
        { type: "assert-ref-snapshot-id", ref: MAIN_BRANCH, "snapshot-id": opts.parent?.["snapshot-id"] ?? null },
        { type: "assert-current-schema-id", "current-schema-id": m["current-schema-id"] },
        { type: "assert-last-assigned-field-id", "last-assigned-field-id": m["last-column-id"] },
      ],
      updates,
    },
    written: [...opts.written, listKey],
    snapshotId: opts.snapshotId,
    sequenceNumber,
  };
}

/** A `set-properties` keeping the name mapping of `schema` current, or nothing when it already is. */
export function nameMappingUpdate(m: TableMetadata, schema = currentSchema(m)): Update[] {
  const mapping = JSON.stringify(nameMapping(schema));
  return m.properties?.[NAME_MAPPING_PROPERTY] === mapping ? [] : [{ action: "set-properties", updates: { [NAME_MAPPING_PROPERTY]: mapping } }];
}

/** Appendix F totals after a change that adds and removes files. */
export function totals(parent: Snapshot | undefined, added: readonly DataFile[], removed: readonly DataFile[]): Record<string, string> {
  const prev = (k: string) => Number(parent?.summary[k] ?? 0);
  const records = (fs: readonly DataFile[]) => fs.reduce((n, f) => n + f.recordCount, 0);
  const bytes = (fs: readonly DataFile[]) => fs.reduce((n, f) => n + f.fileSizeInBytes, 0);
  return {
    "total-records": String(prev("total-records") + records(added) - records(removed)),
    "total-data-files": String(prev("total-data-files") + added.length - removed.length),
    "total-files-size": String(prev("total-files-size") + bytes(added) - bytes(removed)),
    "total-delete-files": String(prev("total-delete-files")),
    "total-position-deletes": String(prev("total-position-deletes")),
    "total-equality-deletes": String(prev("total-equality-deletes")),
  };
}

/** How many distinct partitions the files touch (`changed-partition-count`). */
export function partitionCount(files: readonly DataFile[]): number {
  return new Set(files.map((f) => JSON.stringify(f.partition, (_k, v) => (typeof v === "bigint" ? v.toString() : v instanceof Uint8Array ? [...v] : v)))).size;
}
