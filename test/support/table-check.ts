import { icebergRead } from "icebird";
import { readManifest, readManifestList } from "../../src/iceberg/manifest-read.js";
import { currentSnapshot } from "../../src/iceberg/metadata.js";
import { loadTable, type TableLocation } from "../../src/iceberg/table.js";
import type { ObjectStore } from "../../src/storage/object-store.js";

/**
 * The table's health as a reader sees it: every file any kept snapshot references exists (a
 * missing one is what "Corrupted Catalog" means), and in the current snapshot no data file is
 * live twice. Returns the current snapshot's live data files.
 */
export async function checkTable(store: ObjectStore, loc: TableLocation): Promise<{ missing: string[]; twice: string[]; live: string[]; manifests: number }> {
  const t = (await loadTable(store, loc))!;
  const key = (uri: string) => uri.replace(`${loc.uri}/`, `${loc.key}/`);
  const missing: string[] = [];
  let live: string[] = [];
  let manifests = 0;
  for (const s of t.metadata.snapshots) {
    const list = await store.get(key(s["manifest-list"]));
    if (!list) {
      missing.push(s["manifest-list"]);
      continue;
    }
    const current = s === currentSnapshot(t.metadata);
    const entries = readManifestList(list);
    if (current) manifests = entries.length;
    for (const mf of entries) {
      const bytes = await store.get(key(mf.manifestPath));
      if (!bytes) {
        missing.push(mf.manifestPath);
        continue;
      }
      for (const e of readManifest(bytes).entries) {
        if (e.status !== 2 && !(await store.get(key(e.dataFile.filePath)))) missing.push(e.dataFile.filePath);
        if (current && e.status !== 2) live.push(e.dataFile.filePath);
      }
    }
  }
  const seen = new Set<string>();
  const twice = live.filter((p) => (seen.has(p) ? true : (seen.add(p), false)));
  live = [...seen];
  return { missing: [...new Set(missing)], twice, live, manifests };
}

/** The table's rows as icebird reads them (`serveStoreOverFetch` must point fetch at the store), ids sorted. */
export async function icebirdIds(loc: TableLocation, column = "id"): Promise<number[]> {
  const rows = await icebergRead({ tableUrl: loc.uri });
  return rows.map((r: Record<string, unknown>) => Number(r[column])).sort((a: number, b: number) => a - b);
}
