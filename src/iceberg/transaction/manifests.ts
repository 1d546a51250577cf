import { FloeError } from "../../errors.js";
import type { ObjectStore } from "../../storage/object-store.js";
import type { DataFile, FieldSummary, ManifestEntry, ManifestFile } from "../data-file.js";
import { readManifest, readManifestList } from "../manifest-read.js";
import { writeManifest } from "../manifest.js";
import type { Snapshot, TableMetadata } from "../metadata.js";
import { currentSchema } from "../metadata.js";
import { partitionType } from "../partition.js";
import { keyOf, type TableLocation } from "../table.js";
import type { NestedField, PrimitiveType } from "../types.js";
import { compareValues, fromSingleValue, toSingleValue } from "../values.js";

/** The store key of a file the table references; a reference outside the table's location is refused (Floe never reads or deletes there). */
export function fileKey(loc: TableLocation, uri: string): string {
  const key = keyOf(loc, uri);
  if (key === undefined) throw new FloeError("internal", `${uri} is outside table ${loc.uri}`);
  return key;
}

/** Reads a file the table references; a missing one is a broken table, said loudly. */
export async function readReferenced(store: ObjectStore, loc: TableLocation, uri: string): Promise<Uint8Array> {
  const bytes = await store.get(fileKey(loc, uri));
  if (!bytes) throw new FloeError("internal", `${uri} is referenced by the table but missing`, { details: { table: loc.uri } });
  return bytes;
}

/** The manifests of a snapshot, from its manifest list. */
export async function snapshotManifests(store: ObjectStore, loc: TableLocation, s: Snapshot | undefined): Promise<ManifestFile[]> {
  return s ? readManifestList(await readReferenced(store, loc, s["manifest-list"])) : [];
}

/** A manifest's entries with the snapshot id and sequence numbers they inherit made explicit (spec "Sequence Number Inheritance"). */
export async function manifestEntries(store: ObjectStore, loc: TableLocation, mf: ManifestFile): Promise<ManifestEntry[]> {
  return readManifest(await readReferenced(store, loc, mf.manifestPath)).entries.map((e) => inherit(e, mf));
}

export function inherit(e: ManifestEntry, mf: ManifestFile): ManifestEntry {
  return {
    status: e.status,
    snapshotId: e.snapshotId ?? mf.addedSnapshotId,
    // Only ADDED entries inherit; the manifest's sequence number is the one of the snapshot that added it.
    sequenceNumber: e.sequenceNumber ?? mf.sequenceNumber,
    fileSequenceNumber: e.fileSequenceNumber ?? mf.sequenceNumber,
    dataFile: e.dataFile,
  };
}

/** An entry carried into a manifest written by a later snapshot: EXISTING, with explicit ids (only ADDED entries may inherit). */
export function asExisting(e: ManifestEntry): ManifestEntry {
  return { ...e, status: 0 };
}

export interface ManifestOut {
  file: ManifestFile;
  key: string;
}

/**
 * Writes one manifest of `entries` for `snapshotId` (spec id `specId`) and describes it as a
 * manifest list entry: counts by status and per-partition-field summaries.
 */
export async function writeManifestFile(
  store: ObjectStore,
  loc: TableLocation,
  m: TableMetadata,
  opts: { specId: number; snapshotId: bigint; sequenceNumber: number; entries: ManifestEntry[]; codec?: "deflate" | "null" },
): Promise<ManifestOut> {
  const spec = m["partition-specs"].find((s) => s["spec-id"] === opts.specId);
  if (!spec) throw new FloeError("internal", `partition spec ${opts.specId} is not in the table's metadata`);
  const schema = currentSchema(m);
  const pType = partitionType(spec, schema);
  const bytes = writeManifest({ schema, spec, partitionType: { fields: pType }, entries: opts.entries, codec: opts.codec ?? "deflate" });
  const name = `metadata/${crypto.randomUUID()}-m0.avro`;
  const key = `${loc.key}/${name}`;
  await store.put(key, bytes, { ifNoneMatch: "*", contentType: "application/avro" });
  const count = (status: number) => opts.entries.filter((e) => e.status === status);
  const rows = (es: ManifestEntry[]) => es.reduce((n, e) => n + e.dataFile.recordCount, 0);
  const seqs = opts.entries.filter((e) => e.status !== 2).map((e) => e.sequenceNumber ?? BigInt(opts.sequenceNumber));
  const seq = BigInt(opts.sequenceNumber);
  const file: ManifestFile = {
    manifestPath: `${loc.uri}/${name}`,
    manifestLength: bytes.byteLength,
    partitionSpecId: opts.specId,
    content: 0,
    sequenceNumber: seq,
    minSequenceNumber: seqs.reduce((a, b) => (b < a ? b : a), seq),
    addedSnapshotId: opts.snapshotId,
    addedFilesCount: count(1).length,
    existingFilesCount: count(0).length,
    deletedFilesCount: count(2).length,
    addedRowsCount: rows(count(1)),
    existingRowsCount: rows(count(0)),
    deletedRowsCount: rows(count(2)),
    partitions: summarizePartitions(pType, opts.entries.map((e) => e.dataFile)),
  };
  return { file, key };
}

/**
 * Manifest list `partitions`: per partition field, whether nulls/NaNs occur and the value range
 * (spec `field_summary`). Values read back from manifests come as the Avro decoder gives them
 * (decimals as their fixed bytes): those compare through their single-value form.
 */
export function summarizePartitions(fields: NestedField[], files: readonly DataFile[]): FieldSummary[] {
  return fields.map((f, i) => {
    const type = f.type as PrimitiveType;
    let containsNull = false;
    let containsNan = false;
    let lo: unknown = null;
    let hi: unknown = null;
    for (const file of files) {
      let v = file.partition[i];
      if (v instanceof Uint8Array && type.startsWith("decimal")) v = fromSingleValue(type, v);
      if (v === null || v === undefined) containsNull = true;
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
