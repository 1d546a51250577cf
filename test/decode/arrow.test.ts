import { gzipSync } from "node:zlib";
import {
  Binary, DateMillisecond, FixedSizeBinary, FixedSizeList, Field, Int8, Int32, LargeUtf8, makeData, Map_, Struct, Table, tableFromIPC, tableToIPC,
  TimeMicrosecond, TimestampNanosecond, TimestampSecond, Uint64, Utf8, vectorFromArray, type Data,
} from "apache-arrow";
import { describe, expect, it } from "vitest";
import { batches, failure, fixture, rows, SOURCE } from "./helpers.js";

/** What went into the Arrow fixtures (make.mjs), in the decoders' value conventions. */
const EXPECTED = SOURCE.map((r) => ({ ...r, id: BigInt(r.id), seen_tz: r.seen === null ? null : `${r.seen}+00:00` }));

describe("Arrow IPC written by apache-arrow", () => {
  it("reads the stream format a record batch at a time, exactly", async () => {
    const bytes = fixture("arrow-js.arrows");
    for (const chunk of [1, 13, 1 << 20]) {
      const got = await batches(bytes, { format: "arrow" }, chunk);
      expect(got.map((b) => [b.first, b.rows.length])).toEqual([
        [0, 4],
        [4, 6],
      ]);
      expect(got.flatMap((b) => b.rows)).toEqual(EXPECTED);
    }
  });

  it("reads the file format exactly", async () => {
    const bytes = fixture("arrow-js.arrow");
    expect(new TextDecoder().decode(bytes.subarray(0, 6))).toBe("ARROW1");
    expect(await rows(bytes, { format: "arrow" }, 100)).toEqual(EXPECTED);
  });

  it("agrees with apache-arrow's own row view where that view is exact", async () => {
    const table = tableFromIPC(fixture("arrow-js.arrows"));
    const theirs = table.toArray().map((r) => r.toJSON());
    const ours = await rows(fixture("arrow-js.arrows"), { format: "arrow" });
    for (const [i, row] of ours.entries()) {
      expect(row.id).toBe(theirs[i].id);
      expect(row.name).toBe(theirs[i].name);
      expect(row.zip).toBe(theirs[i].zip);
      expect(row.tags).toEqual(theirs[i].tags === null ? null : [...theirs[i].tags]);
      // apache-arrow's view of a timestamp is epoch millis as a float; ours is the exact text.
      if (row.seen !== null) expect(Date.parse(`${row.seen}Z`)).toBe(Math.floor(theirs[i].seen));
    }
  });

  it("splits a record batch into batches of batchRows", async () => {
    const got = await batches(fixture("arrow-js.arrows"), { format: "arrow", batchRows: 4 });
    expect(got.map((b) => [b.first, b.rows.length])).toEqual([
      [0, 4],
      [4, 4],
      [8, 2],
    ]);
  });

  it("reads an Arrow stream gzip-compressed", async () => {
    expect(await rows(gzipSync(fixture("arrow-js.arrows")), { format: "arrow", gzip: true }, 64)).toEqual(EXPECTED);
  });
});

describe("Arrow types beyond the fixtures", () => {
  it("reads them exactly (written with apache-arrow here, in Node)", async () => {
    const n = 3;
    const valid = (nulls: number[]) => {
      const bitmap = new Uint8Array(1);
      for (let i = 0; i < n; i++) if (!nulls.includes(i)) bitmap[0] |= 1 << i;
      return { nullBitmap: bitmap, nullCount: nulls.length };
    };
    const raw = (type: any, data: any, nulls: number[] = []) => makeData({ type, length: n, data, ...valid(nulls) });
    const entries = new Struct([new Field("key", new Utf8(), false), new Field("value", new Int32(), true)]);
    const columns: Record<string, Data> = {
      i8: raw(new Int8(), Int8Array.of(-128, 0, 127)),
      u64: raw(new Uint64(), BigUint64Array.of(0n, 18446744073709551615n, 1n)),
      ts_s: raw(new TimestampSecond(), BigInt64Array.of(0n, -1n, 1700000000n)),
      ts_ns: raw(new TimestampNanosecond("Europe/Paris"), BigInt64Array.of(1n, -1n, 1700000000123456789n)),
      time_us: raw(new TimeMicrosecond(), BigInt64Array.of(0n, 86399999999n, 45296000001n)),
      date_ms: raw(new DateMillisecond(), BigInt64Array.of(0n, -86400000n, 1709164800000n), [0]),
      bin: vectorFromArray([Uint8Array.of(0, 255), null, Uint8Array.of()], new Binary()).data[0],
      fixed: raw(new FixedSizeBinary(2), Uint8Array.of(1, 2, 3, 4, 5, 6), [1]),
      large: vectorFromArray(["a", null, "ü"], new LargeUtf8()).data[0],
      pair: makeData({ type: new FixedSizeList(2, new Field("x", new Int32(), true)), length: n, nullCount: 0, child: makeData({ type: new Int32(), length: 6, data: Int32Array.of(1, 2, 3, 4, 5, 6) }) }),
      map: vectorFromArray([new Map([["a", 1], ["b", null]]), null, new Map()], new Map_(new Field("entries", entries, false))).data[0],
    };
    const table = new Table(columns as any);
    expect(table.schema.fields.map((f) => String(f.type))).toContain("Timestamp<NANOSECOND, Europe/Paris>");
    const got = await rows(tableToIPC(table, "stream"), { format: "arrow" });
    expect(got).toEqual([
      { i8: -128, u64: 0n, ts_s: "1970-01-01T00:00:00", ts_ns: "1970-01-01T00:00:00.000000001+00:00", time_us: "00:00:00", date_ms: null, bin: "AP8=", fixed: "AQI=", large: "a", pair: [1, 2], map: { a: 1, b: null } },
      { i8: 0, u64: 18446744073709551615n, ts_s: "1969-12-31T23:59:59", ts_ns: "1969-12-31T23:59:59.999999999+00:00", time_us: "23:59:59.999999", date_ms: "1969-12-31", bin: null, fixed: null, large: null, pair: [3, 4], map: null },
      { i8: 127, u64: 1n, ts_s: "2023-11-14T22:13:20", ts_ns: "2023-11-14T22:13:20.123456789+00:00", time_us: "12:34:56.000001", date_ms: "2024-02-29", bin: "", fixed: "BQY=", large: "ü", pair: [5, 6], map: {} },
    ]);
  });
});

describe("broken Arrow IPC", () => {
  it("refuses a truncated stream rather than ending early, even when cut between two messages", async () => {
    const bytes = fixture("arrow-js.arrows");
    // Messages start with the continuation marker FFFFFFFF at 8-byte boundaries: cut right there too.
    const boundaries: number[] = [];
    for (let p = 8; p < bytes.length; p += 8) if (bytes[p] === 0xff && bytes[p + 1] === 0xff && bytes[p + 2] === 0xff && bytes[p + 3] === 0xff) boundaries.push(p);
    expect(boundaries.length).toBeGreaterThanOrEqual(4); // dictionary, two record batches, end-of-stream
    for (const cut of [3, 100, Math.floor(bytes.length / 2), bytes.length - 20, bytes.length - 4, ...boundaries]) {
      const e = await failure(bytes.subarray(0, cut), { format: "arrow" }, 64);
      expect(e.code).toBe("invalid_input");
      expect(e.message).toMatch(/^Arrow IPC: /);
    }
  });

  it("refuses a truncated file", async () => {
    const bytes = fixture("arrow-js.arrow");
    const e = await failure(bytes.subarray(0, bytes.length - 10), { format: "arrow" });
    expect(e.message).toMatch(/^Arrow IPC: /);
  });

  it("refuses bytes that are not Arrow", async () => {
    const e = await failure(fixture("python.json"), { format: "arrow" });
    expect(e.code).toBe("invalid_input");
  });
});
