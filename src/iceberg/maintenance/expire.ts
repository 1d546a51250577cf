import type { ObjectStore } from "../../storage/object-store.js";
import type { Snapshot } from "../metadata.js";
import { planExpiry } from "../transaction/expire-snapshots.js";
import { manifestEntries } from "../transaction/manifests.js";
import { keyOf, type LoadedTable, type TableLocation } from "../table.js";
import { transact } from "../transaction/transact.js";
import { reachableFrom } from "./reachable.js";

export interface ExpireReport {
  snapshotsExpired: number;
  refsRemoved: string[];
  /** Files only expired snapshots referenced: deleted (or, in a dry run, to be deleted). */
  manifestListsDeleted: number;
  manifestsDeleted: number;
  dataFilesDeleted: number;
  bytesDeleted: number;
}

/**
 * The `expire-snapshots` action: commits the retention policy's `remove-snapshots` (see
 * `planExpiry`), then deletes what only the expired snapshots referenced: their manifest lists,
 * manifests no kept snapshot lists, and data files (compaction inputs) no kept snapshot holds live.
 * The commit comes first: a crash before or during the deletes leaves only unreferenced files,
 * which orphan removal deletes later. A dry run commits and deletes nothing and reports what would go.
 */
export async function expireSnapshots(store: ObjectStore, loc: TableLocation, base: LoadedTable, opts: { now: number; olderThanMs?: number; protect?: (s: Snapshot) => boolean; dryRun?: boolean; fault?: (point: string) => void; gate?: CommitGate }): Promise<{ table: LoadedTable; report: ExpireReport }> {
  const empty: ExpireReport = { snapshotsExpired: 0, refsRemoved: [], manifestListsDeleted: 0, manifestsDeleted: 0, dataFilesDeleted: 0, bytesDeleted: 0 };
  let table = base;
  let plan = planExpiry(base.metadata, opts.now, opts);
  if (!plan.commit) return { table, report: empty };
  if (!opts.dryRun) {
    // Only the commit is exclusive with the table's other writers; the deletes after it need no lock:
    // a later commit can only reference the current snapshot's files, which are kept.
    table = await (opts.gate ?? soloGate).commit(async (b) => {
      const r = await transact(
        store,
        loc,
        async (x) => {
          plan = planExpiry(x!.metadata, opts.now, opts);
          return plan.commit ? { commit: plan.commit, written: [] } : null;
        },
        { base: b ?? base },
      );
      return r.table;
    });
  }
  const kept = await reachableFrom(store, loc, plan.kept);
  const gone = await reachableFrom(store, loc, plan.expired, { entries: false });
  const lists = [...gone.lists].filter((l) => !kept.lists.has(l));
  const manifests = [...gone.manifests].filter((m) => !kept.manifests.has(m));
  const data = new Map<string, number>();
  for (const path of manifests) {
    for (const e of await manifestEntries(store, loc, gone.manifestFiles.get(path)!)) {
      if (!kept.live.has(e.dataFile.filePath)) data.set(e.dataFile.filePath, e.dataFile.fileSizeInBytes);
    }
  }
  const report: ExpireReport = {
    snapshotsExpired: plan.expired.length,
    refsRemoved: plan.removedRefs,
    manifestListsDeleted: lists.length,
    manifestsDeleted: manifests.length,
    dataFilesDeleted: data.size,
    bytesDeleted: [...data.values()].reduce((a, b) => a + b, 0),
  };
  if (!opts.dryRun) {
    opts.fault?.("expire-after-commit");
    // Data files first, then the manifests naming them, then the lists: a crash part way leaves
    // manifests whose files are gone only where no kept snapshot references either.
    await store.delete(keysInside(loc, data.keys()));
    await store.delete(keysInside(loc, manifests));
    await store.delete(keysInside(loc, lists));
  }
  return { table, report };
}

/** Store keys of the URIs inside the table's location: a file elsewhere (an external writer's) is never deleted by Floe. */
export function keysInside(loc: TableLocation, uris: Iterable<string>): string[] {
  const out: string[] = [];
  for (const u of uris) {
    const k = keyOf(loc, u);
    if (k !== undefined) out.push(k);
  }
  return out;
}

/**
 * How maintenance commits share a table with its other writers. `commit` runs `fn` exclusively with
 * the table's other commits, on the table as it is then (or the caller's, when it keeps none), and
 * `fn`'s result becomes the table's current one. The TableDO passes its serial chain and cache; the
 * work around the commits (reading manifests, deleting, listing) runs outside it, so ingest's
 * commits wait only for maintenance's own commits.
 */
export interface CommitGate {
  commit(fn: (current: LoadedTable | null) => Promise<LoadedTable>): Promise<LoadedTable>;
}

/** A table with no other writer in this process: commits run as they come. */
export const soloGate: CommitGate = { commit: (fn) => fn(null) };
