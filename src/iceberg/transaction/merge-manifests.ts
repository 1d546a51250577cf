import { numberProperty } from "../properties.js";
import type { ObjectStore } from "../../storage/object-store.js";
import type { ManifestEntry, ManifestFile } from "../data-file.js";
import type { TableMetadata } from "../metadata.js";
import type { TableLocation } from "../table.js";
import { asExisting, manifestEntries, writeManifestFile } from "./manifests.js";

/** Iceberg's manifest merge properties, with Iceberg's defaults. */
export interface MergeSettings {
  /** `commit.manifest-merge.enabled` (default true). */
  enabled: boolean;
  /** `commit.manifest.min-count-to-merge` (default 100): a snapshot carrying more manifests than this has them merged. */
  minCount: number;
  /** `commit.manifest.target-size-bytes` (default 8 MB): merged manifests are about this size. */
  targetBytes: number;
}

export function mergeSettings(props: Record<string, string>): MergeSettings {
  const int = (k: string, d: number) => numberProperty(props, k, d, { min: 1, integer: true });
  return {
    enabled: props["commit.manifest-merge.enabled"] !== "false",
    minCount: int("commit.manifest.min-count-to-merge", 100),
    targetBytes: int("commit.manifest.target-size-bytes", 8 * 1024 * 1024),
  };
}

/**
 * Which manifests to merge: per partition spec, in list order (newest first), manifests are packed
 * into bins of at most `targetBytes`; every bin holding more than one manifest becomes one merged
 * manifest. Nothing is merged while the snapshot carries at most `minCount` manifests, unless
 * `force` (the `rewrite-manifests` action). A manifest that fills a bin on its own is kept as it is,
 * so a merge rewrites at most a bin's worth: the cost of a commit stays flat as history grows.
 */
export function planMerge(manifests: readonly ManifestFile[], s: MergeSettings, force = false): ManifestFile[][] {
  if (!force && (!s.enabled || manifests.length <= s.minCount)) return [];
  const bySpec = new Map<number, ManifestFile[]>();
  for (const mf of manifests) {
    if (mf.content !== 0) continue; // delete manifests are never merged with data manifests
    const g = bySpec.get(mf.partitionSpecId) ?? [];
    g.push(mf);
    bySpec.set(mf.partitionSpecId, g);
  }
  const bins: ManifestFile[][] = [];
  for (const group of bySpec.values()) {
    let bin: ManifestFile[] = [];
    let size = 0;
    for (const mf of group) {
      if (bin.length && size + mf.manifestLength > s.targetBytes) {
        bins.push(bin);
        bin = [];
        size = 0;
      }
      bin.push(mf);
      size += mf.manifestLength;
    }
    if (bin.length) bins.push(bin);
  }
  return bins.filter((b) => b.length > 1);
}

export interface MergeResult {
  manifests: ManifestFile[];
  written: string[];
  replaced: number;
  created: number;
}

/**
 * Merges the bins `planMerge` chose into one manifest each, for the snapshot being committed.
 * Entries this snapshot added (or deleted) keep their status; every other live entry is carried as
 * EXISTING with its sequence numbers made explicit, and entries deleted by earlier snapshots are
 * dropped (they only described those snapshots' changes). The merged manifest takes the place of
 * the first manifest of its bin, so the list keeps its newest-first order.
 */
export async function mergeManifests(
  store: ObjectStore,
  loc: TableLocation,
  m: TableMetadata,
  manifests: readonly ManifestFile[],
  opts: { snapshotId: bigint; sequenceNumber: number; force?: boolean },
): Promise<MergeResult> {
  const bins = planMerge(manifests, mergeSettings(m.properties), opts.force);
  if (!bins.length) return { manifests: [...manifests], written: [], replaced: 0, created: 0 };
  const replaced = new Map<ManifestFile, ManifestFile | null>();
  const written: string[] = [];
  for (const bin of bins) {
    const entries: ManifestEntry[] = [];
    for (const mf of bin) {
      for (const e of await manifestEntries(store, loc, mf)) {
        const mine = e.snapshotId === opts.snapshotId;
        if (mine) entries.push(e.status === 1 ? { ...e, snapshotId: opts.snapshotId, sequenceNumber: null, fileSequenceNumber: null } : e);
        else if (e.status !== 2) entries.push(asExisting(e));
      }
    }
    for (const mf of bin.slice(1)) replaced.set(mf, null);
    if (!entries.length) {
      replaced.set(bin[0], null); // nothing live left in the bin
      continue;
    }
    const out = await writeManifestFile(store, loc, m, { specId: bin[0].partitionSpecId, snapshotId: opts.snapshotId, sequenceNumber: opts.sequenceNumber, entries });
    written.push(out.key);
    replaced.set(bin[0], out.file);
  }
  const result: ManifestFile[] = [];
  for (const mf of manifests) {
    const r = replaced.get(mf);
    if (r === undefined) result.push(mf);
    else if (r !== null) result.push(r);
  }
  return { manifests: result, written, replaced: replaced.size, created: written.length };
}
