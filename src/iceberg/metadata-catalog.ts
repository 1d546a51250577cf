import type { ObjectStore } from "../storage/object-store.js";
import type { TableCommit } from "./commit.js";
import { commitTable, loadTable, type LoadedTable, type TableLocation } from "./table.js";

/**
 * Where a table's current metadata is kept and swapped: the one thing that differs between a table
 * in the lake's own file layout and one registered in an external REST catalog (Basin, or any
 * catalog that follows the spec). Planning, manifests and data files are the same for both.
 *
 * `commit` throws a retryable `commit_conflict` only when the catalog certainly refused the change
 * because the table moved (the caller may then delete the files it wrote for it and plan again);
 * any other failure may leave the outcome unknown, and nothing written for it may be deleted.
 */
export interface MetadataCatalog {
  load(): Promise<LoadedTable | null>;
  commit(commit: TableCommit, opts: { now: number; base: LoadedTable | null }): Promise<LoadedTable>;
}

/** The lake's file layout (`v{N}.metadata.json`, see table.ts): the default. */
export function lakeCatalog(store: ObjectStore, loc: TableLocation): MetadataCatalog {
  return {
    load: () => loadTable(store, loc),
    commit: (commit, opts) => commitTable(store, loc, commit, opts),
  };
}
