import { numberProperty } from "../properties.js";
import { listAll, type ObjectStore } from "../../storage/object-store.js";
import { keyOf, type LoadedTable, type TableLocation } from "../table.js";
import { keysInside } from "./expire.js";
import { reachableFrom } from "./reachable.js";

/** `floe.orphan.older-than-ms`: 3 days, as S3 Tables uses. A batch's data file is unreferenced until its commit, and a commit can wait out retries for minutes: only files far older than any write in flight are orphans. */
export const DEFAULT_ORPHAN_AGE_MS = 3 * 86_400_000;

export function orphanAgeMs(props: Record<string, string>): number {
  return numberProperty(props, "floe.orphan.older-than-ms", DEFAULT_ORPHAN_AGE_MS, { min: 0 });
}

export interface OrphanReport {
  scanned: number;
  orphans: number;
  bytes: number;
  /** The first few orphan keys, for the report. */
  sample: string[];
}

/**
 * The `remove-orphans` action: deletes objects under the table's location that nothing kept
 * references (the current metadata file and its log, `version-hint.text`, every kept snapshot's
 * manifest list, its manifests and the data files live in them) and that were written more
 * than `olderThanMs` ago. Objects without a write time are never deleted, nor what `keep` names
 * (work in flight the caller knows of). Such objects are what
 * failed batches, crashed maintenance steps and refused commits leave behind.
 */
export async function removeOrphans(store: ObjectStore, loc: TableLocation, table: LoadedTable, opts: { now: number; olderThanMs: number; dryRun?: boolean; keep?: ReadonlySet<string>; fault?: (point: string) => void }): Promise<OrphanReport> {
  const m = table.metadata;
  const r = await reachableFrom(store, loc, m.snapshots);
  const kept = new Set(keysInside(loc, [table.metadataLocation, ...m["metadata-log"].map((e) => e["metadata-file"]), ...r.lists, ...r.manifests, ...r.live]));
  kept.add(`${loc.key}/metadata/version-hint.text`);
  // Files of work in flight that the caller knows of (a running compaction's segments and output), as keys or URIs.
  for (const k of opts.keep ?? []) kept.add(keyOf(loc, k) ?? k);
  const cutoff = opts.now - opts.olderThanMs;
  const objects = await listAll(store, `${loc.key}/`);
  const orphans = objects.filter((o) => !kept.has(o.key) && o.lastModified !== undefined && o.lastModified < cutoff);
  if (!opts.dryRun && orphans.length) {
    const half = Math.ceil(orphans.length / 2);
    await store.delete(orphans.slice(0, half).map((o) => o.key));
    opts.fault?.("orphans-mid-delete");
    await store.delete(orphans.slice(half).map((o) => o.key));
  }
  return { scanned: objects.length, orphans: orphans.length, bytes: orphans.reduce((n, o) => n + o.size, 0), sample: orphans.slice(0, 5).map((o) => o.key) };
}
