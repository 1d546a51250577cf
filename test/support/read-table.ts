import { gunzipSync } from "fflate";
import { parquetReadObjects } from "hyparquet";
import { readManifest, readManifestList } from "../../src/iceberg/manifest-read.js";
import { currentSnapshot, type TableMetadata } from "../../src/iceberg/metadata.js";
import { loadTable, type TableLocation } from "../../src/iceberg/table.js";
import type { ObjectStore } from "../../src/storage/object-store.js";

/**
 * Every row of a table's current snapshot, read with hyparquet from the files its manifests list
 * (works in workerd, where icebird's wasm decompressors cannot load). Also checks that no snapshot
 * references a missing file: every manifest list, manifest and data file of every snapshot is read.
 */
export async function readTable(store: ObjectStore, loc: TableLocation): Promise<{ rows: Record<string, unknown>[]; metadata: TableMetadata | null; missing: string[] }> {
  const t = await loadTable(store, loc);
  if (!t) return { rows: [], metadata: null, missing: [] };
  const key = (uri: string) => uri.replace(`${loc.uri}/`, `${loc.key}/`);
  const missing: string[] = [];
  const get = async (uri: string) => {
    const b = await store.get(key(uri));
    if (!b) missing.push(uri);
    return b;
  };
  let rows: Record<string, unknown>[] = [];
  for (const snap of t.metadata.snapshots) {
    const isCurrent = snap === currentSnapshot(t.metadata);
    const list = await get(snap["manifest-list"]);
    if (!list) continue;
    for (const m of readManifestList(list)) {
      const mb = await get(m.manifestPath);
      if (!mb) continue;
      for (const e of readManifest(mb).entries) {
        // A DELETED entry (a compaction's input) is not part of the snapshot; its file goes when older snapshots expire.
        if (e.status === 2) continue;
        const bytes = await get(e.dataFile.filePath);
        if (!bytes || !isCurrent) continue;
        const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
        rows = rows.concat(await parquetReadObjects({ file, compressors: { GZIP: (input: Uint8Array) => gunzipSync(input) } }));
      }
    }
  }
  return { rows, metadata: t.metadata, missing };
}
