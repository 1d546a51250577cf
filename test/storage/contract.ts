import { describe, expect, it } from "vitest";
import { isFloeError } from "../../src/errors.js";
import { listAll, type ObjectStore } from "../../src/storage/object-store.js";

/**
 * Asserts two byte arrays are equal; fast on megabytes (vitest's toEqual takes seconds on 12 MiB) and
 * names the first differing offset.
 */
export function expectSameBytes(actual: Uint8Array | null | undefined, expected: Uint8Array): void {
  expect(actual?.byteLength).toBe(expected.byteLength);
  let at = -1;
  for (let i = 0; i < expected.byteLength; i++) {
    if (actual![i] !== expected[i]) {
      at = i;
      break;
    }
  }
  expect(at, "first differing byte offset").toBe(-1);
}

/**
 * The behaviour every ObjectStore must have (STYLE.md 3), run against each implementation: the
 * in-memory store, the R2 binding (workerd) and the S3 API (a real `wrangler dev`). Each test works
 * under its own random prefix, so stores that share a bucket across tests (S3, R2) stay independent.
 *
 * @example
 * storeContract("MemoryStore", () => new MemoryStore());
 */
export function storeContract(name: string, make: () => Promise<ObjectStore> | ObjectStore): void {
  const text = new TextEncoder();
  let run = 0;
  const setup = async () => ({ store: await make(), p: `contract-${Date.now().toString(36)}-${run++}-${Math.random().toString(36).slice(2, 8)}/` });
  const bytesOf = (n: number, seed = 1) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = (i * 131 + seed * 17 + (i >> 8)) & 255;
    return out;
  };
  const readAll = async (stream: ReadableStream<Uint8Array>) => new Uint8Array(await new Response(stream).arrayBuffer());
  /** Settles a promise into the FloeError code it rejected with, or "ok". */
  const outcome = (p: Promise<unknown>) => p.then(() => "ok", (e: unknown) => (isFloeError(e) ? e.code : `non-FloeError: ${String(e)}`));

  describe(`${name}: object store contract`, () => {
    it("round-trips bytes, every byte value, and reports size and ETag", async () => {
      const { store, p } = await setup();
      const body = Uint8Array.from({ length: 512 }, (_, i) => i & 255);
      const info = await store.put(`${p}bytes.bin`, body);
      expect(info).toMatchObject({ key: `${p}bytes.bin`, size: 512 });
      expect(info.etag.length).toBeGreaterThan(0);
      expect(await store.get(`${p}bytes.bin`)).toEqual(body);
    });

    it("round-trips a string as its UTF-8 bytes", async () => {
      const { store, p } = await setup();
      const info = await store.put(`${p}s.json`, '{"name":"Zoë ✓ 🙂"}', { contentType: "application/json" });
      expect(info.size).toBe(text.encode('{"name":"Zoë ✓ 🙂"}').byteLength);
      expect(new TextDecoder().decode((await store.get(`${p}s.json`))!)).toBe('{"name":"Zoë ✓ 🙂"}');
    });

    it("joins a body given in parts, and stores an empty body", async () => {
      const { store, p } = await setup();
      const parts = [bytesOf(3, 1), new Uint8Array(0), bytesOf(1000, 2), bytesOf(1, 3)];
      expect((await store.put(`${p}parts`, parts)).size).toBe(1004);
      expect(await store.get(`${p}parts`)).toEqual(Uint8Array.from([...parts[0], ...parts[2], ...parts[3]]));
      expect((await store.put(`${p}empty`, new Uint8Array(0))).size).toBe(0);
      expect(await store.get(`${p}empty`)).toEqual(new Uint8Array(0));
    });

    it("round-trips a 1 MiB body", async () => {
      const { store, p } = await setup();
      const body = bytesOf(1024 * 1024, 9);
      await store.put(`${p}big`, body);
      expectSameBytes(await store.get(`${p}big`), body);
    });

    it("answers null for a missing key, from get and from getStream", async () => {
      const { store, p } = await setup();
      expect(await store.get(`${p}missing`)).toBeNull();
      expect(await store.getStream(`${p}missing`)).toBeNull();
    });

    it("streams an object with its size", async () => {
      const { store, p } = await setup();
      const body = bytesOf(70_000, 4);
      await store.put(`${p}stream.bin`, body);
      const got = await store.getStream(`${p}stream.bin`);
      expect(got?.size).toBe(70_000);
      expectSameBytes(await readAll(got!.body), body);
    });

    it("refuses a create-only put on an existing key with already_exists, leaving the original", async () => {
      const { store, p } = await setup();
      await store.put(`${p}once`, "original");
      const err = await store.put(`${p}once`, "intruder", { ifNoneMatch: "*" }).catch((e: unknown) => e);
      expect(isFloeError(err, "already_exists")).toBe(true);
      expect(new TextDecoder().decode((await store.get(`${p}once`))!)).toBe("original");
    });

    it("creates with a create-only put when the key is free", async () => {
      const { store, p } = await setup();
      expect((await store.put(`${p}fresh`, "new", { ifNoneMatch: "*" })).size).toBe(3);
      expect(new TextDecoder().decode((await store.get(`${p}fresh`))!)).toBe("new");
    });

    it("lets exactly one of several concurrent create-only puts win", async () => {
      const { store, p } = await setup();
      const bodies = Array.from({ length: 6 }, (_, i) => `writer ${i}`);
      const results = await Promise.all(bodies.map((b) => outcome(store.put(`${p}race`, b, { ifNoneMatch: "*" }))));
      expect(results.filter((r) => r === "ok")).toHaveLength(1);
      expect(results.filter((r) => r !== "ok")).toEqual(Array(5).fill("already_exists"));
      expect(new TextDecoder().decode((await store.get(`${p}race`))!)).toBe(bodies[results.indexOf("ok")]);
    });

    it("overwrites without ifNoneMatch", async () => {
      const { store, p } = await setup();
      await store.put(`${p}k`, "first version, longer");
      const info = await store.put(`${p}k`, "second");
      expect(info.size).toBe(6);
      expect(new TextDecoder().decode((await store.get(`${p}k`))!)).toBe("second");
      expect((await store.list(`${p}k`)).objects).toEqual([expect.objectContaining({ key: `${p}k`, size: 6 })]);
    });

    it("lists a prefix in key order, a page at a time, with a cursor only while keys follow", async () => {
      const { store, p } = await setup();
      // Written out of order; lengths differ so sizes prove which object each entry describes.
      const keys = Array.from({ length: 25 }, (_, i) => `${p}dir/k${String((i * 7) % 25).padStart(2, "0")}`);
      await Promise.all(keys.map((k) => store.put(k, "x".repeat(Number(k.slice(-2)) + 1))));
      const sorted = [...keys].sort();
      const pages: string[][] = [];
      let cursor: string | undefined;
      do {
        const page = await store.list(`${p}dir/`, { cursor, limit: 10 });
        pages.push(page.objects.map((o) => o.key));
        for (const o of page.objects) expect(o.size).toBe(Number(o.key.slice(-2)) + 1);
        cursor = page.cursor;
      } while (cursor && pages.length < 10);
      expect(pages.map((pg) => pg.length)).toEqual([10, 10, 5]);
      expect(pages.flat()).toEqual(sorted);
      expect((await listAll(store, `${p}dir/`)).map((o) => o.key)).toEqual(sorted);
    });

    it("reads a byte range, and null for a missing key", async () => {
      const { store, p } = await setup();
      const body = bytesOf(5000, 3);
      await store.put(`${p}r`, body);
      expectSameBytes(await store.getRange(`${p}r`, 1000, 3500), body.subarray(1000, 3500));
      expectSameBytes(await store.getRange(`${p}r`, 4990, 5000), body.subarray(4990));
      expect(await store.getRange(`${p}absent`, 0, 10)).toBeNull();
    });

    it("writes a stream of uneven chunks across part boundaries (19 MiB: three 8 MiB parts) and an empty stream", async () => {
      const { store, p } = await setup();
      const body = bytesOf(19 * 1024 * 1024 + 5, 4);
      async function* chunks() {
        // Uneven chunks, some straddling the 8 MiB part boundaries.
        for (let at = 0, n = 1; at < body.byteLength; at += n, n = (n * 7 + 12345) % (3 * 1024 * 1024) + 1) yield body.subarray(at, Math.min(body.byteLength, at + n));
      }
      const info = await store.putStream(`${p}big`, chunks(), { ifNoneMatch: "*" });
      expect(info.size).toBe(body.byteLength);
      expectSameBytes(await store.get(`${p}big`), body);
      expect(await outcome(store.putStream(`${p}big`, chunks(), { ifNoneMatch: "*" }))).toBe("already_exists");
      await store.putStream(`${p}empty`, (async function* () {})());
      expect((await store.get(`${p}empty`))?.byteLength).toBe(0);
    });

    it("lists each object with the time it was written (orphan removal ages objects by it)", async () => {
      const { store, p } = await setup();
      const before = Date.now() - 5_000; // local R2 and S3 stamp whole seconds
      await store.put(`${p}aged`, "x");
      const [o] = (await store.list(`${p}aged`)).objects;
      expect(o.lastModified).toBeGreaterThanOrEqual(before);
      expect(o.lastModified).toBeLessThanOrEqual(Date.now() + 5_000);
    });

    it("lists only keys that start with the prefix (a string prefix, not a folder)", async () => {
      const { store, p } = await setup();
      await Promise.all([`${p}a/1`, `${p}a/2`, `${p}ab`, `${p}b/1`, `${p}A/1`].map((k) => store.put(k, "x")));
      expect((await store.list(`${p}a/`)).objects.map((o) => o.key)).toEqual([`${p}a/1`, `${p}a/2`]);
      expect((await store.list(`${p}a`)).objects.map((o) => o.key)).toEqual([`${p}a/1`, `${p}a/2`, `${p}ab`]);
      expect(await store.list(`${p}zzz/`)).toEqual({ objects: [] });
    });

    it("deletes one key, many keys, and shrugs at absent ones", async () => {
      const { store, p } = await setup();
      const keys = ["a", "b", "c", "d", "e"].map((k) => `${p}${k}`);
      await Promise.all(keys.map((k) => store.put(k, k)));
      await store.delete(keys[0]);
      expect(await store.get(keys[0])).toBeNull();
      await store.delete([keys[1], keys[3], `${p}never-was`]);
      expect((await listAll(store, p)).map((o) => o.key)).toEqual([keys[2], keys[4]]);
      await store.delete(`${p}never-was`);
      await store.delete([]);
      expect((await listAll(store, p)).map((o) => o.key)).toEqual([keys[2], keys[4]]);
    });

    it("copies an object inside the store, only the version asked for, and says not_found for a gone or changed source", async () => {
      const { store, p } = await setup();
      const first = await store.put(`${p}src/ünï code+x.bin`, bytesOf(70_000, 3));
      const copied = await store.copy(`${p}src/ünï code+x.bin`, `${p}dst/a.bin`, { ifMatch: first.etag });
      expect(copied.size).toBe(70_000);
      expectSameBytes(await store.get(`${p}dst/a.bin`), bytesOf(70_000, 3));
      // Bare and quoted ETags name the same version; no ifMatch copies whatever is there.
      await store.copy(`${p}src/ünï code+x.bin`, `${p}dst/b.bin`, { ifMatch: first.etag.replace(/"/g, "") });
      await store.copy(`${p}src/ünï code+x.bin`, `${p}dst/c.bin`);
      expectSameBytes(await store.get(`${p}dst/c.bin`), bytesOf(70_000, 3));
      await store.put(`${p}src/ünï code+x.bin`, bytesOf(10, 4));
      expect(await outcome(store.copy(`${p}src/ünï code+x.bin`, `${p}dst/d.bin`, { ifMatch: first.etag }))).toBe("not_found");
      expect(await outcome(store.copy(`${p}src/never-was.bin`, `${p}dst/e.bin`))).toBe("not_found");
      expect((await listAll(store, `${p}dst/`)).map((o) => o.key)).toEqual([`${p}dst/a.bin`, `${p}dst/b.bin`, `${p}dst/c.bin`]);
    });

    it("keeps keys with spaces, unicode, +, %, =, quotes and XML characters exactly", async () => {
      const { store, p } = await setup();
      const odd = [
        "ts_day=2024-01-01/kind=a+b%2Fc/x.parquet",
        "with space/and  two spaces.txt",
        "unicode/héllo/日本語/🙂.json",
        "percent/%41%zz%",
        "reserved/!'()*&$,;:@=?#[]~.bin",
        `xml/<tag>&amp;"quoted"'apos'.txt`,
        "plus/a+b+c",
      ].map((k) => `${p}${k}`);
      for (const [i, k] of odd.entries()) await store.put(k, `body ${i}`);
      for (const [i, k] of odd.entries()) expect(new TextDecoder().decode((await store.get(k))!)).toBe(`body ${i}`);
      expect((await listAll(store, p)).map((o) => o.key)).toEqual([...odd].sort());
      expect((await store.list(`${p}ts_day=2024-01-01/kind=a+b%2Fc/`)).objects.map((o) => o.key)).toEqual([odd[0]]);
      await store.delete(odd);
      expect(await listAll(store, p)).toEqual([]);
    });
  });
}
