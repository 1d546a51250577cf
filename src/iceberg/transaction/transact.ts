import { FloeError, isFloeError } from "../../errors.js";
import type { ObjectStore } from "../../storage/object-store.js";
import type { TableCommit } from "../commit.js";
import { lakeCatalog, type MetadataCatalog } from "../metadata-catalog.js";
import type { LoadedTable, TableLocation } from "../table.js";

/**
 * A planned change to a table: the commit (requirements and updates, as in the REST spec) and the
 * files written for it (manifests, manifest lists), which nothing references until it commits.
 */
export interface TableChange {
  commit: TableCommit;
  /** Store keys this plan wrote: deleted if the commit is refused, since nothing can reference them then. */
  written: string[];
}

/** Plans a change against the table as it is (`null`: it does not exist yet); null when there is nothing to change. */
export type Planner<T extends TableChange> = (base: LoadedTable | null) => Promise<T | null>;

export interface Committed<T extends TableChange> {
  /** The table after the commit (the base, when there was nothing to commit). */
  table: LoadedTable;
  change: T | null;
  /** The table the change was planned on and applied to. */
  base: LoadedTable | null;
}

/**
 * Plans a change and commits it (to the lake's layout, or `opts.catalog`); when another writer committed first (a requirement failed, or
 * the next metadata version already exists) it re-reads the table and plans again, up to
 * `attempts` times. A refused attempt's files are deleted: the refusal is certain, so nothing
 * references them. Any other failure leaves them (the commit may have landed): at worst orphans.
 */
export async function transact<T extends TableChange>(store: ObjectStore, loc: TableLocation, plan: Planner<T>, opts: { base?: LoadedTable | null; attempts?: number; now?: () => number; catalog?: MetadataCatalog } = {}): Promise<Committed<T>> {
  const now = opts.now ?? Date.now;
  const attempts = opts.attempts ?? 5;
  const catalog = opts.catalog ?? lakeCatalog(store, loc);
  let base = opts.base !== undefined ? opts.base : await catalog.load();
  for (let attempt = 1; ; attempt++) {
    const change = await plan(base);
    if (!change) return { table: base!, change, base };
    try {
      const table = await catalog.commit(change.commit, { now: now(), base });
      return { table, change, base };
    } catch (e) {
      // A refusal (conflict, or a catalog's "slow down") is certain: nothing references these files.
      if (isFloeError(e, "rate_limited") && change.written.length) await store.delete(change.written).catch(() => undefined);
      if (!isFloeError(e, "commit_conflict")) throw e;
      if (change.written.length) await store.delete(change.written).catch(() => undefined);
      if (attempt >= attempts) throw e;
      base = await catalog.load();
    }
  }
}

/** The table, which must exist. */
export function existing(base: LoadedTable | null, loc: TableLocation): LoadedTable {
  if (!base) throw new FloeError("not_found", `table ${loc.uri} does not exist`, { details: { table: loc.uri } });
  return base;
}
