import { describe, expect, it } from "vitest";
import { appendRows } from "../../../src/iceberg/append-rows.js";
import type { ManifestFile } from "../../../src/iceberg/data-file.js";
import { currentSnapshot } from "../../../src/iceberg/metadata.js";
import { loadTable, type TableLocation } from "../../../src/iceberg/table.js";
import { mergeSettings, planMerge } from "../../../src/iceberg/transaction/merge-manifests.js";
import { MemoryStore } from "../../../src/storage/memory-store.js";
import { avscRead, pythonAvroRead } from "../../support/avro-readers.js";
import { memoryLake } from "../../support/memory-lake.js";
import { checkTable, icebirdIds } from "../../support/table-check.js";

const mf = (i: number, length: number, spec = 0): ManifestFile => ({
  manifestPath: `s3://l/t/metadata/m${i}.avro`, manifestLength: length, partitionSpecId: spec, content: 0, sequenceNumber: BigInt(i), minSequenceNumber: BigInt(i), addedSnapshotId: BigInt(i),
  addedFilesCount: 1, existingFilesCount: 0, deletedFilesCount: 0, addedRowsCount: 1, existingRowsCount: 0, deletedRowsCount: 0, partitions: [],
});
const names = (bins: ManifestFile[][]) => bins.map((b) => b.map((m) => m.manifestPath.slice(-7, -5).replace("m", "")));

describe("planMerge: merge boundaries", () => {
  const s = mergeSettings({ "commit.manifest.min-count-to-merge": "4", "commit.manifest.target-size-bytes": "100" });

  it("takes Iceberg's defaults: merge on, more than 100 manifests, 8 MB", () => {
    expect(mergeSettings({})).toEqual({ enabled: true, minCount: 100, targetBytes: 8 * 1024 * 1024 });
  });

  it("merges nothing at min-count-to-merge, everything one past it", () => {
    expect(planMerge([1, 2, 3, 4].map((i) => mf(i, 10)), s)).toEqual([]);
    expect(names(planMerge([1, 2, 3, 4, 5].map((i) => mf(i, 10)), s))).toEqual([["1", "2", "3", "4", "5"]]);
  });

  it("packs newest first into bins of the target size; a manifest that fills a bin alone stays", () => {
    const bins = planMerge([mf(1, 30), mf(2, 30), mf(3, 30), mf(4, 30), mf(5, 95), mf(6, 40), mf(7, 40)], s);
    expect(names(bins)).toEqual([["1", "2", "3"], ["6", "7"]]);
  });

  it("never merges manifests of different partition specs; force ignores the count; off means off", () => {
    expect(names(planMerge([mf(1, 10, 0), mf(2, 10, 1), mf(3, 10, 0), mf(4, 10, 1), mf(5, 10, 0)], s))).toEqual([["1", "3", "5"], ["2", "4"]]);
    expect(names(planMerge([mf(1, 10), mf(2, 10)], s, true))).toEqual([["1", "2"]]);
    expect(planMerge([1, 2, 3, 4, 5].map((i) => mf(i, 10)), { ...s, enabled: false })).toEqual([]);
  });
});

describe("merge append", () => {
  let store: MemoryStore;
  let loc: TableLocation;
  memoryLake("merged", (s, l) => ((store = s), (loc = l)));

  it("keeps every snapshot at most min-count-to-merge manifests; readers see every row once", async () => {
    await appendRows(store, loc, [{ id: 0 }], { create: { properties: { "commit.manifest.min-count-to-merge": "4" } } });
    const counts: number[] = [];
    for (let i = 1; i < 12; i++) {
      await appendRows(store, loc, [{ id: i }]);
      counts.push((await checkTable(store, loc)).manifests);
    }
    // 2, 3, 4 manifests, then the 5th merges into one: the list cycles and never exceeds 4.
    expect(counts).toEqual([2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]);
    const check = await checkTable(store, loc);
    expect(check.missing).toEqual([]);
    expect(check.twice).toEqual([]);
    expect(check.live).toHaveLength(12);
    expect(await icebirdIds(loc)).toEqual(Array.from({ length: 12 }, (_, i) => i));

    // The merged manifest, as avsc and python3-avro decode it: this snapshot's file ADDED (status 1,
    // inheriting), the others EXISTING (status 0) with the snapshot ids and sequence numbers they were added with.
    const t = (await loadTable(store, loc))!;
    const merging = t.metadata.snapshots.find((s) => s.summary["manifests-created"] === "1" && s["sequence-number"] === 9)!;
    expect(merging.summary["manifests-replaced"]).toBe("5");
    const key = (uri: string) => uri.replace(`${loc.uri}/`, `${loc.key}/`);
    const list = await avscRead((await store.get(key(merging["manifest-list"])))!, { bigLongs: true });
    expect(list.records).toHaveLength(1);
    expect(list.records[0]).toMatchObject({ added_files_count: 1, existing_files_count: 8, min_sequence_number: 1n, sequence_number: 9n });
    for (const read of [(b: Uint8Array) => avscRead(b), async (b: Uint8Array) => pythonAvroRead(b)]) {
      const manifest = await read((await store.get(key(list.records[0].manifest_path)))!);
      const byStatus = manifest.records.map((e: { status: number; sequence_number: number | null; snapshot_id: number | null }) => [e.status, e.sequence_number === null ? null : Number(e.sequence_number), e.snapshot_id === null]);
      expect(byStatus.filter(([st]) => st === 1)).toHaveLength(1);
      expect(byStatus.filter(([st]) => st === 0).map(([, seq]) => seq).sort((a, b) => Number(a) - Number(b))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(byStatus.filter(([st]) => st === 0).every(([, , noSnap]) => !noSnap)).toBe(true);
    }
    expect(currentSnapshot(t.metadata)!.summary["total-data-files"]).toBe("12");
  });
});
