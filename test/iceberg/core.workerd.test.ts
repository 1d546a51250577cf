import { gunzipSync } from "fflate";
import { parquetReadObjects } from "hyparquet";
import { describe, expect, it } from "vitest";
import { ndjsonBatches } from "../../src/decode/ndjson.js";
import { appendBatches, appendRows } from "../../src/iceberg/append-rows.js";
import { readManifest, readManifestList } from "../../src/iceberg/manifest-read.js";
import { currentSnapshot } from "../../src/iceberg/metadata.js";
import { loadTable, tableLocation } from "../../src/iceberg/table.js";
import { MemoryStore } from "../../src/storage/memory-store.js";

// The same core that the Node tests check against independent readers, run inside workerd: it
// must not touch Node APIs, compile code from strings, or instantiate wasm at run time.
describe("the core inside workerd", () => {
  it("writes, evolves and partitions a table through the store port", async () => {
    const store = new MemoryStore();
    const loc = tableLocation("lake", "warehouse", "default", "events");
    await appendRows(store, loc, [{ id: 1, kind: "a", at: "2024-05-01T10:00:00Z" }], {
      create: { schema: { type: "struct", fields: [
        { id: 0, name: "id", required: true, type: "long" },
        { id: 0, name: "kind", required: false, type: "string" },
        { id: 0, name: "at", required: false, type: "timestamptz" },
      ] }, partitionBy: [{ source: "at", transform: "day" }] },
      codec: "gzip",
    });
    const ndjson = '{"id":2,"kind":"b","at":"2024-05-02T00:00:00Z","extra":true}\n{"id":3,"at":"2024-05-01T23:59:59.999999Z"}\n';
    const body = new Blob([ndjson]).stream();
    const r = await appendBatches(store, loc, ndjsonBatches(body));
    expect(r.rowCount).toBe(2);

    const t = (await loadTable(store, loc))!;
    expect(t.version).toBe(3);
    expect(t.metadata.schemas.at(-1)!.fields.map((f) => f.name)).toEqual(["id", "kind", "at", "extra"]);
    const list = readManifestList((await store.get(currentSnapshot(t.metadata)!["manifest-list"].replace(`${loc.uri}/`, `${loc.key}/`)))!);
    expect(list.map((m) => m.addedRowsCount).sort()).toEqual([1, 2]);
    const rows: Record<string, unknown>[] = [];
    for (const m of list) {
      const { entries } = readManifest((await store.get(m.manifestPath.replace(`${loc.uri}/`, `${loc.key}/`)))!);
      for (const e of entries) {
        expect(e.dataFile.filePath).toMatch(/\/data\/at_day=2024-05-0[12]\//);
        const bytes = (await store.get(e.dataFile.filePath.replace(`${loc.uri}/`, `${loc.key}/`)))!;
        expect(bytes.byteLength).toBe(e.dataFile.fileSizeInBytes);
        const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
        // hyparquet-compressors is wasm compiled at run time, which workerd forbids: fflate instead.
        rows.push(...(await parquetReadObjects({ file, compressors: { GZIP: (input: Uint8Array) => gunzipSync(input) } })));
      }
    }
    expect(rows.map((x) => Number(x.id)).sort()).toEqual([1, 2, 3]);
    expect(rows.find((x) => x.id === 2n)).toMatchObject({ kind: "b", extra: true });
  });

  it("refuses a bad NDJSON line with its number and writes nothing", async () => {
    const store = new MemoryStore();
    const loc = tableLocation("lake", "warehouse", "default", "events");
    const body = new Blob(['{"id":1}\n{"id":\n']).stream();
    await expect(appendBatches(store, loc, ndjsonBatches(body), { create: {} })).rejects.toThrow(/^line 2: invalid JSON/);
    expect(store.size).toBe(0);
  });
});
