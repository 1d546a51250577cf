import type { ObjectStore } from "../../storage/object-store.js";
import type { ManifestFile } from "../data-file.js";
import type { Snapshot } from "../metadata.js";
import type { TableLocation } from "../table.js";
import { manifestEntries, snapshotManifests } from "../transaction/manifests.js";

/** What a set of snapshots references: manifest lists, manifests, and the data files live in them. */
export interface Reachable {
  lists: Set<string>;
  manifests: Set<string>;
  /**
   * Data files live (ADDED or EXISTING) in some snapshot of the set. A DELETED entry references
   * nothing a reader needs: the file it names is live only in that snapshot's parent (kept or not),
   * as Iceberg's own reachability (`ManifestFiles.readPaths`, live entries) has it.
   */
  live: Set<string>;
}

/**
 * Reads what `snapshots` reference, each manifest list and each distinct manifest once (snapshots
 * share most of their manifests): the cost follows the table's live manifests, not its history.
 * `entries: false` reads the manifest lists only.
 */
export async function reachableFrom(store: ObjectStore, loc: TableLocation, snapshots: readonly Snapshot[], opts: { entries?: boolean } = {}): Promise<Reachable & { manifestFiles: Map<string, ManifestFile> }> {
  const r = { lists: new Set<string>(), manifests: new Set<string>(), live: new Set<string>(), manifestFiles: new Map<string, ManifestFile>() };
  for (const s of snapshots) {
    if (r.lists.has(s["manifest-list"])) continue;
    r.lists.add(s["manifest-list"]);
    for (const mf of await snapshotManifests(store, loc, s)) {
      if (r.manifests.has(mf.manifestPath)) continue;
      r.manifests.add(mf.manifestPath);
      r.manifestFiles.set(mf.manifestPath, mf);
    }
  }
  if (opts.entries !== false) {
    for (const mf of r.manifestFiles.values()) {
      for (const e of await manifestEntries(store, loc, mf)) {
        if (e.status !== 2) r.live.add(e.dataFile.filePath);
      }
    }
  }
  return r;
}
