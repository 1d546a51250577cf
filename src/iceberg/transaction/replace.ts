import { FloeError } from "../../errors.js";
import type { ObjectStore } from "../../storage/object-store.js";
import type { DataFile, ManifestEntry, ManifestFile } from "../data-file.js";
import { currentSnapshot, defaultSpec } from "../metadata.js";
import type { LoadedTable, TableLocation } from "../table.js";
import { asExisting, manifestEntries, snapshotManifests, writeManifestFile } from "./manifests.js";
import { mergeManifests, mergeSettings, planMerge } from "./merge-manifests.js";
import { commitSnapshot, nameMappingUpdate, partitionCount, randomSnapshotId, totals, type SnapshotChange } from "./snapshot.js";

/** The refusal of a replace whose inputs are no longer all live: the caller plans again from the table as it is. */
export function staleInputs(missing: readonly string[]): FloeError {
  return new FloeError("commit_conflict", `replace refused: ${missing.length} of its input files are no longer live (first: ${missing[0]}); plan again`, { retryable: true, details: { stale: missing.length } });
}

/**
 * Plans a `replace` snapshot (compaction): `remove` (data file paths) leave the table, `add` take
 * their place, with the same rows. As the spec requires of a replace, every file it removes must
 * still be live in the current snapshot: otherwise (another compaction or a delete got there
 * first) it is refused with `staleInputs`, never committing a file twice. Manifests holding removed
 * files are rewritten with those entries DELETED; the others are carried as they are.
 */
export async function planReplace(store: ObjectStore, loc: TableLocation, base: LoadedTable, opts: { remove: readonly string[]; add: readonly DataFile[]; specId?: number; summary?: Record<string, string>; now?: number }): Promise<SnapshotChange> {
  const m = base.metadata;
  const parent = currentSnapshot(m);
  const snapshotId = randomSnapshotId();
  const sequenceNumber = m["last-sequence-number"] + 1;
  const remove = new Set(opts.remove);
  const removed: DataFile[] = [];
  const manifests: ManifestFile[] = [];
  const written: string[] = [];
  for (const mf of await snapshotManifests(store, loc, parent)) {
    const entries = mf.content === 0 && (mf.addedFilesCount + mf.existingFilesCount > 0) ? await manifestEntries(store, loc, mf) : [];
    if (!entries.some((e) => e.status !== 2 && remove.has(e.dataFile.filePath))) {
      manifests.push(mf);
      continue;
    }
    const out: ManifestEntry[] = [];
    for (const e of entries) {
      if (e.status === 2) continue; // deletes of earlier snapshots describe those snapshots only
      if (remove.has(e.dataFile.filePath)) {
        removed.push(e.dataFile);
        out.push({ ...e, status: 2, snapshotId });
      } else out.push(asExisting(e));
    }
    const w = await writeManifestFile(store, loc, m, { specId: mf.partitionSpecId, snapshotId, sequenceNumber, entries: out });
    written.push(w.key);
    manifests.push(w.file);
  }
  const found = new Set(removed.map((f) => f.filePath));
  const missing = [...remove].filter((p) => !found.has(p));
  if (missing.length || removed.length !== remove.size) {
    if (written.length) await store.delete(written).catch(() => undefined);
    throw staleInputs(missing.length ? missing : ["a file listed twice"]);
  }
  if (opts.add.length) {
    const w = await writeManifestFile(store, loc, m, {
      specId: opts.specId ?? defaultSpec(m)["spec-id"],
      snapshotId,
      sequenceNumber,
      entries: opts.add.map((dataFile) => ({ status: 1 as const, snapshotId, sequenceNumber: null, fileSequenceNumber: null, dataFile })),
    });
    written.push(w.key);
    manifests.unshift(w.file);
  }
  const merged = await mergeManifests(store, loc, m, manifests, { snapshotId, sequenceNumber });
  const records = (fs: readonly DataFile[]) => fs.reduce((n, f) => n + f.recordCount, 0);
  const bytes = (fs: readonly DataFile[]) => fs.reduce((n, f) => n + f.fileSizeInBytes, 0);
  const summary = {
    ...opts.summary,
    operation: "replace" as const,
    "added-data-files": String(opts.add.length),
    "deleted-data-files": String(removed.length),
    "added-records": String(records(opts.add)),
    "deleted-records": String(records(removed)),
    "added-files-size": String(bytes(opts.add)),
    "removed-files-size": String(bytes(removed)),
    "changed-partition-count": String(partitionCount([...opts.add, ...removed])),
    ...totals(parent, opts.add, removed),
    "engine-name": "floe",
  };
  return commitSnapshot(store, loc, m, { snapshotId, parent, manifests: merged.manifests, summary, now: opts.now ?? Date.now(), written: [...written, ...merged.written], updatesBefore: nameMappingUpdate(m) });
}

/**
 * Plans the `rewrite-manifests` action: every manifest of the current snapshot packed into
 * manifests of about `commit.manifest.target-size-bytes`, as a `replace` snapshot with the same
 * files and rows; null when there is nothing to merge.
 */
export async function planRewriteManifests(store: ObjectStore, loc: TableLocation, base: LoadedTable, opts: { now?: number } = {}): Promise<(SnapshotChange & { manifestsBefore: number; manifestsAfter: number }) | null> {
  const m = base.metadata;
  const parent = currentSnapshot(m);
  if (!parent) return null;
  const snapshotId = randomSnapshotId();
  const sequenceNumber = m["last-sequence-number"] + 1;
  const before = await snapshotManifests(store, loc, parent);
  const merged = await mergeManifests(store, loc, m, before, { snapshotId, sequenceNumber, force: true });
  if (!merged.created && merged.manifests.length === before.length) return null;
  const summary = {
    operation: "replace" as const,
    "manifests-created": String(merged.created),
    "manifests-replaced": String(merged.replaced),
    "manifests-kept": String(merged.manifests.length - merged.created),
    "added-data-files": "0",
    "deleted-data-files": "0",
    ...totals(parent, [], []),
    "engine-name": "floe",
  };
  const change = await commitSnapshot(store, loc, m, { snapshotId, parent, manifests: merged.manifests, summary, now: opts.now ?? Date.now(), written: merged.written, updatesBefore: nameMappingUpdate(m) });
  return { ...change, manifestsBefore: before.length, manifestsAfter: merged.manifests.length };
}

/** What `rewrite-manifests` would do, without writing anything (a dry run). */
export async function previewRewriteManifests(store: ObjectStore, loc: TableLocation, base: LoadedTable): Promise<{ manifestsBefore: number; manifestsAfter: number }> {
  const before = await snapshotManifests(store, loc, currentSnapshot(base.metadata));
  const bins = planMerge(before, mergeSettings(base.metadata.properties), true);
  return { manifestsBefore: before.length, manifestsAfter: before.length - bins.reduce((n, b) => n + b.length - 1, 0) };
}
